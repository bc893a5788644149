import path from 'node:path';
import { LEADER_LOCK_DEFAULTS } from '../../../consumer/kcl/properties';
import { startPipeline, type Pipeline } from '../../../local/pipeline';
import { closeDuckdb } from '../../../shared/parquet';
import {
  allCheckpointedAt,
  expectOutputsEqualPureRun,
  kclLeader,
  lastSequenceByShard,
  leases,
  pureRun,
  recordApplied,
  steadyProducer,
} from '../../helpers/pipeline-data';
import { syntheticTicks, testSymbols } from '../../helpers/ticks';
import { tmpDir, waitFor } from '../../helpers/wait';

const COOLDOWN_MS = 60_000;
const FAILOVER_MS = 5000;
/** The bound per shard, kill → first tick applied by the new owner. Stock
 *  KCL 3.1.3 took ~110-119 s here (its leader lock is a fixed 120 s / 30 s);
 *  our launcher's local 10 s / 2 s lock measured ~21-23 s. */
const MAX_TAKEOVER_MS = 30_000;

/**
 * Takeover after kill -9 of the KCL *leader*, the one worker that assigns
 * leases. Two workers share 4 shards while ticks flow; the leader is killed
 * (its whole process group, no goodbye, and not restarted: killWorker retires
 * it). Only once the survivor holds the leader lock can the dead worker's
 * leases move, so the takeover time is the lock's lease (10 s locally) plus
 * lease expiry and assignment plus the processor's start. Per shard the
 * leader held: kill → first tick the new owner applied, at most 30 s. Then
 * the usual exactness: rows, lake and alerts equal an uninterrupted run.
 */
describe('takeover after kill -9 of the KCL leader', () => {
  let p: Pipeline;
  const dir = tmpDir('leader-kill');
  const dataDir = path.join(dir, 'data');

  beforeAll(async () => {
    p = await startPipeline({
      shards: 4,
      workers: 2,
      dataDir,
      runDir: path.join(dir, 'run'),
      // checkpoints far enough apart that the killed leader leaves work past its last one
      checkpointEveryMs: 3000,
      failoverTimeMillis: FAILOVER_MS,
      alertCooldownMs: COOLDOWN_MS,
    });
  });

  afterAll(async () => {
    await p?.stop();
    await closeDuckdb();
  });

  it(`moves the dead leader's shards to the survivor within ${MAX_TAKEOVER_MS / 1000} s each, exactly once`, async () => {
    const symbols = testSymbols(40);
    // enough for 200 s at the rate below; the test stops producing long before
    const ticks = await syntheticTicks(symbols, 400, 13);

    const { applied, stop: unsubscribe } = recordApplied(p.status);
    // a steady stream: 40 ticks (one per symbol) every 500 ms until told to stop
    const producer = steadyProducer(p.stack.kinesis, p.streamName, ticks, symbols.length);
    const put = producer.put;

    const owners = async (): Promise<Map<string, string | undefined>> =>
      new Map((await leases(p.stack.dynamo, p.applicationName)).map((l) => [String(l.leaseKey), l.leaseOwner as string | undefined]));
    const t0 = Date.now();
    try {
      await waitFor(
        'both workers owning leases and applying ticks, the leader among them, mid-stream',
        async () => {
          if (!producer.producing) throw new Error('the stream ended before both workers held leases');
          const o = await owners();
          const held = new Set(o.values());
          const leader = await kclLeader(p.stack.dynamo, p.applicationName);
          const appliedBy = new Set(applied.map((a) => a.worker));
          return o.size === 4 && held.has('worker-1') && held.has('worker-2') && leader !== undefined && appliedBy.has('worker-1') && appliedBy.has('worker-2') ? true : undefined;
        },
        120_000,
        250,
      );
      // more than one checkpoint interval: the leader has checkpointed and gone past it
      await new Promise((r) => setTimeout(r, 4000));
      const leader = await kclLeader(p.stack.dynamo, p.applicationName);
      const before = await owners();
      const victim = leader === 'worker-1' ? 0 : 1;
      const survivor = leader === 'worker-1' ? 'worker-2' : 'worker-1';
      const killedShards = [...before].filter(([, o]) => o === leader).map(([k]) => k).sort();
      const killedAt = Date.now();
      await p.killWorker(victim);
      const rowsAtKill = await p.countRows(p.tables.ticks);
      expect({ leader, heldLeases: killedShards.length > 0, diedOfSigkill: p.workers[victim]?.child.signalCode, producing: producer.producing }).toEqual({
        leader: expect.stringMatching(/^worker-[12]$/) as unknown,
        heldLeases: true,
        diedOfSigkill: 'SIGKILL',
        producing: true,
      });

      const ownedAt = new Map<string, number>();
      let newLeaderAt: number | undefined;
      const firstApplied = (shard: string): number | undefined => applied.find((a) => a.at > killedAt && a.worker === survivor && a.shardId === shard)?.at;
      await waitFor(
        `${survivor} owning and applying ticks on ${killedShards.join(', ')}`,
        async () => {
          if (!producer.producing) throw new Error('the stream ended before the takeover');
          const now = Date.now();
          if (newLeaderAt === undefined && (await kclLeader(p.stack.dynamo, p.applicationName)) === survivor) newLeaderAt = now;
          const o = await owners();
          for (const s of killedShards) if (!ownedAt.has(s) && o.get(s) === survivor) ownedAt.set(s, now);
          return killedShards.every((s) => ownedAt.has(s) && firstApplied(s) !== undefined) ? true : undefined;
        },
        90_000,
        250,
      );
      const perShard = killedShards.map((s) => ({ shard: s, ownerMs: ownedAt.get(s)! - killedAt, firstAppliedMs: firstApplied(s)! - killedAt }));
      process.stderr.write(
        `leader-kill: killed leader ${leader} ${killedAt - t0} ms into the test (${rowsAtKill} rows stored), holding ${killedShards.join(', ')}; ` +
          `lock ${LEADER_LOCK_DEFAULTS.local.leaseMs} ms / ${LEADER_LOCK_DEFAULTS.local.heartbeatMs} ms, failoverTimeMillis ${FAILOVER_MS}; ` +
          `${survivor} leader after ${newLeaderAt === undefined ? '?' : newLeaderAt - killedAt} ms; ` +
          perShard.map((x) => `${x.shard}: owned after ${x.ownerMs} ms, first tick applied after ${x.firstAppliedMs} ms`).join('; ') +
          '\n',
      );
      expect(perShard.filter((x) => x.firstAppliedMs > MAX_TAKEOVER_MS)).toEqual([]);

      await producer.stop();
      const last = lastSequenceByShard(put);
      await waitFor('every shard checkpointed at its last record', async () => ((await allCheckpointedAt(p.stack.dynamo, p.applicationName, last)) ? true : undefined), 120_000, 500);
      process.stderr.write(`leader-kill: ${put.length} ticks put; every shard checkpointed at its last record ${Date.now() - killedAt} ms after the kill\n`);
      expect([...(await owners()).values()]).toEqual([...before.keys()].map(() => survivor));
      expect({ restartsOfTheKilled: p.restarts[victim] ?? 0, alive: p.workers[victim]?.child.exitCode === null && p.workers[victim]?.child.signalCode === null }).toEqual({ restartsOfTheKilled: 0, alive: false });
    } finally {
      unsubscribe();
      await producer.stop();
    }

    // exactness: what was put, processed as one uninterrupted run of the pure core
    const total = put.length;
    const pure = await pureRun(ticks.slice(0, total), COOLDOWN_MS);
    expect(pure.alerts.length).toBeGreaterThan(0);

    await expectOutputsEqualPureRun({ dynamo: p.stack.dynamo, tables: p.tables, dataDir, pure, total, symbols: 40 });
  });
});
