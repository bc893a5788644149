import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { SymbolAnalyzer } from '../../../analytics';
import { ShardProcessor, type KclRecord } from '../../../consumer/shard-processor';
import { LakeSink } from '../../../consumer/sinks/lake-sink';
import { MemoryAlertPublisher, MemoryDeadLetterQueue, MemoryStateStore } from '../../../consumer/sinks/memory';
import { createLogger } from '../../../shared/logger';
import { closeDuckdb, duckdb } from '../../../shared/parquet';
import { encodeTick, type Tick } from '../../../shared/tick';

const silent = createLogger({ service: 'test', level: 'error', stream: new Writable({ write: (_c, _e, cb) => cb() }) });

function tick(i: number): Tick {
  return { v: 1, symbol: 'AAA', ts: 1_700_000_000_000 + i * 1000, price: 100 + i, volume: 1000, previousClose: 100, source: 'synthetic', producedAt: 1_700_000_000_000 };
}

function records(from: number, to: number): KclRecord[] {
  const out: KclRecord[] = [];
  for (let i = from; i < to; i++) out.push({ data: encodeTick(tick(i)).toString('base64'), partitionKey: 'AAA', sequenceNumber: String(1000 + i) });
  return out;
}

async function lakeRows(dataDir: string): Promise<{ rows: number; distinct: number }> {
  const glob = path.join(dataDir, 'lake', 'ticks', '**', '*.parquet');
  const conn = await (await duckdb()).connect();
  try {
    const files = await conn.runAndReadAll(`SELECT count(*) AS n FROM glob('${glob}')`);
    if (Number(files.getRowObjects()[0]?.n) === 0) return { rows: 0, distinct: 0 };
    const r = await conn.runAndReadAll(`SELECT count(*) AS n, count(DISTINCT (symbol, ts)) AS d FROM read_parquet('${glob}')`);
    const o = r.getRowObjects()[0]!;
    return { rows: Number(o.n), distinct: Number(o.d) };
  } finally {
    conn.closeSync();
  }
}

/**
 * One processor process per shard lease (KCL MultiLangDaemon): when the lease
 * is lost, the process gets leaseLost, then its stdin closes and
 * consumer/main.ts closes its sinks. Rows the lake sink still buffers at that
 * point are past the last checkpoint; the new owner replays them. Writing
 * them on close (or on the buffer timer) after the new owner has read the
 * lake's high-water marks puts them in the lake twice.
 */
describe('lease lost with rows in the lake buffer', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'tickstream-lease-lost-'));
  });
  afterEach(async () => {
    jest.useRealTimers();
    await rm(dataDir, { recursive: true, force: true });
  });
  afterAll(async () => {
    await closeDuckdb();
  });

  function processor(lake: LakeSink): ShardProcessor {
    const p = new ShardProcessor({
      sinks: [lake],
      state: new MemoryStateStore(),
      alerts: new MemoryAlertPublisher(),
      dlq: new MemoryDeadLetterQueue(),
      logger: silent,
      analysis: new SymbolAnalyzer('X').config,
      checkpointEveryRecords: 1000,
      checkpointEveryMs: 60_000,
    });
    // without a ledger, initialize has nothing to wait for
    void p.initialize('shardId-000000000000');
    return p;
  }

  /**
   * The lake's buffer timer runs on a fake clock (setTimeout only; DuckDB,
   * setImmediate and Date stay real), so "its interval has passed" is a step
   * the test takes rather than a real wait it hopes is long enough.
   */
  const fakeBufferClock = (): void => {
    jest.useFakeTimers({ doNotFake: ['Date', 'hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval'] });
  };
  /** Polls on real setImmediate turns (the fake clock does not move them). */
  async function until(what: string, cond: () => boolean): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setImmediate(r));
    }
  }

  it('the fake clock drives the buffer timer: its interval passing writes the buffered rows', async () => {
    fakeBufferClock();
    const lake = new LakeSink({ dataDir, workerId: 'worker-1', shardId: 'shardId-000000000000', flushIntervalMs: 2000 });
    await processor(lake).processRecords(records(0, 10), () => Promise.resolve());
    expect(jest.getTimerCount()).toBe(1);
    await jest.advanceTimersByTimeAsync(1999);
    expect(lake.stats.rowsWritten).toBe(0);
    await jest.advanceTimersByTimeAsync(1);
    await until('the timed flush to write the buffer', () => lake.stats.rowsWritten === 10);
    expect(await lakeRows(dataDir)).toEqual({ rows: 10, distinct: 10 });
  });

  it('writes nothing after leaseLost, so the new owner replaying the same records leaves each row once', async () => {
    fakeBufferClock();
    const checkpoint = (): Promise<void> => Promise.resolve();
    // the old owner applied records 0..9 past its last checkpoint; they sit in its lake buffer
    const oldLake = new LakeSink({ dataDir, workerId: 'worker-1', shardId: 'shardId-000000000000', flushIntervalMs: 2000 });
    const oldOwner = processor(oldLake);
    await oldOwner.processRecords(records(0, 10), checkpoint);

    // the new owner has started from the checkpoint and read the (empty) lake
    const newLake = new LakeSink({ dataDir, workerId: 'worker-2', shardId: 'shardId-000000000000', flushIntervalMs: 0 });
    const newOwner = processor(newLake);
    await newOwner.processRecords(records(0, 10), checkpoint);

    // the old owner learns it lost the lease; its buffer timer fires, its stdin closes
    expect(jest.getTimerCount()).toBe(1);
    oldOwner.leaseLost();
    await jest.advanceTimersByTimeAsync(2000);
    await oldLake.close();

    await newOwner.shutdownRequested(checkpoint);
    expect(await lakeRows(dataDir)).toEqual({ rows: 10, distinct: 10 });
  });
});
