import fs from 'node:fs';
import path from 'node:path';
import { startPipeline, type Pipeline } from '../../../local/pipeline';
import { closeDuckdb } from '../../../shared/parquet';
import type { Tick } from '../../../shared/tick';
import {
  allCheckpointedAt,
  diffRows,
  lakeDistinctKeys,
  lastSequenceByShard,
  pureRun,
  putInOrder,
  readDeadLetters,
  readLake,
  unmarshalledRows,
  type PutResult,
} from '../../helpers/pipeline-data';
import { syntheticTicks, testSymbols } from '../../helpers/ticks';
import { tmpDir, waitFor } from '../../helpers/wait';

/** One kind of bad record: how to build it from a good tick, and the reason the consumer must give. */
interface PoisonKind {
  name: string;
  make: (t: Tick) => Buffer;
  reason: RegExp;
}

const json = (o: unknown): Buffer => Buffer.from(JSON.stringify(o));

const KINDS: PoisonKind[] = [
  { name: 'bad JSON', make: (t) => Buffer.from(JSON.stringify(t).slice(0, 40)), reason: /^invalid JSON/ },
  // v2 (what producers write) may leave out previousClose; v1 may not.
  {
    name: 'missing fields (v2)',
    make: (t) => json({ v: 2, symbol: t.symbol, ts: t.ts, source: t.source }),
    reason: /^invalid tick: price: [^;]*; volume: [^;]*; producedAt: [^;]*$/,
  },
  {
    name: 'missing fields (v1)',
    make: (t) => json({ v: 1, symbol: t.symbol, ts: t.ts, source: t.source }),
    reason: /^invalid tick: .*price.*volume.*previousClose.*producedAt/,
  },
  { name: 'a v2 time zone Intl does not know', make: (t) => json({ ...t, v: 2, tz: 'Mars/Olympus_Mons' }), reason: /^invalid tick: tz: must be an IANA time zone$/ },
  { name: 'negative price', make: (t) => json({ ...t, price: -t.price }), reason: /^invalid tick: price/ },
  { name: 'NaN price (string)', make: (t) => json({ ...t, price: 'NaN' }), reason: /^invalid tick: price/ },
  { name: 'NaN price (null, what JSON.stringify makes of NaN)', make: (t) => json({ ...t, price: Number.NaN }), reason: /^invalid tick: price/ },
  { name: 'unknown schema version', make: (t) => json({ ...t, v: 99 }), reason: /^unknown schema version: 99$/ },
  // Beyond each bound of the tick contract (shared/tick.ts TICK_BOUNDS): values
  // no sink or formatter can hold. Each once crashed or stalled a shard.
  { name: 'ts before 2000', make: (t) => json({ ...t, ts: Date.UTC(1999, 11, 31) }), reason: /^invalid tick: ts: must be at or after 2000-01-01/ },
  { name: 'ts in 2100', make: (t) => json({ ...t, ts: Date.UTC(2100, 0, 1) }), reason: /^invalid tick: ts: must be before 2100-01-01/ },
  { name: 'ts past what Date can print', make: (t) => json({ ...t, ts: 9e15 }), reason: /^invalid tick: ts: must be before 2100-01-01/ },
  { name: 'producedAt in 2100', make: (t) => json({ ...t, producedAt: Date.UTC(2100, 0, 1) }), reason: /^invalid tick: producedAt: must be before/ },
  { name: 'price beyond DynamoDB', make: (t) => json({ ...t, price: 1e130 }), reason: /^invalid tick: price: must be at most/ },
  { name: 'price below DynamoDB', make: (t) => json({ ...t, price: 1e-131 }), reason: /^invalid tick: price: must be at least/ },
  { name: 'previousClose above its ceiling', make: (t) => json({ ...t, previousClose: 1e13 }), reason: /^invalid tick: previousClose: must be at most/ },
  { name: 'volume above its ceiling', make: (t) => json({ ...t, volume: 1e16 }), reason: /^invalid tick: volume: must be at most/ },
  // Kinesis takes up to 1 MiB per record; this one is a tick with 900 KB of padding.
  { name: '900 KB payload', make: (t) => json({ ...t, pad: 'x'.repeat(900 * 1024) }), reason: /^payload too large: \d+ bytes/ },
];
const HUGE = KINDS[KINDS.length - 1]!;
const SMALL = KINDS.slice(0, -1);

/**
 * Poison records: about 1 % of a stream is malformed or invalid, put with
 * plain PutRecords between good ticks of the same symbols. Every good tick
 * must be processed as if the bad ones were not there, every bad one must be
 * in the dead-letter file with its reason, and the consumer must keep going.
 */
describe('poison records', () => {
  let p: Pipeline;
  const dir = tmpDir('poison');
  const dataDir = path.join(dir, 'data');

  beforeAll(async () => {
    p = await startPipeline({ shards: 2, workers: 1, dataDir, runDir: path.join(dir, 'run'), checkpointEveryMs: 1000 });
  });
  afterAll(async () => {
    await p?.stop();
    await closeDuckdb();
  });

  it('dead-letters every bad record with its reason and processes every good tick, without stopping', async () => {
    const symbols = testSymbols(20);
    const good = await syntheticTicks(symbols, 250, 5);
    const first = good.slice(0, 4000);
    const later = good.slice(4000);
    expect(later).toHaveLength(1000);

    // 40 bad records (1 % of the first 4,000 ticks), each right after a good
    // tick and keyed by its symbol, so it sits in that symbol's shard.
    const records: { partitionKey: string; data: Buffer; kind?: PoisonKind }[] = [];
    let bad = 0;
    first.forEach((t, i) => {
      records.push({ partitionKey: t.symbol, data: Buffer.from(JSON.stringify(t)) });
      if (i % 100 === 50) {
        // two 900 KB records are enough; the rest cycle through the small kinds
        const kind = bad === 7 || bad === 33 ? HUGE : SMALL[bad % SMALL.length]!;
        records.push({ partitionKey: t.symbol, data: kind.make(t), kind });
        bad++;
      }
    });
    expect(bad).toBe(40);

    const put1 = await putInOrder(p.stack.kinesis, p.streamName, records);
    const last1 = lastSequenceByShard(put1);
    await waitFor('the first part to be checkpointed at its last record', async () => ((await allCheckpointedAt(p.stack.dynamo, p.applicationName, last1)) ? true : undefined), 120_000, 500);
    expect(await p.countRows(p.tables.ticks)).toBe(4000);

    // The consumer is still there and still consuming.
    const put2 = await putInOrder(
      p.stack.kinesis,
      p.streamName,
      later.map((t) => ({ partitionKey: t.symbol, data: Buffer.from(JSON.stringify(t)) })),
    );
    const all: PutResult[] = [...put1, ...put2];
    await waitFor('the later good ticks to be checkpointed', async () => ((await allCheckpointedAt(p.stack.dynamo, p.applicationName, lastSequenceByShard(all))) ? true : undefined), 120_000, 500);
    await waitFor('status reports for every record', () => Promise.resolve(p.status.totals.records >= records.length + later.length ? true : undefined), 10_000, 100);

    const daemon = p.workers[0]!.child;
    expect({ daemonExitCode: daemon.exitCode, daemonSignal: daemon.signalCode, restarts: p.restarts[0] ?? 0 }).toEqual({ daemonExitCode: null, daemonSignal: null, restarts: 0 });
    // No retry loop, no processor death: the bad values were refused at the door.
    expect({ sinkRetries: p.status.totals.sinkRetries, errors: p.status.totals.errors }).toEqual({ sinkRetries: 0, errors: 0 });
    const workerLog = fs.readFileSync(path.join(dir, 'run', 'worker-1.log'), 'utf8');
    expect(workerLog.split('\n').filter((l) => /Child process exited with value: [1-9]|Process terminated|RangeError|Number overflow|nothing is checkpointed past it/.test(l))).toEqual([]);
    // Each record was handled exactly once: a processor that crashed on a
    // poison record would have been restarted and replayed from its checkpoint.
    expect({ records: p.status.totals.records, applied: p.status.totals.applied, deadLetters: p.status.totals.deadLetters, duplicates: p.status.totals.duplicates }).toEqual({
      records: records.length + later.length,
      applied: 5000,
      deadLetters: 40,
      duplicates: 0,
    });

    const rows = await unmarshalledRows(p.stack.dynamo, p.tables.ticks);
    expect(rows).toHaveLength(5000);
    const pure = await pureRun(good, 60_000);
    expect(diffRows(rows, pure.rows, true)).toEqual([]);
    const lake = await readLake(dataDir);
    expect({ rows: lake.length, distinct: lakeDistinctKeys(lake) }).toEqual({ rows: 5000, distinct: 5000 });

    // Every bad record, and only those, in the dead-letter file, with its reason and its bytes.
    const letters = readDeadLetters(dataDir);
    const byKey = new Map(letters.map((l) => [`${l.shard_id}/${l.sequence_number}`, l]));
    expect({ letters: letters.length, distinct: byKey.size }).toEqual({ letters: 40, distinct: 40 });
    const problems: string[] = [];
    records.forEach((r, i) => {
      if (r.kind === undefined) return;
      const key = `${put1[i]!.shardId}/${put1[i]!.sequenceNumber}`;
      const l = byKey.get(key);
      if (l === undefined) problems.push(`${r.kind.name} at ${key}: not dead-lettered`);
      else {
        if (!r.kind.reason.test(l.reason)) problems.push(`${r.kind.name} at ${key}: reason ${JSON.stringify(l.reason.slice(0, 200))}`);
        if (l.data_base64 !== r.data.toString('base64')) problems.push(`${r.kind.name} at ${key}: data differs from what was put`);
        if (!(Date.parse(l.at) > 0)) problems.push(`${r.kind.name} at ${key}: no time`);
      }
    });
    expect(problems).toEqual([]);
  });
});
