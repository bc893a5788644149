import { DescribeStreamSummaryCommand, ListShardsCommand, UpdateShardCountCommand, type Shard } from '@aws-sdk/client-kinesis';
import path from 'node:path';
import { startPipeline, type Pipeline } from '../../../local/pipeline';
import { closeDuckdb } from '../../../shared/parquet';
import type { Tick } from '../../../shared/tick';
import {
  alertLine,
  diffRows,
  lakeDistinctKeys,
  lastSequenceByShard,
  leases,
  pureRun,
  putInOrder,
  readAlerts,
  readLake,
  sortAlerts,
  tickRecords,
  unmarshalledRows,
  type PutResult,
} from '../../helpers/pipeline-data';
import { syntheticTicks, testSymbols } from '../../helpers/ticks';
import { tmpDir, waitFor } from '../../helpers/wait';

const COOLDOWN_MS = 60_000;
const SHARD_END = 'SHARD_END';

/** What the lease-table watcher saw of one lease. */
interface LeaseSeen {
  /** First scan (its answer's arrival) that showed the checkpoint at SHARD_END:
   *  the checkpoint was written before it. */
  shardEndAt?: number;
  /** First scan that showed a checkpoint past TRIM_HORIZON. */
  progressAt?: number;
  /** First scan that no longer held the lease, once it had been seen. */
  deletedAt?: number;
  owners: Set<string>;
}

async function allShards(p: Pipeline): Promise<Shard[]> {
  const out: Shard[] = [];
  let token: string | undefined;
  do {
    const r = await p.stack.kinesis.send(new ListShardsCommand(token === undefined ? { StreamName: p.streamName } : { NextToken: token }));
    out.push(...(r.Shards ?? []));
    token = r.NextToken;
  } while (token !== undefined);
  return out;
}

/** UpdateShardCount, then the time until the stream is ACTIVE again with `target` open shards. */
async function reshard(p: Pipeline, target: number): Promise<number> {
  const t = Date.now();
  await p.stack.kinesis.send(new UpdateShardCountCommand({ StreamName: p.streamName, TargetShardCount: target, ScalingType: 'UNIFORM_SCALING' }));
  await waitFor(
    `the stream ACTIVE with ${target} open shards`,
    async () => {
      const s = (await p.stack.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: p.streamName }))).StreamDescriptionSummary;
      return s?.StreamStatus === 'ACTIVE' && s.OpenShardCount === target ? true : undefined;
    },
    30_000,
    50,
  );
  return Date.now() - t;
}

const parentsOf = (s: Shard): string[] => [s.ParentShardId, s.AdjacentParentShardId].filter((x): x is string => x !== undefined);

function stats(xs: readonly number[]): string {
  if (xs.length === 0) return 'none';
  const s = [...xs].sort((a, b) => a - b);
  return `min ${s[0]} / median ${s[Math.floor((s.length - 1) / 2)]} / max ${s.at(-1)} ms (n=${s.length})`;
}

/**
 * Resharding under load with the real daemons: while a paced producer writes,
 * the stream goes from 4 to 8 shards (every shard split) and back to 4 (every
 * pair merged) with UpdateShardCount. The KCL must finish every parent and
 * checkpoint it at SHARD_END before any child applies a tick (the per-symbol
 * state then follows the symbol to the child through its snapshot), and the
 * end result must equal an uninterrupted run of the pure core: nothing lost,
 * nothing applied twice, no SMA off by a bit.
 */
describe('resharding 4 → 8 → 4 shards while ticks are written', () => {
  let p: Pipeline;
  const dir = tmpDir('resharding');
  const dataDir = path.join(dir, 'data');

  beforeAll(async () => {
    p = await startPipeline({
      shards: 4,
      workers: 2,
      dataDir,
      runDir: path.join(dir, 'run'),
      checkpointEveryMs: 2000,
      alertCooldownMs: COOLDOWN_MS,
    });
  });
  afterAll(async () => {
    await p?.stop();
    await closeDuckdb();
  });

  it('finishes each parent at SHARD_END before its children apply a tick, and ends equal to an uninterrupted run', async () => {
    const t0 = Date.now();
    const symbols = testSymbols(40);
    const ticks = await syntheticTicks(symbols, 300, 23);
    const total = ticks.length;
    expect(total).toBe(12_000);
    const pure = await pureRun(ticks, COOLDOWN_MS);
    expect(pure.alerts.length).toBeGreaterThan(0);
    // a steady stream: 60 chunks of 200 ticks (5 per symbol), one every 400 ms
    const chunks: Tick[][] = Array.from({ length: 60 }, (_, c) => ticks.slice(c * 200, (c + 1) * 200));

    // The lease table, every ~200 ms, for the whole run: parent leases may be
    // deleted once their children have started (cleanupLeasesUponShardCompletion),
    // so SHARD_END has to be seen while it is there.
    const seen = new Map<string, LeaseSeen>();
    let maxBehindMs = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        try {
          const ls = await leases(p.stack.dynamo, p.applicationName);
          const at = Date.now();
          const present = new Set<string>();
          for (const l of ls) {
            const key = String(l.leaseKey);
            present.add(key);
            const s = seen.get(key) ?? { owners: new Set<string>() };
            seen.set(key, s);
            if (typeof l.leaseOwner === 'string') s.owners.add(l.leaseOwner);
            if (l.checkpoint === SHARD_END) s.shardEndAt ??= at;
            if (l.checkpoint !== 'TRIM_HORIZON') s.progressAt ??= at;
          }
          for (const [key, s] of seen) if (!present.has(key)) s.deletedAt ??= at;
          for (const b of p.status.totals.behindByShard.values()) maxBehindMs = Math.max(maxBehindMs, b);
        } catch {
          /* the next sample will do */
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    })();

    const put: PutResult[] = [];
    const putAt: number[] = [];
    let producer: Promise<void> = Promise.resolve();
    try {
      // The stream starts once the first four shards are being consumed, so
      // the parents are read live, not only after they have closed.
      await waitFor('a record processor on each of the 4 shards', () => Promise.resolve(p.status.totals.shardsStarted.size >= 4 ? true : undefined), 120_000, 250);
      const streamFrom = Date.now();
      let merged = false;
      producer = (async () => {
        for (const [i, c] of chunks.entries()) {
          // The last quarter waits for the merge, so that the merged shards get
          // ticks however slowly the children of the split start on a busy machine.
          if (i === 45) await waitFor('the merge, before the last 15 chunks', () => Promise.resolve(merged ? true : undefined), 120_000, 100);
          put.push(...(await putInOrder(p.stack.kinesis, p.streamName, tickRecords(c))));
          putAt.push(Date.now());
          await new Promise((r) => setTimeout(r, 400));
        }
      })();
      const chunksPut = (n: number) => () => Promise.resolve(putAt.length >= n ? true : undefined);

      await waitFor('15 chunks put and consumed in part', async () => ((await chunksPut(15)()) && p.status.totals.applied > 0 ? true : undefined), 120_000, 100);
      const split = { at: Date.now(), chunk: putAt.length, activeMs: await reshard(p, 8) };
      const afterSplit = await allShards(p);
      const firstChildren = afterSplit.filter((s) => s.SequenceNumberRange?.EndingSequenceNumber === undefined).map((s) => s.ShardId!);
      expect(firstChildren).toHaveLength(8);

      // The merge comes once a child of the split has applied ticks, so the
      // merged parents are shards the consumer was already reading.
      await waitFor(
        'a child of the split applying ticks, and 35 chunks put',
        async () => ((await chunksPut(35)()) && firstChildren.some((c) => p.status.totals.firstAppliedByShard.has(c)) ? true : undefined),
        120_000,
        100,
      );
      const merge = { at: Date.now(), chunk: putAt.length, activeMs: await reshard(p, 4) };
      merged = true;
      await producer;
      expect(put).toHaveLength(total);
      const streamMs = putAt.at(-1)! - streamFrom;

      // Done: every open shard checkpointed at its last record, every closed one at SHARD_END.
      const shards = await allShards(p);
      const open = new Set(shards.filter((s) => s.SequenceNumberRange?.EndingSequenceNumber === undefined).map((s) => s.ShardId!));
      const last = lastSequenceByShard(put);
      await waitFor(
        'every open shard checkpointed at its last record and every closed one at SHARD_END',
        async () => {
          const cps = new Map((await leases(p.stack.dynamo, p.applicationName)).map((l) => [String(l.leaseKey), String(l.checkpoint)]));
          for (const s of shards) {
            const id = s.ShardId!;
            if (open.has(id)) {
              if (last.has(id) && cps.get(id) !== last.get(id)) return undefined;
            } else if (seen.get(id)?.shardEndAt === undefined) return undefined;
          }
          return true;
        },
        120_000,
        500,
      );
      const drainedMs = Date.now() - putAt.at(-1)!;
      watching = false;
      await watcher;

      // Ticks went to all three generations: 4 shards, their 8 children, the 4 merged.
      const putShards = new Set(put.map((r) => r.shardId));
      const generation = (id: string): number => {
        const s = shards.find((x) => x.ShardId === id)!;
        return parentsOf(s).length === 0 ? 0 : parentsOf(s).length === 1 ? 1 : 2;
      };
      expect([0, 1, 2].map((g) => [...putShards].some((id) => generation(id) === g))).toEqual([true, true, true]);
      expect(shards).toHaveLength(16);

      // The ordering guarantee, shard by shard: a child's first batch that
      // applied a tick started (the processor's own clock) after a lease scan
      // had already shown each of its parents at SHARD_END.
      const firstApplied = p.status.totals.firstAppliedByShard;
      const violations: string[] = [];
      const gaps: number[] = [];
      for (const child of shards) {
        const childId = child.ShardId!;
        const applied = firstApplied.get(childId);
        if (applied === undefined) continue;
        let parentsEnd = 0;
        for (const parent of parentsOf(child)) {
          const end = seen.get(parent)?.shardEndAt;
          if (end === undefined) violations.push(`${parent} (parent of ${childId}) was never seen at SHARD_END`);
          else if (!(end < applied)) violations.push(`${childId} applied a tick at ${applied}, its parent ${parent} was first seen at SHARD_END at ${end}`);
          else parentsEnd = Math.max(parentsEnd, end);
        }
        if (parentsEnd > 0) gaps.push(applied - parentsEnd);
      }
      expect(violations).toEqual([]);
      // every shard that received ticks applied some, parents and children alike
      expect([...putShards].filter((id) => !firstApplied.has(id))).toEqual([]);

      const firstTickAfter = (from: number, ids: readonly string[]): number => Math.min(...ids.map((id) => firstApplied.get(id) ?? Number.POSITIVE_INFINITY)) - from;
      const parentsEndedAfter = (from: number, ids: readonly string[]): number => Math.max(...ids.map((id) => seen.get(id)?.shardEndAt ?? Number.POSITIVE_INFINITY)) - from;
      const closedBy = (gen: number) => shards.filter((s) => generation(s.ShardId!) === gen).map((s) => s.ShardId!);
      const mergedIds = [...open];
      const deleted = [...seen].filter(([, s]) => s.deletedAt !== undefined).map(([k]) => k);
      console.error(
        [
          `resharding: stream of ${total} ticks in ${chunks.length} chunks over ${streamMs} ms; split 4→8 after chunk ${split.chunk}, ACTIVE in ${split.activeMs} ms; merge 8→4 after chunk ${merge.chunk}, ACTIVE in ${merge.activeMs} ms`,
          `  UpdateShardCount → every parent seen at SHARD_END: split ${parentsEndedAfter(split.at, closedBy(0))} ms, merge ${parentsEndedAfter(merge.at, closedBy(1))} ms`,
          `  UpdateShardCount → first tick applied on a new shard: split ${firstTickAfter(split.at, firstChildren)} ms, merge ${firstTickAfter(merge.at, mergedIds)} ms`,
          `  parent SHARD_END (first seen) → child's first applying batch: ${stats(gaps)}`,
          `  last put → every shard checkpointed at its end: ${drainedMs} ms; max millisBehindLatest reported ${maxBehindMs} ms`,
          `  records handed to processors ${p.status.totals.records} for ${total} put; applied ${p.status.totals.applied}, duplicates skipped ${p.status.totals.duplicates}; parent leases deleted during the run: ${deleted.length ? deleted.join(', ') : 'none'}`,
          `  lease owners: ${[...seen].map(([k, s]) => `${k.replace('shardId-0000000000', '')}:${[...s.owners].join('+')}`).join(' ')}`,
          `  test so far ${Date.now() - t0} ms`,
        ].join('\n'),
      );
    } finally {
      watching = false;
      await watcher;
      await producer.catch(() => undefined);
    }

    const rows = await unmarshalledRows(p.stack.dynamo, p.tables.ticks);
    expect(rows).toHaveLength(total);
    expect(diffRows(rows, pure.rows, true)).toEqual([]);

    const lake = await readLake(dataDir);
    expect({ rows: lake.length, distinct: lakeDistinctKeys(lake) }).toEqual({ rows: total, distinct: total });
    expect(diffRows(lake, pure.rows, false)).toEqual([]);

    const alerts = readAlerts(dataDir);
    expect(alerts.length - new Set(alerts.map((a) => a.id)).size).toBe(0);
    expect(sortAlerts(alerts)).toEqual(sortAlerts(pure.alerts.map(alertLine)));
    expect(p.status.totals.deadLetters).toBe(0);
  });
});
