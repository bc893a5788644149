import { SymbolAnalyzer } from '../../../analytics';
import { MemoryAlertPublisher, MemoryDeadLetterQueue, MemoryStateStore, MemoryTickSink } from '../../../consumer/sinks/memory';
import { ShardProcessor, type KclRecord, type ShardProcessorDeps } from '../../../consumer/shard-processor';
import { createLogger } from '../../../shared/logger';
import { encodeTick, type Tick } from '../../../shared/tick';
import { Writable } from 'node:stream';

const silent = createLogger({ service: 'test', level: 'error', stream: new Writable({ write: (_c, _e, cb) => cb() }) });

function tick(symbol: string, i: number, price = 100 + Math.sin(i / 3) * 5): Tick {
  return { v: 1, symbol, ts: 1_700_000_000_000 + i * 1000, price, volume: 1000 + (i % 7) * 100, previousClose: 100, source: 'synthetic', producedAt: 1_700_000_000_000 };
}

let seq = 0;
function rec(t: Tick | string): KclRecord {
  const data = typeof t === 'string' ? Buffer.from(t).toString('base64') : encodeTick(t).toString('base64');
  return { data, partitionKey: typeof t === 'string' ? 'X' : t.symbol, sequenceNumber: String(++seq) };
}

function setup(over: Partial<ShardProcessorDeps> = {}) {
  const sink = new MemoryTickSink('rows');
  const state = new MemoryStateStore();
  const alerts = new MemoryAlertPublisher();
  const dlq = new MemoryDeadLetterQueue();
  const events: string[] = [];
  const deps: ShardProcessorDeps = {
    sinks: [sink],
    state,
    alerts,
    dlq,
    logger: silent,
    analysis: new SymbolAnalyzer('X').config,
    checkpointEveryRecords: 10,
    checkpointEveryMs: 60_000,
    retryDelayMs: () => 1,
    ...over,
  };
  const proc = new ShardProcessor(deps);
  proc.initialize('shardId-000000000000');
  const checkpoints: (string | undefined)[] = [];
  const cp = (s?: string) => {
    events.push(`checkpoint:${s}`);
    checkpoints.push(s);
    return Promise.resolve();
  };
  return { proc, sink, state, alerts, dlq, checkpoints, cp, events };
}

describe('ShardProcessor', () => {
  it('applies ticks in order, writes rows, and checkpoints after N records', async () => {
    const { proc, sink, checkpoints, cp, state } = setup();
    const ticks = Array.from({ length: 25 }, (_, i) => tick('AAA', i));
    await proc.processRecords(ticks.slice(0, 12).map(rec), cp);
    await proc.processRecords(ticks.slice(12).map(rec), cp);
    expect(sink.rows.map((r) => r.ts)).toEqual(ticks.map((t) => t.ts));
    expect(checkpoints).toEqual([String(seq - 13), String(seq)]);
    expect(state.items.get('AAA')?.last_ts).toBe(ticks[24]!.ts);
  });

  it('skips duplicates and out-of-order ticks without output', async () => {
    const { proc, sink, cp } = setup();
    const t = Array.from({ length: 5 }, (_, i) => tick('BBB', i));
    await proc.processRecords([rec(t[0]!), rec(t[1]!), rec(t[1]!), rec(t[3]!), rec(t[2]!), rec(t[4]!)], cp);
    expect(sink.rows.map((r) => r.ts)).toEqual([t[0]!.ts, t[1]!.ts, t[3]!.ts, t[4]!.ts]);
  });

  it('dead-letters bad records with a reason and goes on with the batch', async () => {
    const { proc, sink, dlq, cp } = setup();
    await proc.processRecords([rec('{not json'), rec(tick('CCC', 0)), rec(JSON.stringify({ ...tick('CCC', 1), price: -1 })), rec(JSON.stringify({ ...tick('CCC', 2), v: 99 })), rec(tick('CCC', 3))], cp);
    expect(sink.rows).toHaveLength(2);
    expect(dlq.letters.map((l) => l.reason)).toEqual([expect.stringMatching(/invalid JSON/), expect.stringMatching(/price/), expect.stringMatching(/unknown schema version/)]);
    expect(dlq.letters[0]!.data_base64).toBe(Buffer.from('{not json').toString('base64'));
  });

  it('never checkpoints past rows a sink has not acknowledged; retries them in place', async () => {
    const { proc, sink, checkpoints, cp, events } = setup({ checkpointEveryRecords: 1 });
    sink.failNext = 3;
    const batch = [tick('DDD', 0), tick('DDD', 1)].map(rec);
    await proc.processRecords(batch, cp);
    expect(sink.rows).toHaveLength(2);
    expect(checkpoints).toEqual([batch[1]!.sequenceNumber]);
    expect(events).toEqual([`checkpoint:${batch[1]!.sequenceNumber}`]);
  });

  it('saves state before the checkpoint, and not at all when the save fails until it succeeds', async () => {
    const { proc, state, checkpoints, cp } = setup({ checkpointEveryRecords: 1 });
    state.failNext = 2;
    await proc.processRecords([rec(tick('EEE', 0))], cp);
    expect(state.items.get('EEE')?.last_ts).toBe(tick('EEE', 0).ts);
    expect(checkpoints).toHaveLength(1);
  });

  it('drops in-memory state on lease loss without writing it', async () => {
    const { proc, state, cp } = setup({ checkpointEveryRecords: 1000 });
    await proc.processRecords([0, 1, 2].map((i) => rec(tick('FFF', i))), cp);
    proc.leaseLost();
    expect(state.items.size).toBe(0);
    expect(proc.symbolsInMemory).toBe(0);
  });

  it('a new owner restoring from the snapshot continues bit-exact', async () => {
    const ticks = Array.from({ length: 60 }, (_, i) => tick('GGG', i, 100 + ((i * 37) % 11) - 5));
    const whole = setup();
    await whole.proc.processRecords(ticks.map(rec), whole.cp);

    const first = setup({ checkpointEveryRecords: 30 });
    await first.proc.processRecords(ticks.slice(0, 30).map(rec), first.cp);
    first.proc.leaseLost();
    // the next owner shares the state store and replays from the checkpoint
    const second = setup({ state: first.state, sinks: [first.sink] });
    await second.proc.processRecords(ticks.slice(25).map(rec), second.cp);
    const rows = first.sink.rows;
    expect(rows).toHaveLength(60);
    expect(rows.map((r) => [r.sma5, r.sma20, r.rsi14, r.bb_upper])).toEqual(whole.sink.rows.map((r) => [r.sma5, r.sma20, r.rsi14, r.bb_upper]));
  });
});
