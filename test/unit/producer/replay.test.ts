import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { BarFileError, type Bar } from '../../../shared/bars';
import { ReplaySource, mergeBars, type ReplaySourceOptions } from '../../../producer/sources/replay';
import type { Tick } from '../../../shared/tick';
import { FakeClock, captureLogs } from './helpers';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'replay-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function csv(name: string, rows: string[], header = 'timestamp,open,high,low,close,volume'): string {
  const file = join(dir, name);
  writeFileSync(file, [header, ...rows].join('\n') + '\n');
  return file;
}

async function collect(opts: Omit<ReplaySourceOptions, 'logger'>, limit = Infinity): Promise<{ ticks: Tick[]; clock: FakeClock; source: ReplaySource }> {
  const clock = new FakeClock();
  const source = new ReplaySource({ speed: Infinity, ...opts, logger: captureLogs().logger, clock });
  const ac = new AbortController();
  const ticks: Tick[] = [];
  for await (const batch of source.ticks(ac.signal)) {
    ticks.push(...batch);
    if (ticks.length >= limit) ac.abort();
  }
  return { ticks, clock, source };
}

const brief = (t: Tick): string => `${t.symbol}@${new Date(t.ts).toISOString()}=${t.price}/${t.previousClose}`;

describe('ReplaySource', () => {
  it('refuses bars beyond the tick bounds without letting them spoil the ticks after them', async () => {
    const file = csv('MIX.csv', [
      '2024-01-02 14:30:00,100,101,99,100.5,1000',
      // a close no store can hold: it must not become the next day's previous close
      '2024-01-02 14:31:00,100,101,99,1e130,1000',
      '2024-01-02 14:32:00,100.5,102,100,101,1200',
      // past the last date JavaScript can print: it must not move the symbol's day
      '9000000000000000,101,102,100,101.5,10',
      '2024-01-03 14:30:00,101,103,100,102,900',
      'not-a-time,101,103,100,102,900',
      '2024-01-03 14:31:00,102,103,101,103,2e15',
      '2024-01-03 14:32:00,102,103,101,103.5,800',
    ]);
    const { ticks, source } = await collect({ csvFiles: [file] });
    expect(ticks.map(brief)).toEqual([
      'MIX@2024-01-02T14:30:00.000Z=100.5/100',
      'MIX@2024-01-02T14:32:00.000Z=101/100',
      'MIX@2024-01-03T14:30:00.000Z=102/101',
      'MIX@2024-01-03T14:32:00.000Z=103.5/101',
    ]);
    expect(source.metrics.refusals()).toEqual({
      total: 4,
      byReason: {
        'price: must be at most 1000000000000': 1,
        // one out of the tick bounds, named by the bound as the writer would name it
        'ts: must be before 2100-01-01 (epoch ms 4102444800000)': 1,
        // one not a timestamp at all
        'bad timestamp': 1,
        'volume: must be at most 1000000000000000': 1,
      },
    });
  });

  it('merges single-symbol files in time order with previousClose from the previous date', async () => {
    const aapl = csv('AAPL.csv', [
      '2024-01-02 14:30:00,100,101,99,100.5,1000',
      '2024-01-02 14:32:00,100.5,102,100,101,1200',
      '2024-01-03 14:30:00,101,103,100,102,900',
      '2024-01-03 14:31:00,102,103,101,103,800',
    ]);
    const msft = csv('msft.csv', ['2024-01-02 14:31:00,370,371,369,370.5,500', '2024-01-03 14:30:00,371,372,370,372,600']);
    const { ticks } = await collect({ csvFiles: [aapl, msft] });
    expect(ticks.map(brief)).toEqual([
      'AAPL@2024-01-02T14:30:00.000Z=100.5/100',
      'MSFT@2024-01-02T14:31:00.000Z=370.5/370',
      'AAPL@2024-01-02T14:32:00.000Z=101/100',
      'AAPL@2024-01-03T14:30:00.000Z=102/101',
      'MSFT@2024-01-03T14:30:00.000Z=372/370.5',
      'AAPL@2024-01-03T14:31:00.000Z=103/101',
    ]);
    expect(ticks.every((t) => t.source === 'replay' && t.v === 2 && t.tz === undefined)).toBe(true);
    expect(ticks[0]?.volume).toBe(1000);
  });

  it("rolls the previous close over at the exchange's trading day, not the UTC date, and tags ticks with the zone", async () => {
    // Sydney (UTC+11 in January): 22:30 UTC on Jan 2 is 09:30 on Jan 3 there,
    // so the first two bars are two trading days within one UTC date, and the
    // last two one trading day across two UTC dates.
    const file = csv('APS.AX.csv', [
      '2024-01-02 04:30:00,0.165,0.17,0.16,0.1675,21950',
      '2024-01-02 22:30:00,0.168,0.17,0.16,0.1725,1200',
      '2024-01-02 23:45:00,0.1725,0.18,0.17,0.1775,800',
      '2024-01-03 04:00:00,0.1775,0.18,0.17,0.1815,640',
    ]);
    const sydney = await collect({ csvFiles: [file], timeZone: 'Australia/Sydney' });
    expect(sydney.ticks.map(brief)).toEqual([
      'APS.AX@2024-01-02T04:30:00.000Z=0.1675/0.165',
      'APS.AX@2024-01-02T22:30:00.000Z=0.1725/0.1675',
      'APS.AX@2024-01-02T23:45:00.000Z=0.1775/0.1675',
      'APS.AX@2024-01-03T04:00:00.000Z=0.1815/0.1675',
    ]);
    expect(sydney.ticks.every((t) => t.tz === 'Australia/Sydney')).toBe(true);
    // The same file on UTC days: a different (wrong for Sydney) previous close.
    const utc = await collect({ csvFiles: [file] });
    expect(utc.ticks.map(brief).slice(2)).toEqual(['APS.AX@2024-01-02T23:45:00.000Z=0.1775/0.165', 'APS.AX@2024-01-03T04:00:00.000Z=0.1815/0.1775']);
    expect(() => new ReplaySource({ csvFiles: [file], timeZone: 'Sydney', logger: captureLogs().logger })).toThrow(RangeError);
  });

  it('reads a symbol column, and a Parquet file, merged together', async () => {
    const multi = csv('bars.csv', ['2024-01-02T14:30:00Z,AAA,10,11,9,10,5', '2024-01-02T14:31:00Z,BBB,20,21,19,20,6'], 'timestamp,symbol,open,high,low,close,volume');
    const pq = join(dir, 'CCC.parquet');
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    await conn.run(
      `COPY (SELECT * FROM (VALUES (TIMESTAMP '2024-01-02 14:32:00', 30.0, 31.0, 29.0, 30.5, 7.0),
                                   (TIMESTAMP '2024-01-02 14:29:00', 29.0, 30.0, 28.0, 29.5, 8.0))
             AS t("timestamp", open, high, low, close, volume)) TO '${pq}' (FORMAT PARQUET)`,
    );
    conn.closeSync();
    db.closeSync();
    const { ticks } = await collect({ csvFiles: [multi], parquetFiles: [pq] });
    expect(ticks.map((t) => `${t.symbol}@${new Date(t.ts).toISOString().slice(11, 16)}`)).toEqual(['CCC@14:29', 'AAA@14:30', 'BBB@14:31', 'CCC@14:32']);
  });

  it('paces by market time at the speed factor', async () => {
    const f = csv('PACE.csv', ['2024-01-02 14:30:00,1,1,1,1,1', '2024-01-02 14:31:00,1,1,1,1.1,1', '2024-01-02 14:33:00,1,1,1,1.2,1']);
    const { ticks, clock } = await collect({ csvFiles: [f], speed: 60 });
    expect(ticks).toHaveLength(3);
    // 1 and 2 minutes of market time at 60x: 1 s then 2 s
    expect(clock.sleeps).toEqual([1_000, 2_000]);
    const real = await collect({ csvFiles: [f], speed: 1 });
    expect(real.clock.sleeps).toEqual([60_000, 120_000]);
  });

  it('loops with whole-day shifts so ticks stay strictly increasing per symbol', async () => {
    const f = csv('LOOP.csv', ['2024-01-02 14:30:00,10,10,10,10,1', '2024-01-02 20:59:00,10,10,10,11,1', '2024-01-03 14:30:00,11,11,11,12,1']);
    const { ticks } = await collect({ csvFiles: [f], loop: true }, 9);
    expect(ticks.slice(0, 9).map((t) => new Date(t.ts).toISOString().slice(0, 16))).toEqual([
      '2024-01-02T14:30',
      '2024-01-02T20:59',
      '2024-01-03T14:30',
      '2024-01-04T14:30',
      '2024-01-04T20:59',
      '2024-01-05T14:30',
      '2024-01-06T14:30',
      '2024-01-06T20:59',
      '2024-01-07T14:30',
    ]);
    for (let i = 1; i < ticks.length; i++) expect((ticks[i] as Tick).ts).toBeGreaterThan((ticks[i - 1] as Tick).ts);
    // previousClose carries over the loop boundary: the last close of 01-03 is 12
    expect(ticks[3]?.previousClose).toBe(12);
  });

  it('drops bad rows with a count, and rejects files out of time order', async () => {
    const f = csv('BAD.csv', ['2024-01-02 14:30:00,1,1,1,1,1', 'garbage,1,1,1,1,1', '2024-01-02 14:31:00,1,1,1,-5,1', '2024-01-02 14:32:00,1,1,1,2,1']);
    const { ticks, source } = await collect({ csvFiles: [f] });
    expect(ticks).toHaveLength(2);
    expect(source.metrics.get('replay.bad_rows')).toBe(2);

    const unordered = csv('ORD.csv', ['2024-01-02 14:31:00,1,1,1,1,1', '2024-01-02 14:30:00,1,1,1,1,1']);
    await expect(collect({ csvFiles: [unordered] })).rejects.toThrow(new BarFileError(unordered, 3, 'rows are not in time order for ORD; sort the file by timestamp'));
    const noHeader = csv('NOHDR.csv', ['2024-01-02 14:31:00,1,1,1,1,1'], 'time,price');
    await expect(collect({ csvFiles: [noHeader] })).rejects.toThrow(/NOHDR\.csv:1: header lacks column "timestamp"/);
  });

  it('merges lazily: each input is read only one bar ahead', async () => {
    const pulls = [0, 0, 0];
    const input = (i: number, n: number): AsyncIterator<Bar> => {
      let k = 0;
      return {
        next: () => {
          pulls[i] = (pulls[i] ?? 0) + 1;
          return Promise.resolve(k < n ? { done: false, value: { symbol: `S${i}`, ts: (k++ * 3 + i) * 1000, open: 1, close: 1, volume: 1, line: k + 1 } } : { done: true, value: undefined });
        },
      };
    };
    const merged = mergeBars([input(0, 1_000_000), input(1, 1_000_000), input(2, 1_000_000)]);
    const out: Bar[] = [];
    for await (const b of merged) {
      out.push(b);
      if (out.length === 30) break;
    }
    expect(out.map((b) => b.ts)).toEqual(Array.from({ length: 30 }, (_, i) => i * 1000));
    expect(Math.max(...pulls)).toBeLessThanOrEqual(11);
  });
});
