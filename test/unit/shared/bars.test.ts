import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { BarFileError, CsvRecords, parseTimestamp, readBars, symbolFromFileName, type Bar, type BarReadOptions } from '../../../shared/bars';

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'bars-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HEADER = 'timestamp,open,high,low,close,volume';
const T0 = Date.UTC(2024, 0, 2, 14, 30);

function file(name: string, text: string | Buffer): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

async function read(f: string, opts: Omit<BarReadOptions, 'onBadRow'> = {}): Promise<{ bars: Bar[]; bad: BarFileError[] }> {
  const bad: BarFileError[] = [];
  const bars: Bar[] = [];
  for await (const b of readBars(f, { ...opts, onBadRow: (e) => bad.push(e) })) bars.push(b);
  return { bars, bad };
}

/** Feeds `text` to the record parser in chunks of `size` characters. */
function records(text: string, size: number): [string[], number][] {
  const out: [string[], number][] = [];
  const p = new CsvRecords((f, line) => out.push([f, line]));
  for (let i = 0; i < text.length; i += size) expect(p.push(text.slice(i, i + size))).toBeUndefined();
  expect(p.end()).toBeUndefined();
  return out;
}

describe('the timestamp rule', () => {
  it.each<[string, number | undefined]>([
    ['2023-07-03 09:30:00', Date.UTC(2023, 6, 3, 9, 30)],
    ['2023-07-03T09:30:00', Date.UTC(2023, 6, 3, 9, 30)],
    ['2023-07-03 09:30', Date.UTC(2023, 6, 3, 9, 30)],
    ['2023-07-03 09:30:15.25', Date.UTC(2023, 6, 3, 9, 30, 15, 250)],
    ['2023-07-03 09:30:00Z', Date.UTC(2023, 6, 3, 9, 30)],
    ['2023-07-03T09:30:00-05:00', Date.UTC(2023, 6, 3, 14, 30)],
    ['2023-07-03T09:30:00+0530', Date.UTC(2023, 6, 3, 4, 0)],
    ['2023-07-03', Date.UTC(2023, 6, 3)],
    [' 2023-07-03 ', Date.UTC(2023, 6, 3)],
    ['1704187800', 1_704_187_800_000],
    ['1704187800.5', 1_704_187_800_500],
    ['1704187800000', 1_704_187_800_000],
    ['2023-02-30 09:30:00', undefined],
    ['2023-13-01 09:30:00', undefined],
    ['2023-07-03 24:00:00', undefined],
    ['2023-07-03T09:30:00+25:00', undefined],
    ['07/03/2023 09:30', undefined],
    ['yesterday', undefined],
    ['-1', undefined],
    ['', undefined],
  ])('%p', (text, expected) => {
    expect(parseTimestamp(text)).toBe(expected);
  });

  it('is the same for CSV and for a text column in Parquet (a file that replays also backtests)', async () => {
    const f = file('RULE.csv', `${HEADER}\n2024-01-02T09:30:00-05:00,1,1,1,1,1\n1704206000,1,1,1,1,1\n`);
    expect((await read(f)).bars.map((b) => b.ts)).toEqual([T0, 1_704_206_000_000]);
  });
});

describe('CSV records (RFC 4180)', () => {
  const text = 'a,"b, with comma","say ""hi"""\r\n"multi\nline",2,3\r\nplain,x,y\n"last"';
  it.each([1, 2, 3, 7, 1000])('quoted commas, doubled quotes, CRLF and line breaks inside quotes, in chunks of %p', (size) => {
    expect(records(text, size)).toEqual([
      [['a', 'b, with comma', 'say "hi"'], 1],
      [['multi\nline', '2', '3'], 2],
      [['plain', 'x', 'y'], 4],
      [['last'], 5],
    ]);
  });

  it('keeps empty fields and a quote inside an unquoted field as they are', () => {
    expect(records('a,,"",5"\n', 4)).toEqual([[['a', '', '', '5"'], 1]]);
  });

  it('reports a quoted field that never closes', () => {
    const p = new CsvRecords(() => undefined);
    p.push('a,b\n"open,1\n2\n');
    expect(p.end()).toBe(2);
  });
});

describe('readBars: CSV', () => {
  it('reads quoted cells, CRLF, a BOM, columns in any order and a symbol column', async () => {
    const f = file('quoted.csv', `\uFEFFSymbol,"Volume",close,timestamp,open,note\r\n"AAPL","1,200"x,10,2024-01-02 14:30,9,"a, b"\r\nmsft,"1200","10.5","2024-01-02 14:30",10,"say ""x"""\r\n`);
    const { bars, bad } = await read(f);
    expect(bars).toEqual([{ symbol: 'MSFT', ts: T0, open: 10, close: 10.5, volume: 1200, line: 3 }]);
    expect(bad.map((e) => e.message)).toEqual(['quoted.csv:2: volume "1,200x" is not a number']);
  });

  it('takes the symbol from the option, else the file name', async () => {
    const body = `${HEADER}\n2024-01-02 14:30:00,1,1,1,2,3\n`;
    expect((await read(file('aapl_1m.csv', body))).bars[0]?.symbol).toBe('AAPL');
    expect((await read(file('aapl_1m.csv', body), { symbol: 'IBM' })).bars[0]?.symbol).toBe('IBM');
    expect(symbolFromFileName('/x/BRK-B.parquet')).toBe('BRK-B');
    expect(symbolFromFileName('spy.csv.gz')).toBe('SPY');
    expect(symbolFromFileName('my data.csv')).toBe('MY');
    expect(symbolFromFileName('no!.csv')).toBeUndefined();
  });

  it('reads gzipped CSV by its magic bytes', async () => {
    const f = file('GZ.csv.gz', gzipSync(`${HEADER}\n2024-01-02 14:30:00,1,1,1,2,3\n`));
    expect((await read(f)).bars).toEqual([{ symbol: 'GZ', ts: T0, open: 1, close: 2, volume: 3, line: 2 }]);
  });

  it('names file, line and column of each bad row and goes on', async () => {
    const rows = [
      'garbage,1,1,1,1,1',
      '2024-01-02 14:30,abc,1,1,1,1',
      '2024-01-02 14:30,1,1,1,,1',
      '2024-01-02 14:30,1,1,1,0x10,1',
      '2024-01-02 14:30,1,1,1,Infinity,1',
      '2024-01-02 14:30,1,1,1,0,1',
      '2024-01-02 14:30,1,1,1,1,-5',
      '2024-01-02 14:30,1,1,1,1',
      '2024-01-02 14:30,1,0,1,1,1',
      '2100-01-01,1,1,1,1,1',
      '2024-01-02 14:30,1.5,2,.5,1.25e2,0',
    ];
    const { bars, bad } = await read(file('BAD.csv', `${HEADER}\n${rows.join('\n')}\n`));
    expect(bars).toEqual([{ symbol: 'BAD', ts: T0, open: 1.5, close: 125, volume: 0, line: 12 }]);
    expect(bad.map((e) => [e.line, e.column, e.message])).toEqual([
      [2, 'timestamp', 'BAD.csv:2: timestamp "garbage" is not a timestamp (ISO 8601 or epoch seconds/ms)'],
      [3, 'open', 'BAD.csv:3: open "abc" is not a number'],
      [4, 'close', 'BAD.csv:4: close "" is not a number'],
      [5, 'close', 'BAD.csv:5: close "0x10" is not a number'],
      [6, 'close', 'BAD.csv:6: close "Infinity" is not a number'],
      [7, 'close', 'BAD.csv:7: close must be positive, got 0'],
      [8, 'volume', 'BAD.csv:8: volume must be non-negative, got -5'],
      [9, 'volume', 'BAD.csv:9: volume "" is not a number'],
      [10, 'high', 'BAD.csv:10: high must be positive, got 0'],
      [11, 'timestamp', 'BAD.csv:11: timestamp "2100-01-01" is out of range: must be before 2100-01-01 (epoch ms 4102444800000)'],
    ]);
    expect(bad.every((e) => e instanceof BarFileError && e.file.endsWith('BAD.csv'))).toBe(true);
  });

  it('throws a bad row when no handler is given', async () => {
    const f = file('STRICT.csv', `${HEADER}\n2024-01-02 14:30,1,1,1,abc,1\n`);
    await expect(async () => {
      for await (const _ of readBars(f)) void _;
    }).rejects.toThrow('STRICT.csv:2: close "abc" is not a number');
  });

  it.each<[string, string | Buffer, RegExp]>([
    ['nohead.csv', '2024-01-02 14:30,1,1,1,1,1\n', /^nohead\.csv:1: header lacks column "timestamp", "open", "close", "volume"/],
    ['NOCLOSE.csv', 'timestamp,open,volume\n', /^NOCLOSE\.csv:1: header lacks column "close"/],
    ['EMPTY.csv', '\n\n', /^EMPTY\.csv: empty file/],
    ['no!.csv', `${HEADER}\n`, /no symbol column, no symbol given/],
    ['QUOTE.csv', `${HEADER}\n"2024-01-02,1,1,1,1,1\n`, /^QUOTE\.csv:2: a quoted field opens here and is not closed/],
    ['BROKEN.csv.gz', Buffer.from([0x1f, 0x8b, 1, 2, 3]), /^BROKEN\.csv\.gz: /],
  ])('refuses %p as a whole', async (name, body, message) => {
    const f = file(name, body);
    const err = await read(f).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BarFileError);
    expect((err as Error).message).toMatch(message);
  });

  it('refuses a missing file with the cause kept', async () => {
    const err = await read(join(dir, 'missing.csv')).then(
      () => undefined,
      (e: unknown) => e as BarFileError,
    );
    expect(err?.message).toMatch(/^missing\.csv: .*ENOENT/);
    expect((err?.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
  });
});

describe('readBars: Parquet', () => {
  async function parquet(name: string, select: string): Promise<string> {
    const f = join(dir, name);
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    try {
      await conn.run(`COPY (${select}) TO '${f}' (FORMAT parquet)`);
    } finally {
      conn.closeSync();
      db.closeSync();
    }
    return f;
  }

  it('round-trips TIMESTAMP, epoch and text timestamps, in time order where the column allows', async () => {
    const f = await parquet(
      'rt.parquet',
      `SELECT * FROM (VALUES
         ('MSFT', TIMESTAMP '2024-01-02 14:31:00', 10.25, 11.0, 11.0, 10.0, 500),
         ('AAPL', TIMESTAMP '2024-01-02 14:30:00', 100.0, 100.5, 101.0, 99.0, 1000)
       ) t(symbol, "timestamp", open, close, high, low, volume)`,
    );
    expect((await read(f)).bars).toEqual([
      { symbol: 'AAPL', ts: T0, open: 100, close: 100.5, volume: 1000, line: 2 },
      { symbol: 'MSFT', ts: T0 + 60_000, open: 10.25, close: 11, volume: 500, line: 1 },
    ]);

    const epoch = await parquet('EP.parquet', `SELECT * FROM (VALUES (${T0 / 1000 + 60}, 1.5, 2.5, 7), (${T0 / 1000}, 1.0, 2.0, 3)) t("timestamp", open, close, volume)`);
    expect((await read(epoch)).bars.map((b) => [b.symbol, b.ts, b.close])).toEqual([
      ['EP', T0, 2],
      ['EP', T0 + 60_000, 2.5],
    ]);

    const text = await parquet('TXT.parquet', `SELECT * FROM (VALUES ('2024-01-02T09:30:00-05:00', '1', '2', '3'), ('nope', '1', '2', '3')) t("timestamp", open, close, volume)`);
    const r = await read(text);
    expect(r.bars).toEqual([{ symbol: 'TXT', ts: T0, open: 1, close: 2, volume: 3, line: 1 }]);
    expect(r.bad.map((e) => e.message)).toEqual(['TXT.parquet row 2: timestamp "nope" is not a timestamp (ISO 8601 or epoch seconds/ms)']);
  });

  it('names a NULL and a missing column', async () => {
    const f = await parquet('NUL.parquet', `SELECT TIMESTAMP '2024-01-02 14:30:00' AS "timestamp", 1.0 AS open, NULL::DOUBLE AS close, 1 AS volume`);
    expect((await read(f)).bad.map((e) => e.message)).toEqual(['NUL.parquet row 1: close null is not a number']);
    const g = await parquet('NOVOL.parquet', `SELECT TIMESTAMP '2024-01-02 14:30:00' AS "timestamp", 1.0 AS open, 1.0 AS close`);
    await expect(read(g)).rejects.toThrow('NOVOL.parquet: Parquet file lacks column "volume"');
  });
});
