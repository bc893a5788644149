/**
 * Named queries on a lake built from a known input through the lake sink,
 * checked against results this test computes itself in TypeScript.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { athenaTable } from '../../../lake/athena';
import { lakeViewSql, queryLocalLake } from '../../../lake/duckdb';
import type { Cell } from '../../../lake/query';
import { LakeSink } from '../../../consumer/sinks/lake-sink';
import type { EnrichedTick } from '../../../shared/enriched';
import { closeDuckdb, duckdb } from '../../../shared/parquet';
import { NAMED_QUERIES, renderQuery } from '../../../shared/queries';
import { knownInput } from '../../unit/consumer/factories';

jest.setTimeout(120_000);
const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..', '..');

let dataDir: string;
let lake: string;
let filesPerSink: number[] = [];
// 2,000 rows over 2 UTC days, 40 of them without a previous close (tick v2)
const input = knownInput({ perSymbol: 400, seed: 7, noPreviousCloseEvery: 50 });
/** Rows that have a change against a previous close. */
const moved = input.filter((r): r is EnrichedTick & { change_pct: number } => r.change_pct !== null);

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'tickstream-query-'));
  lake = path.join(dataDir, 'lake');
  // Two shards' processors, each with its own sink and small buffers, so the
  // lake has many files in both partitions, as a real run leaves it.
  const shardOf = (s: string): number => (s.charCodeAt(0) + s.length) % 2;
  const sinks = [0, 1].map((k) => new LakeSink({ dataDir, workerId: `w${k}`, shardId: `shardId-00000000000${k}`, maxRows: 333, flushIntervalMs: 0 }));
  for (let i = 0; i < input.length; i += 100) {
    const batch = input.slice(i, i + 100);
    for (const [k, sink] of sinks.entries()) await sink.write(batch.filter((r) => shardOf(r.symbol) === k));
  }
  for (const s of sinks) await s.close();
  filesPerSink = sinks.map((s) => s.stats.filesWritten);
});

afterAll(async () => {
  await closeDuckdb();
  await rm(dataDir, { recursive: true, force: true });
});

const iso = (ms: number): string => new Date(ms).toISOString();
const byTsSymbol = (a: EnrichedTick, b: EnrichedTick): number => a.ts - b.ts || (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0);

async function named(name: keyof typeof NAMED_QUERIES): Promise<Record<string, Cell>[]> {
  const res = await queryLocalLake(lake, NAMED_QUERIES[name].sql);
  return res.rows.map((r) => Object.fromEntries(res.columns.map((c, i) => [c, r[i] ?? null])));
}

describe('named queries on the local lake', () => {
  it('the lake holds every input row exactly once, across many files of two writers', async () => {
    expect(filesPerSink.every((n) => n > 2)).toBe(true);
    const res = await queryLocalLake(lake, 'SELECT COUNT(*) AS n, COUNT(DISTINCT symbol || CAST(ts AS VARCHAR)) AS d, MIN(dt) AS lo, MAX(dt) AS hi FROM {{table}}');
    expect(res.rows).toEqual([[input.length, input.length, '2024-03-01', '2024-03-02']]);
  });

  it('a date range reads only those dt partitions', async () => {
    const count = (pred: (dt: string) => boolean): number => input.filter((r) => pred(r.dt)).length;
    const one = await queryLocalLake(lake, 'SELECT COUNT(*) AS n, MIN(dt) AS lo, MAX(dt) AS hi FROM {{table}}', { from: '2024-03-02', to: '2024-03-02' });
    expect(one.rows).toEqual([[count((d) => d === '2024-03-02'), '2024-03-02', '2024-03-02']]);
    const upTo = await queryLocalLake(lake, 'SELECT COUNT(*) AS n FROM {{table}}', { to: '2024-03-01' });
    expect(upTo.rows).toEqual([[count((d) => d <= '2024-03-01')]]);
    expect(count((d) => d === '2024-03-02')).toBeGreaterThan(0);
  });

  it('top-movers: the largest |change_pct| per symbol (latest tick on a tie), biggest first', async () => {
    const best = new Map<string, (typeof moved)[number]>();
    expect(moved.length).toBe(input.length - 40);
    for (const r of moved) {
      const b = best.get(r.symbol);
      if (!b || Math.abs(r.change_pct) > Math.abs(b.change_pct) || (Math.abs(r.change_pct) === Math.abs(b.change_pct) && r.ts > b.ts)) best.set(r.symbol, r);
    }
    const expected = [...best.values()]
      .sort((a, b) => Math.abs(b.change_pct) - Math.abs(a.change_pct) || (a.symbol < b.symbol ? -1 : 1))
      .map((r) => ({ symbol: r.symbol, ts: iso(r.ts), price: r.price, previous_close: r.previous_close, change_pct: r.change_pct }));
    expect(expected).toHaveLength(5);
    expect(await named('top-movers')).toEqual(expected);
  });

  it('volume-by-hour: total volume and tick count per symbol per UTC hour', async () => {
    const groups = new Map<string, { symbol: string; hour: number; total_volume: number; ticks: number }>();
    for (const r of input) {
      const hour = Math.floor(r.ts / 3_600_000) * 3_600_000;
      const k = `${hour}|${r.symbol}`;
      const g = groups.get(k) ?? { symbol: r.symbol, hour, total_volume: 0, ticks: 0 };
      g.total_volume += r.volume;
      g.ticks++;
      groups.set(k, g);
    }
    const expected = [...groups.values()]
      .sort((a, b) => a.hour - b.hour || (a.symbol < b.symbol ? -1 : 1))
      .map((g) => ({ symbol: g.symbol, hour_start: iso(g.hour), total_volume: g.total_volume, ticks: g.ticks }));
    expect(expected.length).toBeGreaterThan(30);
    expect(await named('volume-by-hour')).toEqual(expected);
  });

  it('anomalies: every tick with |change_pct| > 5, in time order', async () => {
    const expected = moved
      .filter((r) => Math.abs(r.change_pct) > 5)
      .sort(byTsSymbol)
      .map((r) => ({ symbol: r.symbol, ts: iso(r.ts), price: r.price, previous_close: r.previous_close, change_pct: r.change_pct }));
    expect(expected.length).toBeGreaterThan(100);
    expect(await named('anomalies')).toEqual(expected);
  });

  it('signals: every BUY/SELL with its SMAs, in time order', async () => {
    const expected = input
      .filter((r) => r.signal !== null)
      .sort(byTsSymbol)
      .map((r) => ({ symbol: r.symbol, ts: iso(r.ts), signal: r.signal, price: r.price, sma5: r.sma5, sma20: r.sma20 }));
    expect(expected.length).toBeGreaterThan(10);
    expect(await named('signals')).toEqual(expected);
  });
});

describe('query CLI', () => {
  const cli = (args: string[]): Promise<{ stdout: string; stderr: string }> =>
    run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'cli', 'query.ts'), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, TICKSTREAM_MODE: 'local' },
      maxBuffer: 64 * 1024 * 1024,
    });

  it('prints a named query as json, csv and a table', async () => {
    const expected = moved.filter((r) => Math.abs(r.change_pct) > 5).sort(byTsSymbol);
    const json = JSON.parse((await cli(['anomalies', '--format', 'json', '--lake', lake])).stdout) as { symbol: string; ts: string }[];
    expect(json.map((r) => [r.symbol, r.ts])).toEqual(expected.map((r) => [r.symbol, iso(r.ts)]));
    const csv = (await cli(['anomalies', '--format', 'csv', '--lake', lake])).stdout.trimEnd().split('\n');
    expect(csv[0]).toBe('symbol,ts,price,previous_close,change_pct');
    expect(csv).toHaveLength(expected.length + 1);
    const table = (await cli(['top-movers', '--lake', lake])).stdout;
    expect(table.split('\n')[0]).toMatch(/^symbol +\| ts +\| +price \| previous_close \| change_pct$/);
    expect(table).toContain('(5 rows)');
  });

  it('runs raw SQL against the ticks view', async () => {
    const { stdout } = await cli(['SELECT symbol, COUNT(*) AS n FROM ticks GROUP BY symbol ORDER BY symbol', '--format', 'csv', '--lake', lake]);
    expect(stdout).toBe('symbol,n\nAAPL,400\nBRK.B,400\nMSFT,400\nNVDA,400\nTSLA,400\n');
  });

  it('fails with exit code 1 and a readable message when there is no lake, and 2 on bad usage', async () => {
    const missing = await cli(['anomalies', '--lake', path.join(dataDir, 'nope')]).catch((e: unknown) => e as { code: number; stderr: string });
    expect(missing).toMatchObject({ code: 1 });
    expect((missing as { stderr: string }).stderr).toMatch(/^query failed: no lake at /);
    const usage = await cli(['--format', 'xml']).catch((e: unknown) => e as { code: number; stderr: string });
    expect(usage).toMatchObject({ code: 2 });
    expect((usage as { stderr: string }).stderr).toContain('usage: npm run query');
  });
});

describe('the Athena table reference', () => {
  it('runs every named query unchanged through the DISTINCT wrapper, which removes Firehose-style duplicate rows', async () => {
    // DuckDB plays Athena here: a schema "db" whose ticks table holds every row twice.
    const conn = await (await duckdb()).connect();
    try {
      await conn.run(lakeViewSql(lake));
      await conn.run('CREATE SCHEMA IF NOT EXISTS db');
      await conn.run('CREATE OR REPLACE TABLE db.ticks AS SELECT * FROM ticks UNION ALL SELECT * FROM ticks');
      for (const name of Object.keys(NAMED_QUERIES) as (keyof typeof NAMED_QUERIES)[]) {
        const onDuplicates = await conn.runAndReadAll(renderQuery(NAMED_QUERIES[name].sql, athenaTable('db')));
        const onLake = await conn.runAndReadAll(renderQuery(NAMED_QUERIES[name].sql, 'ticks'));
        expect({ name, rows: onDuplicates.getRowsJson() }).toEqual({ name, rows: onLake.getRowsJson() });
      }
    } finally {
      conn.closeSync();
    }
  });
});
