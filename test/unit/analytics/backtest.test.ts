import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { DuckDBInstance } from '@duckdb/node-api';
import { ENRICHED_COLUMNS } from '../../../shared/enriched';
import type { EnrichedTick } from '../../../shared/enriched';
import { parseTimestamp } from '../../../shared/bars';
import { CSV_COLUMNS, CrossoverStrategy, PreviousClose, csvHeader, csvRow } from '../../../cli/backtest-core';
import type { BarPrices } from '../../../cli/backtest-core';
import { UsageError, main, parseBacktestArgs, runBacktest } from '../../../cli/backtest';
import { formatReport } from '../../../cli/backtest-report';
import { randomWalk } from './factories';

function bar(ts: string, open: number, close: number): BarPrices {
  return { ts: parseTimestamp(ts) as number, open, close, volume: 1 };
}

function collect(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

describe('previous close', () => {
  it("is the first open on day one, then the previous trading date's last close", () => {
    const pc = new PreviousClose();
    const got = [
      pc.next(bar('2023-07-06 13:30:00', 100, 101)),
      pc.next(bar('2023-07-06 19:59:00', 101, 102)),
      pc.next(bar('2023-07-07 13:30:00', 103, 104)),
      pc.next(bar('2023-07-07 19:59:00', 104, 105)),
      // over a weekend: Friday's last close
      pc.next(bar('2023-07-10 13:30:00', 106, 107)),
    ];
    expect(got).toEqual([100, 100, 102, 102, 105]);
  });
});

describe('crossover strategy statistics (computed by hand)', () => {
  it('long on BUY, flat on SELL, open trade marked at the last close', () => {
    const s = new CrossoverStrategy();
    const bars: [number, 'BUY' | 'SELL' | null][] = [
      [100, null],
      [110, 'BUY'], // enter at 110
      [121, null], // equity 1.1 (peak)
      [99, null], // equity 0.9
      [88, 'SELL'], // exit: 88/110 − 1 = −20 %, equity 0.8 (trough)
      [80, 'SELL'], // already flat: ignored
      [100, 'BUY'], // enter at 100
      [120, null], // end: open trade +20 %, equity 0.96
    ];
    bars.forEach(([close, signal], i) => s.onBar(i * 60_000, close, signal));
    const st = s.stats();
    expect(st.trades).toEqual([
      { entryTs: 60_000, entryPrice: 110, exitTs: 240_000, exitPrice: 88, return: 88 / 110 - 1, open: false },
      { entryTs: 360_000, entryPrice: 100, exitTs: 420_000, exitPrice: 120, return: 120 / 100 - 1, open: true },
    ]);
    expect(st.bars).toBe(8);
    expect(st.wins).toBe(1);
    expect(st.winRate).toBe(0.5);
    expect(st.totalReturn).toBeCloseTo(0.8 * 1.2 - 1, 12);
    expect(st.buyAndHoldReturn).toBeCloseTo(0.2, 12);
    expect(st.maxDrawdown).toBeCloseTo(1 - 0.8 / 1.1, 12);
    expect(st.buyAndHoldMaxDrawdown).toBeCloseTo(1 - 80 / 121, 12);
    const report = formatReport(
      { symbol: 'X', file: 'x.csv', lines: 9, barsApplied: 8, badRows: 0, outOfOrderRows: 0, firstTs: 0, lastTs: 420_000, signals: { BUY: 2, SELL: 2 }, alerts: { BUY: 2, SELL: 2, ANOMALY: 0, VOLUME_SPIKE: 0 }, strategy: st, elapsedSeconds: 1 },
      false,
    );
    expect(report).toContain('win rate: 50.00 % (1 of 2)');
    expect(report).toContain('total return: -4.00 % (buy and hold: +20.00 %)');
    expect(report).toContain('max drawdown: 27.27 % (buy and hold: 33.88 %)');
  });

  it('no trades: no win rate, no drawdown', () => {
    const s = new CrossoverStrategy();
    s.onBar(0, 10, null);
    s.onBar(1, 5, 'SELL');
    expect(s.stats()).toMatchObject({ trades: [], winRate: null, totalReturn: 0, maxDrawdown: 0, buyAndHoldReturn: -0.5, buyAndHoldMaxDrawdown: 0.5 });
  });
});

describe('CSV output', () => {
  it("uses the lake's column names, then dt", () => {
    expect(CSV_COLUMNS).toEqual([...ENRICHED_COLUMNS.map((c) => c.name), 'dt']);
    expect(csvHeader().split(',')).toEqual(CSV_COLUMNS);
  });

  it('writes timestamps as ISO UTC, nulls as empty cells, numbers exactly, quotes when needed', () => {
    const row: EnrichedTick = {
      symbol: 'A,B',
      ts: Date.UTC(2023, 6, 3, 9, 30),
      dt: '2023-07-03',
      price: 0.1 + 0.2,
      volume: 0,
      previous_close: 1,
      change_pct: -0,
      tick_change_pct: null,
      sma5: null,
      sma20: null,
      ema12: null,
      rsi14: null,
      bb_upper: null,
      bb_lower: null,
      vwap: 1e21,
      volume_avg: null,
      volume_ratio: null,
      signal: 'BUY',
      anomaly: true,
      volume_spike: false,
      market_state: null,
      source: 'say "hi"',
      produced_at: 0,
    };
    const cells = csvRow(row);
    expect(cells).toBe('"A,B",2023-07-03T09:30:00.000Z,0.30000000000000004,0,1,0,,,,,,,,1e+21,,,BUY,true,false,,"say ""hi""",1970-01-01T00:00:00.000Z,2023-07-03');
  });
});

describe('backtest CLI', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'backtest-test-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function writeBars(name: string, n: number, extra: (lines: string[]) => void = () => undefined): Promise<string> {
    const closes = randomWalk(n, 17, 100, 0.004);
    const lines = ['timestamp,open,high,low,close,volume'];
    closes.forEach((c, i) => {
      const t = new Date(Date.UTC(2023, 6, 3, 13, 30) + Math.floor(i / 390) * 86_400_000 + (i % 390) * 60_000);
      lines.push(`${t.toISOString().slice(0, 19).replace('T', ' ')},${c},${c},${c},${c},${1000 + (i % 7) * 100}`);
    });
    extra(lines);
    const file = path.join(dir, name);
    await writeFile(file, `${lines.join('\r\n')}\r\n`);
    return file;
  }

  it('parses arguments', () => {
    expect(parseBacktestArgs(['--csv', '/x/msft.csv'])).toEqual({ csv: '/x/msft.csv', symbol: 'MSFT', out: undefined, json: false, allTrades: false });
    expect(parseBacktestArgs(['--csv', 'my bars.csv']).symbol).toBe('BACKTEST');
    expect(parseBacktestArgs(['--csv', 'a.csv', '--symbol', 'BRK.A', '--out', 'o.parquet', '--json']).out).toBe('o.parquet');
    expect(() => parseBacktestArgs([])).toThrow(UsageError);
    expect(() => parseBacktestArgs(['--csv', 'a.csv', '--out', 'o.txt'])).toThrow(/--out must end in .csv or .parquet/);
    expect(() => parseBacktestArgs(['--csv', 'a.csv', '--symbol', 'aapl'])).toThrow(UsageError);
    expect(() => parseBacktestArgs(['--csv', 'a.csv', '--bogus'])).toThrow(UsageError);
  });

  it('skips and reports bad and out-of-order rows by line number, and writes every applied row to CSV', async () => {
    const file = await writeBars('aapl.csv', 800, (lines) => {
      lines.splice(5, 0, '2023-07-03 13:33:30,1,1,1,oops,1'); // line 6
      lines.splice(10, 0, '2023-07-03 13:31:00,1,1,1,1,1'); // line 11: older than the bar before it
      lines.splice(20, 0, ''); // blank lines are not rows
    });
    const out = path.join(dir, 'rows.csv');
    const err = collect();
    const s = await runBacktest({ csv: file, symbol: 'AAPL', out, json: false, allTrades: false }, { stderr: err.stream });
    expect(s).toMatchObject({ lines: 804, barsApplied: 800, badRows: 1, outOfOrderRows: 1 });
    expect(err.text()).toContain('aapl.csv:6: close "oops" is not a number; skipped');
    expect(err.text()).toContain('aapl.csv:11: timestamp 2023-07-03T13:31:00.000Z is not after the previous bar\'s; skipped');
    const csv = (await readFile(out, 'utf8')).trimEnd().split('\n');
    expect(csv).toHaveLength(801);
    expect(csv[0]).toBe(csvHeader());
    const signalCol = CSV_COLUMNS.indexOf('signal');
    const buys = csv.slice(1).filter((l) => l.split(',')[signalCol] === 'BUY').length;
    const sells = csv.slice(1).filter((l) => l.split(',')[signalCol] === 'SELL').length;
    expect([buys, sells]).toEqual([s.signals.BUY, s.signals.SELL]);
    expect(s.signals.BUY).toBeGreaterThan(0);
    expect(s.strategy.trades.length).toBe(s.signals.BUY);
  });

  it('writes Parquet with the lake schema plus dt, in order', async () => {
    const file = await writeBars('pq.csv', 1500);
    const out = path.join(dir, 'rows.parquet');
    const s = await runBacktest({ csv: file, symbol: 'PQ', out, json: false, allTrades: false }, { stderr: collect().stream });
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    try {
      const cols = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${out}')`)).getRowObjectsJson().map((r) => r.column_name);
      expect(cols).toEqual(CSV_COLUMNS);
      const rows = (await conn.runAndReadAll(`SELECT epoch_ms(ts)::DOUBLE AS t, sma20, dt FROM read_parquet('${out}')`)).getRowObjectsJson();
      expect(rows).toHaveLength(s.barsApplied);
      const ts = rows.map((r) => Number(r.t));
      expect(ts.every((t, i) => i === 0 || t > (ts[i - 1] as number))).toBe(true);
      expect(rows[1499]?.dt).toBe('2023-07-06');
    } finally {
      conn.closeSync();
      db.closeSync();
    }
  });

  it('prints a progress line about once a second on long files', async () => {
    const file = await writeBars('long.csv', 5000);
    let clock = 0;
    const err = collect();
    await runBacktest({ csv: file, symbol: 'LONG', out: undefined, json: false, allTrades: false }, { stderr: err.stream, now: () => (clock += 250) });
    expect(err.text()).toMatch(/^\[backtest\] [\d,]+ lines, [\d,]+ bars applied, [\d,]+ lines\/s$/m);
  });

  it('main: exit codes and output', async () => {
    const file = await writeBars('main.csv', 300);
    const out = collect();
    const err = collect();
    expect(await main(['--csv', file, '--symbol', 'M', '--json'], out.stream, err.stream)).toBe(0);
    expect(JSON.parse(out.text())).toMatchObject({ symbol: 'M', barsApplied: 300 });
    expect(await main([], out.stream, err.stream)).toBe(2);
    const headerless = path.join(dir, 'nohead.csv');
    await writeFile(headerless, '2023-07-03 13:30:00,1,1,1,1,1\n');
    expect(await main(['--csv', headerless], out.stream, err.stream)).toBe(2);
    expect(err.text()).toContain('nohead.csv:1: header lacks column "timestamp", "open", "close", "volume"');
    const empty = path.join(dir, 'empty.csv');
    await writeFile(empty, '');
    expect(await main(['--csv', empty], out.stream, err.stream)).toBe(2);
    expect(await main(['--csv', path.join(dir, 'missing.csv')], out.stream, err.stream)).toBe(1);
    expect(err.text()).toMatch(/backtest failed: .*ENOENT/);
  });
});
