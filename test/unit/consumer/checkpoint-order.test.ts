/**
 * The checkpoint order, pinned: flush every sink -> save the snapshots ->
 * checkpoint KCL (DESIGN.md "State and checkpoints", consumer/ports.ts).
 * Each step writes to ONE event log shared by two sinks, the state store and
 * the KCL checkpointer, with a start and an end for the steps that take time,
 * so the test fails if any two steps are swapped and also if a step is
 * started but not awaited before the next one begins.
 *
 * Driven through the KCL binding (kclRecordProcessor) with a checkpointer of
 * aws-kcl's callback shape, so the order pinned is the one the daemon sees,
 * for the three ways a checkpoint happens: a periodic one in processRecords,
 * a graceful stop, and the end of a shard.
 */
import { Writable } from 'node:stream';
import { SymbolAnalyzer } from '../../../analytics';
import { kclRecordProcessor } from '../../../consumer/kcl/record-processor';
import type { StateSnapshot, StateStore, TickSink } from '../../../consumer/ports';
import { MemoryAlertPublisher, MemoryDeadLetterQueue } from '../../../consumer/sinks/memory';
import { ShardProcessor, type KclRecord } from '../../../consumer/shard-processor';
import type { EnrichedTick } from '../../../shared/enriched';
import { createLogger } from '../../../shared/logger';
import { encodeTick, type Tick } from '../../../shared/tick';

const silent = createLogger({ service: 'test', level: 'error', stream: new Writable({ write: (_c, _e, cb) => cb() }) });

/** Resolves on a later turn of the event loop: a step that is not awaited shows up interleaved. */
const later = (): Promise<void> => new Promise((r) => setImmediate(r));

class EventSink implements TickSink {
  constructor(
    readonly name: string,
    private readonly log: string[],
  ) {}
  async write(rows: readonly EnrichedTick[]): Promise<void> {
    this.log.push(`write ${this.name} ${rows.length}`);
    await later();
  }
  async flush(): Promise<void> {
    this.log.push(`flush ${this.name}`);
    await later();
    this.log.push(`flushed ${this.name}`);
  }
  close(): Promise<void> {
    return this.flush();
  }
}

class EventStateStore implements StateStore {
  constructor(private readonly log: string[]) {}
  get(): Promise<Map<string, StateSnapshot>> {
    return Promise.resolve(new Map<string, StateSnapshot>());
  }
  async putMany(snapshots: readonly StateSnapshot[]): Promise<{ stale: string[] }> {
    this.log.push(`save ${snapshots.map((s) => s.symbol).join(',')}`);
    await later();
    this.log.push('saved');
    return { stale: [] };
  }
}

/** aws-kcl's checkpointer: `checkpoint(seq, cb)` or, at SHARD_END, `checkpoint(cb)`; the callback comes later. */
function eventCheckpointer(log: string[]) {
  function checkpoint(seq: string | undefined, cb: (err: unknown) => void): void;
  function checkpoint(cb: (err: unknown) => void): void;
  function checkpoint(a: string | undefined | ((err: unknown) => void), b?: (err: unknown) => void): void {
    const [seq, cb] = typeof a === 'function' ? [undefined, a] : [a, b!];
    log.push(`checkpoint ${seq ?? 'SHARD_END'}`);
    setImmediate(() => cb(null));
  }
  return { checkpoint };
}

function tick(symbol: string, i: number): Tick {
  return { v: 1, symbol, ts: 1_700_000_000_000 + i * 1000, price: 100 + i / 8, volume: 1000 + i, previousClose: 100, source: 'synthetic', producedAt: 1_700_000_000_000 };
}
const rec = (t: Tick, seq: number): KclRecord => ({ data: encodeTick(t).toString('base64'), partitionKey: t.symbol, sequenceNumber: String(seq) });
const records = (n: number): KclRecord[] => Array.from({ length: n }, (_, i) => rec(tick(i % 2 === 0 ? 'AAA' : 'BBB', i), i + 1));

function setup(checkpointEveryRecords: number) {
  const log: string[] = [];
  const fatal: unknown[] = [];
  const proc = new ShardProcessor({
    sinks: [new EventSink('ddb', log), new EventSink('lake', log)],
    state: new EventStateStore(log),
    alerts: new MemoryAlertPublisher(),
    dlq: new MemoryDeadLetterQueue(),
    logger: silent,
    analysis: new SymbolAnalyzer('X').config,
    checkpointEveryRecords,
    checkpointEveryMs: 3_600_000,
    retryDelayMs: () => 1,
  });
  const kcl = kclRecordProcessor(
    () => proc,
    silent,
    (err) => fatal.push(err),
    (err) => fatal.push(err),
  );
  const call = (f: (done: () => void) => void): Promise<void> => new Promise((done) => f(done));
  const checkpointer = eventCheckpointer(log);
  return {
    log,
    fatal,
    initialize: () => call((done) => kcl.initialize({ shardId: 'shardId-000000000000' }, done)),
    processRecords: (rs: KclRecord[]) => call((done) => kcl.processRecords({ records: rs, checkpointer }, done)),
    shutdownRequested: () => call((done) => kcl.shutdownRequested({ checkpointer }, done)),
    shardEnded: () => call((done) => kcl.shardEnded({ checkpointer }, done)),
  };
}

/** Every event of the checkpoint, in order: both sinks flushed, then the snapshots saved, then the checkpoint. */
const checkpointAt = (seq: string): string[] => ['flush ddb', 'flush lake', 'flushed ddb', 'flushed lake', 'save AAA,BBB', 'saved', `checkpoint ${seq}`];

describe('checkpoint order: flush sinks -> save snapshots -> checkpoint, in one event log', () => {
  test('a periodic checkpoint in processRecords', async () => {
    const h = setup(4);
    await h.initialize();
    await h.processRecords(records(4));
    expect(h.fatal).toEqual([]);
    expect(h.log).toEqual(['write ddb 4', 'write lake 4', ...checkpointAt('4')]);
  });

  test('a graceful stop (shutdownRequested) between periodic checkpoints', async () => {
    const h = setup(1000);
    await h.initialize();
    await h.processRecords(records(3));
    expect(h.log).toEqual(['write ddb 3', 'write lake 3']);
    h.log.length = 0;
    await h.shutdownRequested();
    expect(h.fatal).toEqual([]);
    expect(h.log).toEqual(checkpointAt('3'));
  });

  test('the end of a shard (shardEnded checkpoints at SHARD_END)', async () => {
    const h = setup(1000);
    await h.initialize();
    await h.processRecords(records(3));
    h.log.length = 0;
    await h.shardEnded();
    expect(h.fatal).toEqual([]);
    expect(h.log).toEqual(checkpointAt('SHARD_END'));
  });
});
