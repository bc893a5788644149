import { SymbolAnalyzer } from '../../../analytics';
import { ConfigurationStopError } from '../../../consumer/errors';
import { MemoryAlertPublisher, MemoryDeadLetterQueue, MemoryRestartLedger, MemoryStateStore, MemoryTickSink } from '../../../consumer/sinks/memory';
import { ShardProcessor, type BatchStats, type KclRecord, type ProcessorEvent, type ShardProcessorDeps } from '../../../consumer/shard-processor';
import { encodeRowRedrive } from '../../../shared/enriched';
import { createLogger } from '../../../shared/logger';
import { encodeTick, encodeTickBatch, type Tick } from '../../../shared/tick';
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
  // without a ledger, initialize has nothing to wait for
  void proc.initialize('shardId-000000000000');
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

  describe('resharding', () => {
    const ticksOf = (sym: string, from: number, to: number) => Array.from({ length: to - from }, (_, i) => tick(sym, from + i, 100 + (((from + i) * 37) % 11) - 5));

    it('a parent at its end flushes its sinks and saves every symbol before it checkpoints at SHARD_END (no sequence number), even between checkpoints', async () => {
      const parent = setup({ checkpointEveryRecords: 1000 });
      const events = parent.events;
      parent.sink.flush = () => (events.push('flush'), Promise.resolve());
      const putMany = parent.state.putMany.bind(parent.state);
      parent.state.putMany = (snaps) => (events.push(`save:${snaps.map((x) => x.symbol).join(',')}`), putMany(snaps));
      await parent.proc.processRecords([...ticksOf('AAA', 0, 3), ...ticksOf('BBB', 0, 3)].map(rec), parent.cp);
      expect(parent.checkpoints).toEqual([]);
      await parent.proc.shardEnded(parent.cp);
      expect(events).toEqual(['flush', 'save:AAA,BBB', 'checkpoint:undefined']);
      expect(parent.state.items.get('BBB')?.last_ts).toBe(tick('BBB', 2).ts);
    });

    it('split then merge: the symbols go on in the children bit-exact, as in one uninterrupted shard', async () => {
      const all = { AAA: ticksOf('AAA', 0, 60), BBB: ticksOf('BBB', 0, 60) };
      const whole = setup();
      await whole.proc.processRecords([...all.AAA, ...all.BBB].map(rec), whole.cp);

      // parent: both symbols' first 25 ticks, then SHARD_END
      const parent = setup({ checkpointEveryRecords: 1000 });
      await parent.proc.processRecords([...all.AAA.slice(0, 25), ...all.BBB.slice(0, 25)].map(rec), parent.cp);
      await parent.proc.shardEnded(parent.cp);
      // split: each symbol's next ticks land on its own child, which shares only the stores
      const shared = { state: parent.state, sinks: [parent.sink] };
      const childA = setup({ ...shared, checkpointEveryRecords: 1000 });
      const childB = setup({ ...shared, checkpointEveryRecords: 1000 });
      await childA.proc.processRecords(all.AAA.slice(25, 40).map(rec), childA.cp);
      await childB.proc.processRecords(all.BBB.slice(25, 40).map(rec), childB.cp);
      await childA.proc.shardEnded(childA.cp);
      await childB.proc.shardEnded(childB.cp);
      // merge: one shard again
      const merged = setup(shared);
      await merged.proc.processRecords([...all.AAA.slice(40), ...all.BBB.slice(40)].map(rec), merged.cp);

      const key = (r: { symbol: string; ts: number }) => `${r.symbol}/${r.ts}`;
      const byKey = (rows: typeof whole.sink.rows) => [...rows].sort((a, b) => (key(a) < key(b) ? -1 : 1)).map((r) => [key(r), r.sma5, r.sma20, r.rsi14, r.bb_upper, r.signal]);
      expect(parent.sink.rows).toHaveLength(120);
      expect(byKey(parent.sink.rows)).toEqual(byKey(whole.sink.rows));
      expect([childA, childB].map((c) => c.checkpoints)).toEqual([[undefined], [undefined]]);
    });

    it('stamps each batch with the clock when it was taken, before any tick of it is applied', async () => {
      let clock = 1000;
      const batches: BatchStats[] = [];
      const sink = new MemoryTickSink('rows');
      const write = sink.write.bind(sink);
      // the clock moves while the batch is written
      sink.write = (rows) => ((clock += 500), write(rows));
      const h = setup({ sinks: [sink], now: () => clock, onBatch: (b) => batches.push(b) });
      await h.proc.processRecords(ticksOf('CCC', 0, 3).map(rec), h.cp);
      await h.proc.processRecords([], h.cp);
      expect(batches.map((b) => [b.startedAt, b.applied])).toEqual([
        [1000, 3],
        [1500, 0],
      ]);
    });
  });

  describe('no record stops the shard', () => {
    /** What the pure core makes of these ticks, without the ones left out. */
    function pureRows(ticks: readonly Tick[]) {
      const a = new Map<string, SymbolAnalyzer>();
      const out = [];
      for (const t of ticks) {
        const an = a.get(t.symbol) ?? new SymbolAnalyzer(t.symbol);
        a.set(t.symbol, an);
        const r = an.analyze(t);
        if (r.kind === 'applied') out.push(r.row);
      }
      return out;
    }

    function watch(over: Partial<ShardProcessorDeps> = {}) {
      const events: ProcessorEvent[] = [];
      const batches: BatchStats[] = [];
      const lake = new MemoryTickSink('lake');
      const h = setup({ onEvent: (e) => events.push(e), onBatch: (b) => batches.push(b), ...over });
      return { ...h, events, batches, lake };
    }

    it('isolates a row a sink refuses for good: dead-letters it with the reason and the sinks that hold it, stores the rest, checkpoints', async () => {
      const rows = new MemoryTickSink('ddb');
      const lake = new MemoryTickSink('lake');
      const h = watch({ sinks: [rows, lake], checkpointEveryRecords: 1 });
      const ticks = Array.from({ length: 30 }, (_, i) => tick('HHH', i));
      const badTs = ticks[17]!.ts;
      rows.refuse = (r) => r.ts === badTs;
      const batch = ticks.map(rec);
      await h.proc.processRecords(batch, h.cp);
      expect(rows.rows.map((r) => r.ts)).toEqual(ticks.filter((t) => t.ts !== badTs).map((t) => t.ts));
      expect(lake.rows).toHaveLength(30);
      expect(h.checkpoints).toEqual([batch[29]!.sequenceNumber]);
      expect(h.dlq.letters).toHaveLength(1);
      const l = h.dlq.letters[0]!;
      expect({ kind: l.kind, id: l.id, held_by: l.held_by, partition_key: l.partition_key, rowTs: l.row?.ts }).toEqual({
        kind: 'row',
        id: `shardId-000000000000/${batch[17]!.sequenceNumber}`,
        held_by: ['lake'],
        partition_key: 'HHH',
        rowTs: badTs,
      });
      expect(l.reason).toMatch(/^refused by ddb: .*ValidationException/);
      expect(JSON.parse(Buffer.from(l.data_base64, 'base64').toString())).toEqual(ticks[17]);
      // halving finds one bad row among 30 in a handful of calls, not 30
      expect(rows.calls.length).toBeLessThanOrEqual(1 + 2 * Math.ceil(Math.log2(30)));
      expect(h.events.filter((e) => e.kind === 'error')).toHaveLength(1);
      expect(h.events.filter((e) => e.kind === 'retry')).toHaveLength(0);
      expect(h.batches[0]).toMatchObject({ errors: 1, deadLetters: 1, applied: 30 });
    });

    it('stops with a ConfigurationStopError naming the resource when a table does not exist, and checkpoints nothing', async () => {
      const rows = new MemoryTickSink('dynamodb-ticks');
      rows.write = () =>
        Promise.reject(
          Object.assign(new Error('dynamodb-ticks: BatchWriteItem on tickstream-ticks failed'), {
            cause: Object.assign(new Error('Requested resource not found'), { name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 400 } }),
          }),
        );
      const h = watch({ sinks: [rows], checkpointEveryRecords: 1 });
      const err = await h.proc.processRecords([rec(tick('III', 0))], h.cp).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConfigurationStopError);
      expect((err as Error).message).toMatch(/tickstream-ticks.*ResourceNotFoundException.*does not exist/);
      expect(h.checkpoints).toEqual([]);
      expect(h.dlq.letters).toEqual([]);
    });

    it('retries a transient error until it passes, counting one error and each retry as they happen', async () => {
      const h = watch({ checkpointEveryRecords: 1 });
      h.sink.failNext = 4;
      await h.proc.processRecords([rec(tick('JJJ', 0))], h.cp);
      expect(h.sink.rows).toHaveLength(1);
      expect(h.events.map((e) => e.kind)).toEqual(['error', 'retry', 'retry', 'retry', 'retry']);
      expect(h.dlq.letters).toEqual([]);
    });

    it('gives an unclassified error a few attempts, then isolates its row like a refused one', async () => {
      const h = watch({ checkpointEveryRecords: 1, unknownErrorAttempts: 3 });
      const ticks = [0, 1, 2, 3].map((i) => tick('KKK', i));
      const orig = h.sink.write.bind(h.sink);
      h.sink.write = (rows) => (rows.some((r) => r.ts === ticks[2]!.ts) ? Promise.reject(new TypeError('a bug in a sink')) : orig(rows));
      await h.proc.processRecords(ticks.map(rec), h.cp);
      expect(h.sink.rows.map((r) => r.ts)).toEqual([0, 1, 3].map((i) => ticks[i]!.ts));
      expect(h.dlq.letters.map((l) => [l.kind, l.reason])).toEqual([['row', expect.stringMatching(/^refused by rows: TypeError: a bug in a sink/)]]);
      expect(h.checkpoints).toHaveLength(1);
    });

    it('dead-letters a tick whose analysis throws halfway, and rebuilds its symbol as if the tick had never come', async () => {
      const ticks = Array.from({ length: 40 }, (_, i) => tick('LLL', i, 100 + ((i * 13) % 7)));
      const badTs = ticks[25]!.ts;
      const h = watch({ checkpointEveryRecords: 10 });
      const original = SymbolAnalyzer.prototype.analyze;
      const spy = jest.spyOn(SymbolAnalyzer.prototype, 'analyze').mockImplementation(function (this: SymbolAnalyzer, t: Tick) {
        const r = original.call(this, t); // every indicator has moved…
        if (t.ts === badTs) throw new RangeError('injected: Invalid time value'); // …and then it throws
        return r;
      });
      try {
        // one aggregate record holds ticks 20..29, so the unit dead-lettered is the tick
        const agg = { data: encodeTickBatch(ticks.slice(20, 30).map(encodeTick)).toString('base64'), partitionKey: 'LLL', sequenceNumber: String(++seq) };
        await h.proc.processRecords([...ticks.slice(0, 20).map(rec), agg, ...ticks.slice(30).map(rec)], h.cp);
      } finally {
        spy.mockRestore();
      }
      const expected = pureRows(ticks.filter((t) => t.ts !== badTs));
      expect(h.sink.rows.map((r) => [r.ts, r.sma5, r.sma20, r.ema12, r.rsi14, r.vwap, r.volume_avg])).toEqual(expected.map((r) => [r.ts, r.sma5, r.sma20, r.ema12, r.rsi14, r.vwap, r.volume_avg]));
      expect(h.dlq.letters).toHaveLength(1);
      const l = h.dlq.letters[0]!;
      expect({ kind: l.kind, idEnd: l.id.split('/').slice(-1)[0], reason: l.reason }).toEqual({ kind: 'tick', idEnd: '5', reason: 'analysis failed: RangeError: injected: Invalid time value' });
      expect(l.stack).toMatch(/RangeError: injected/);
      expect(h.events.filter((e) => e.kind === 'error')).toHaveLength(1);
    });

    it('stores a redriven row as it was computed, without touching the symbol state', async () => {
      const h = watch({ checkpointEveryRecords: 1 });
      const ticks = [0, 1, 2].map((i) => tick('MMM', i));
      await h.proc.processRecords(ticks.map(rec), h.cp);
      const row = { ...h.sink.rows[1]! };
      const before = h.state.items.get('MMM');
      await h.proc.processRecords([{ data: encodeRowRedrive(row).toString('base64'), partitionKey: 'MMM', sequenceNumber: String(++seq) }], h.cp);
      expect(h.sink.rows).toHaveLength(4);
      expect(h.sink.rows[3]).toEqual(row);
      expect(h.state.items.get('MMM')).toEqual(before);
      expect(h.batches[1]).toMatchObject({ redriven: 1, applied: 0, duplicates: 0 });
    });

    it('dead-letters a redriven row that is not a storable row', async () => {
      const h = watch();
      const bad = Buffer.from('{"v":1,"rows":[{"symbol":"MMM","ts":1}]}').toString('base64');
      await h.proc.processRecords([{ data: bad, partitionKey: 'MMM', sequenceNumber: String(++seq) }], h.cp);
      expect(h.dlq.letters.map((l) => [l.kind, l.reason])).toEqual([['record', expect.stringMatching(/^invalid redrive: /)]]);
    });
  });

  describe('crash-loop quarantine', () => {
    const shard = 'shardId-000000000000';

    async function start(ledger: MemoryRestartLedger, at: string, over: Partial<ShardProcessorDeps> = {}) {
      const h = setup({ ledger, quarantineAfter: 3, checkpointEveryRecords: 1000, ...over });
      await h.proc.initialize(shard, at);
      return h;
    }

    it('counts starts at one checkpoint without a write per batch, and forgets them on a clean stop', async () => {
      const ledger = new MemoryRestartLedger();
      for (let i = 0; i < 3; i++) expect((await start(ledger, 'TRIM_HORIZON')).proc.inQuarantine).toBe(false);
      expect(ledger.items.get(shard)?.starts).toBe(3);
      const h = await start(ledger, 'TRIM_HORIZON');
      expect(h.proc.inQuarantine).toBe(true);
      // a start at another checkpoint counts from 1 again
      expect((await start(ledger, '42')).proc.inQuarantine).toBe(false);
      const writes = jest.spyOn(ledger, 'markSuspect');
      const n = await start(ledger, '42');
      await n.proc.processRecords([0, 1, 2].map((i) => rec(tick('NNN', i))), n.cp);
      expect(writes).not.toHaveBeenCalled();
      await n.proc.shutdownRequested(n.cp);
      expect(ledger.items.has(shard)).toBe(false);
    });

    it('in quarantine, processes and checkpoints record by record, marking each, then leaves quarantine', async () => {
      const ledger = new MemoryRestartLedger();
      for (let i = 0; i < 3; i++) await start(ledger, 'TRIM_HORIZON');
      const h = await start(ledger, 'TRIM_HORIZON');
      const marks: string[] = [];
      const mark = ledger.markSuspect.bind(ledger);
      ledger.markSuspect = (s, cp, n, sq) => {
        marks.push(`${cp}->${sq}`);
        return mark(s, cp, n, sq);
      };
      const batch = [0, 1, 2].map((i) => rec(tick('OOO', i)));
      await h.proc.processRecords(batch, h.cp);
      const q = batch.map((r) => r.sequenceNumber);
      expect(marks).toEqual([`TRIM_HORIZON->${q[0]}`, `${q[0]}->${q[1]}`, `${q[1]}->${q[2]}`]);
      expect(h.checkpoints).toEqual(q);
      expect(h.sink.rows).toHaveLength(3);
      expect(h.proc.inQuarantine).toBe(false);
      expect(ledger.items.has(shard)).toBe(false);
    });

    it('dead-letters, unprocessed, the record it died on in quarantine, and processes the others once', async () => {
      const ledger = new MemoryRestartLedger();
      const batch = [0, 1, 2].map((i) => rec(tick('PPP', i)));
      // died in quarantine on batch[1], with the shard checkpointed at batch[0]
      await ledger.markSuspect(shard, batch[0]!.sequenceNumber, 4, batch[1]!.sequenceNumber);
      const h = await start(ledger, batch[0]!.sequenceNumber);
      await h.proc.processRecords(batch.slice(1), h.cp);
      expect(h.dlq.letters.map((l) => [l.kind, l.sequence_number])).toEqual([['crash', batch[1]!.sequenceNumber]]);
      expect(h.dlq.letters[0]!.reason).toMatch(/died while processing this record/);
      expect(h.sink.rows.map((r) => r.ts)).toEqual([tick('PPP', 2).ts]);
      expect(h.proc.inQuarantine).toBe(false);
    });

    it('starts without a ledger entry when the daemon gives no sequence number, and goes on when the ledger refuses', async () => {
      const ledger = new MemoryRestartLedger();
      const h = setup({ ledger });
      await h.proc.initialize(shard, null);
      expect(ledger.items.size).toBe(0);
      ledger.recordStart = () => Promise.reject(new TypeError('the ledger is broken'));
      const g = setup({ ledger, unknownErrorAttempts: 2 });
      await g.proc.initialize(shard, 'TRIM_HORIZON');
      await g.proc.processRecords([rec(tick('QQQ', 0))], g.cp);
      expect(g.sink.rows).toHaveLength(1);
    });

    it('a configuration stop forgets the starts, so it never quarantines a record', async () => {
      const ledger = new MemoryRestartLedger();
      for (let i = 0; i < 10; i++) {
        const h = await start(ledger, 'TRIM_HORIZON');
        expect(h.proc.inQuarantine).toBe(false);
        await h.proc.configurationStopped();
      }
    });
  });
});
