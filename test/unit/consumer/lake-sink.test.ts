import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SinkWriteError } from '../../../consumer/errors';
import { LakeSink, lakeFilesFrom, lakeTicksDir, readLakeHighWaterMarks } from '../../../consumer/sinks/lake-sink';
import type { EnrichedTick } from '../../../shared/enriched';
import { closeDuckdb, duckdb } from '../../../shared/parquet';
import { knownInput, tick } from './factories';

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'tickstream-lake-'));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});
afterAll(async () => {
  await closeDuckdb();
});

async function lakeFiles(): Promise<string[]> {
  const root = lakeTicksDir(dataDir);
  const out: string[] = [];
  for (const part of await readdir(root).catch(() => [] as string[])) {
    for (const f of await readdir(path.join(root, part))) out.push(`${part}/${f}`);
  }
  return out.sort();
}

async function lakeRows(): Promise<{ symbol: string; ts: number; dt: string }[]> {
  const conn = await (await duckdb()).connect();
  try {
    const glob = path.join(lakeTicksDir(dataDir), '**', '*.parquet');
    const r = await conn.runAndReadAll(
      `SELECT symbol, CAST(epoch_ms(ts) AS DOUBLE) AS ts, dt FROM read_parquet('${glob}', hive_partitioning = true, hive_types = {'dt': VARCHAR}) ORDER BY ts, symbol`,
    );
    return r.getRowObjects().map((o) => ({ symbol: String(o.symbol), ts: Number(o.ts), dt: String(o.dt) }));
  } finally {
    conn.closeSync();
  }
}

const key = (r: Pick<EnrichedTick, 'symbol' | 'ts' | 'dt'>): string => `${r.dt}|${r.ts}|${r.symbol}`;

describe('LakeSink', () => {
  it('buffers until flush(), then writes one Snappy Parquet file per dt partition with a unique, informative name', async () => {
    const sink = new LakeSink({ dataDir, workerId: 'worker/1', shardId: 'shardId-000000000003', flushIntervalMs: 0 });
    const rows = knownInput({ perSymbol: 200 }); // 21:00 + 200 min: crosses midnight
    await sink.write(rows);
    expect(await lakeFiles()).toEqual([]);
    await sink.flush();
    const files = await lakeFiles();
    expect(files.map((f) => f.split('/')[0])).toEqual(['dt=2024-03-01', 'dt=2024-03-02']);
    for (const f of files) expect(f).toMatch(/^dt=\d{4}-\d\d-\d\d\/worker_1-shardId-000000000003-\d{13}_\d{13}-[0-9a-f]{8}\.parquet$/);
    expect((await lakeRows()).map(key)).toEqual(rows.map(key).sort());
    await sink.close();
  });

  it('flushes by itself when the buffer reaches maxRows, and the write waits for it (backpressure)', async () => {
    const sink = new LakeSink({ dataDir, workerId: 'w', shardId: 's', maxRows: 100, flushIntervalMs: 0 });
    const rows = knownInput({ perSymbol: 30, startTs: Date.UTC(2024, 2, 1, 10) }); // 150 rows, one partition
    await sink.write(rows.slice(0, 99));
    expect(await lakeFiles()).toHaveLength(0);
    await sink.write(rows.slice(99, 150));
    expect(await lakeFiles()).toHaveLength(1);
    expect(sink.stats.rowsWritten).toBe(150);
    await sink.close();
  });

  it('flushes by size (maxBytes) too', async () => {
    const sink = new LakeSink({ dataDir, workerId: 'w', shardId: 's', maxBytes: 10_000, flushIntervalMs: 0 });
    await sink.write(knownInput({ perSymbol: 20, startTs: Date.UTC(2024, 2, 1, 10) }));
    expect(await lakeFiles()).toHaveLength(1);
    await sink.close();
  });

  it('flushes on the interval with no flush() call', async () => {
    const sink = new LakeSink({ dataDir, workerId: 'w', shardId: 's', flushIntervalMs: 50 });
    await sink.write([tick()]);
    const deadline = Date.now() + 5000;
    while ((await lakeFiles()).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(await lakeFiles()).toHaveLength(1);
    await sink.close();
  });

  it('a replay through a new sink (a new processor process) adds no duplicate (symbol, ts) and completes what was missing', async () => {
    const rows = knownInput({ perSymbol: 100 });
    const first = new LakeSink({ dataDir, workerId: 'w1', shardId: 's', flushIntervalMs: 0 });
    await first.write(rows.slice(0, 300)); // "crash" after the lake got 300 rows
    await first.close();
    const second = new LakeSink({ dataDir, workerId: 'w2', shardId: 's', flushIntervalMs: 0 });
    await second.write(rows.slice(0, 200)); // replay from an older checkpoint
    await second.write(rows.slice(200));
    await second.close();
    expect(second.stats.duplicatesDropped).toBe(300);
    const back = (await lakeRows()).map(key);
    expect(new Set(back).size).toBe(back.length);
    expect(back).toEqual(rows.map(key).sort());
  });

  it('names each file with its first and last ts, and a lookup lists only the files that can hold a row at or after its ts', async () => {
    const sink = new LakeSink({ dataDir, workerId: 'w', shardId: 's', flushIntervalMs: 0 });
    const day1 = [tick({ ts: Date.UTC(2024, 2, 1, 10) }), tick({ ts: Date.UTC(2024, 2, 1, 11) })];
    const day2 = [tick({ ts: Date.UTC(2024, 2, 2, 10) }), tick({ ts: Date.UTC(2024, 2, 2, 12) })];
    await sink.write(day1);
    await sink.flush();
    await sink.write(day2);
    await sink.close();
    const names = (await lakeFiles()).map((f) => f.replace(/-[0-9a-f]{8}\.parquet$/, ''));
    expect(names).toEqual([`dt=2024-03-01/w-s-${Date.UTC(2024, 2, 1, 10)}_${Date.UTC(2024, 2, 1, 11)}`, `dt=2024-03-02/w-s-${Date.UTC(2024, 2, 2, 10)}_${Date.UTC(2024, 2, 2, 12)}`]);
    const listed = async (ts: number): Promise<string[]> => (await lakeFilesFrom(dataDir, ts)).map((f) => path.relative(lakeTicksDir(dataDir), f).split('/')[0] ?? '');
    expect(await listed(Date.UTC(2024, 2, 1, 11))).toEqual(['dt=2024-03-01', 'dt=2024-03-02']);
    expect(await listed(Date.UTC(2024, 2, 1, 11, 0, 0, 1))).toEqual(['dt=2024-03-02']); // the first file ends just before
    expect(await listed(Date.UTC(2024, 2, 2, 12, 0, 0, 1))).toEqual([]);
    // a file named by an older version says nothing about its last ts: always listed
    const legacy = path.join(lakeTicksDir(dataDir), 'dt=2024-03-02', `w-s-${Date.UTC(2024, 2, 2, 9)}-abcd1234.parquet`);
    await writeFile(legacy, 'PAR1');
    expect(await lakeFilesFrom(dataDir, Date.UTC(2030, 0, 1))).toEqual([]); // its partition is older
    expect(await lakeFilesFrom(dataDir, Date.UTC(2024, 2, 2, 23))).toEqual([legacy]);
  });

  it('never reads the files a new owner\'s rows are newer than (an unreadable old file does not matter), and still drops a replayed row of a symbol first seen later with an older ts', async () => {
    const first = new LakeSink({ dataDir, workerId: 'w1', shardId: 's', flushIntervalMs: 0 });
    const a = [0, 1, 2, 3].map((m) => tick({ symbol: 'AAPL', ts: Date.UTC(2024, 2, 1, 10, m) }));
    const b = [0, 1, 2, 3].map((m) => tick({ symbol: 'MSFT', ts: Date.UTC(2024, 2, 1, 9, m) }));
    await first.write([...a, ...b]);
    await first.close();
    // Years older and not Parquet at all: reading it would fail the write.
    const old = path.join(lakeTicksDir(dataDir), 'dt=2020-01-01');
    await mkdir(old, { recursive: true });
    await writeFile(path.join(old, `w0-s-${Date.UTC(2020, 0, 1)}_${Date.UTC(2020, 0, 1, 1)}-abcd1234.parquet`), 'not parquet');
    const second = new LakeSink({ dataDir, workerId: 'w2', shardId: 's', flushIntervalMs: 0 });
    // Replay from a checkpoint before the last two rows of each symbol: AAPL
    // arrives first, MSFT (older ts) in a later batch.
    await second.write(a.slice(2));
    await second.write(b.slice(2));
    await second.close();
    expect(second.stats.duplicatesDropped).toBe(4);
    expect(second.stats.rowsWritten).toBe(0);
  });

  it('reads the high-water marks of an empty or missing lake as empty', async () => {
    expect(await readLakeHighWaterMarks(dataDir)).toEqual(new Map());
    await mkdir(lakeTicksDir(dataDir), { recursive: true });
    expect(await readLakeHighWaterMarks(dataDir)).toEqual(new Map());
  });

  it('keeps rows whose file could not be written, reports it, and writes them on the next flush', async () => {
    const sink = new LakeSink({ dataDir, workerId: 'w', shardId: 's', flushIntervalMs: 0 });
    const rows = [tick({ ts: Date.UTC(2024, 2, 1, 10) }), tick({ ts: Date.UTC(2024, 2, 1, 10, 1) })];
    await sink.write(rows);
    // A plain file where the partition directory must go makes the write fail.
    await mkdir(lakeTicksDir(dataDir), { recursive: true });
    const blocker = path.join(lakeTicksDir(dataDir), 'dt=2024-03-01');
    await writeFile(blocker, 'not a directory');
    await expect(sink.flush()).rejects.toBeInstanceOf(SinkWriteError);
    await rm(blocker);
    await sink.flush();
    expect((await lakeRows()).map(key)).toEqual(rows.map(key));
    await sink.close();
  });

  it('writes partitions in ascending dt and stops at the first failure, so the lake keeps a prefix of every symbol', async () => {
    const sink = new LakeSink({ dataDir, workerId: 'w', shardId: 's', flushIntervalMs: 0 });
    // MSFT reaches the next day first in the buffer; AAPL's earlier rows come later.
    const rows = [
      tick({ symbol: 'MSFT', ts: Date.UTC(2024, 2, 2, 0, 5) }),
      tick({ symbol: 'AAPL', ts: Date.UTC(2024, 2, 1, 23, 59) }),
      tick({ symbol: 'AAPL', ts: Date.UTC(2024, 2, 2, 0, 1) }),
    ];
    await sink.write(rows);
    await mkdir(lakeTicksDir(dataDir), { recursive: true });
    const blocker = path.join(lakeTicksDir(dataDir), 'dt=2024-03-01');
    await writeFile(blocker, 'not a directory');
    await expect(sink.flush()).rejects.toBeInstanceOf(SinkWriteError);
    expect(await readdir(lakeTicksDir(dataDir))).toEqual(['dt=2024-03-01']); // dt=2024-03-02 not written
    await rm(blocker);
    await sink.close();
    expect((await lakeRows()).map(key)).toEqual(rows.map(key).sort());
  });

  it('ignores a temp file left by a writer killed mid-write', async () => {
    const sink = new LakeSink({ dataDir, workerId: 'w', shardId: 's', flushIntervalMs: 0 });
    await sink.write([tick()]);
    await sink.close();
    const part = path.join(lakeTicksDir(dataDir), 'dt=2024-03-01');
    await writeFile(path.join(part, '.tmp-w-s-1-abcd.parquet-0123456789ab'), 'PAR1 torn');
    expect(await readLakeHighWaterMarks(dataDir)).toEqual(new Map([['AAPL', tick().ts]]));
    expect(await lakeRows()).toHaveLength(1);
  });

  it('refuses writes after close()', async () => {
    const sink = new LakeSink({ dataDir, workerId: 'w', shardId: 's', flushIntervalMs: 0 });
    await sink.close();
    await expect(sink.write([tick()])).rejects.toBeInstanceOf(SinkWriteError);
  });
});
