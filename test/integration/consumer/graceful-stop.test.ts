import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../../consumer/kcl/jars';
import { startPipeline, type Pipeline } from '../../../local/pipeline';
import { closeDuckdb } from '../../../shared/parquet';
import { startProcess, type ManagedProcess } from '../../../shared/runtime/process';
import {
  allCheckpointedAt,
  expectOutputsEqualPureRun,
  kclLeader,
  lastSequenceByShard,
  leaseCheckpoints,
  leases,
  pureRun,
  recordApplied,
  steadyProducer,
} from '../../helpers/pipeline-data';
import { syntheticTicks, testSymbols } from '../../helpers/ticks';
import { tmpDir, waitFor } from '../../helpers/wait';

const COOLDOWN_MS = 60_000;
/** The container's KCL defaults (consumer/kcl/properties.ts daemonPropertiesFromEnv):
 *  failoverTimeMillis 10 s; KCL assigns leases every 2 x failoverTimeMillis. */
const FAILOVER_MS = 10_000;
const ASSIGNMENT_PASS_MS = 2 * FAILOVER_MS;
/** The bound on the takeover (the new owner holds the lease):
 *  failoverTimeMillis plus one assignment pass. */
const MAX_OWNED_MS = FAILOVER_MS + ASSIGNMENT_PASS_MS;
/** After the lease is owned: the new owner's lease discovery (every half an
 *  assignment pass), three Scheduler dispatch passes (1 s each) and the
 *  record processor's start, which on this 2-core machine under a test
 *  run's load takes up to ~5 s; 15 s of slack. */
const MAX_FIRST_TICK_AFTER_OWNED_MS = ASSIGNMENT_PASS_MS / 2 + 15_000;

/**
 * ECS stops a task with SIGTERM to its entrypoint. Two consumer containers
 * as the image runs them (`node dist/consumer/daemon.js`, production KCL
 * settings, endpoints aimed at the emulators) share 4 shards; the one that
 * holds the leader lock and every lease gets SIGTERM. Its shutdown must
 * checkpoint every shard it holds (periodic checkpoints are turned off, so
 * only the shutdown can), release the leader lock, and exit; the other must
 * then own every shard within failoverTimeMillis plus one assignment pass
 * (our launcher hands the leases back after the shutdown; KCL alone leaves
 * them owned until a new leader has watched them expire, two passes) and
 * apply ticks there soon after; the outputs must equal one uninterrupted run.
 */
describe('graceful stop of a consumer container', () => {
  let p: Pipeline;
  const dir = tmpDir('graceful-stop');
  const dataDir = path.join(dir, 'data');
  const containers: ManagedProcess[] = [];
  const logOf = (id: string): string => path.join(dir, `${id}.log`);
  const startContainer = (id: string): ManagedProcess => {
    const c = startProcess(id, process.execPath, [path.join(projectRoot(), 'dist', 'consumer', 'daemon.js')], {
      logFile: logOf(id),
      env: { ...process.env, ...p.entrypointEnv(id) },
    });
    containers.push(c);
    return c;
  };

  beforeAll(async () => {
    p = await startPipeline({
      shards: 4,
      workers: 0,
      dataDir,
      runDir: path.join(dir, 'run'),
      // no periodic checkpoint during the test: only the shutdown's
      checkpointEveryMs: 600_000,
      checkpointEveryRecords: 1_000_000,
      alertCooldownMs: COOLDOWN_MS,
    });
  });

  afterAll(async () => {
    await Promise.all(containers.map((c) => c.stop(10_000)));
    await p?.stop();
    await closeDuckdb();
  });

  it(`SIGTERM checkpoints every shard and releases the leader lock; the other container owns every shard within ${MAX_OWNED_MS / 1000} s`, async () => {
    const symbols = testSymbols(40);
    const ticks = await syntheticTicks(symbols, 600, 17);
    const { applied, stop: unsubscribe } = recordApplied(p.status);
    // 40 ticks every 500 ms, paused while container-a catches up before its stop
    const producer = steadyProducer(p.stack.kinesis, p.streamName, ticks, symbols.length);
    const put = producer.put;
    const owners = async (): Promise<Map<string, string | undefined>> =>
      new Map((await leases(p.stack.dynamo, p.applicationName)).map((l) => [String(l.leaseKey), l.leaseOwner as string | undefined]));

    try {
      const a = startContainer('container-a');
      await waitFor(
        'container-a leading, owning all 4 leases and applying ticks on each',
        async () => {
          const o = await owners();
          const shardsApplied = new Set(applied.filter((x) => x.worker === 'container-a').map((x) => x.shardId));
          return o.size === 4 && [...o.values()].every((w) => w === 'container-a') && shardsApplied.size === 4 && (await kclLeader(p.stack.dynamo, p.applicationName)) === 'container-a' ? true : undefined;
        },
        120_000,
        250,
      );
      startContainer('container-b');
      await waitFor('container-b started (its worker loop running)', () => Promise.resolve(fs.readFileSync(logOf('container-b'), 'utf8').includes('Initialization complete') ? true : undefined), 90_000, 250);

      // pause, let container-a apply everything put so far, and show that
      // nothing has checkpointed it yet
      producer.pause();
      await waitFor('the producer paused', () => Promise.resolve(producer.paused ? true : undefined), 10_000, 50);
      const putBeforeStop = put.length;
      const lastBeforeStop = lastSequenceByShard(put);
      await waitFor(`container-a applying all ${putBeforeStop} ticks`, async () => ((await p.countRows(p.tables.ticks)) >= putBeforeStop ? true : undefined), 60_000, 250);
      const held = [...(await owners())].filter(([, w]) => w === 'container-a').map(([s]) => s).sort();
      expect({ checkpointedBeforeStop: await allCheckpointedAt(p.stack.dynamo, p.applicationName, lastBeforeStop), held: held.length }).toEqual({ checkpointedBeforeStop: false, held: expect.any(Number) as unknown });
      expect(held.length).toBeGreaterThan(0);

      // ECS's stop: SIGTERM to the entrypoint process alone
      const stoppedAt = Date.now();
      process.kill(a.child.pid ?? 0, 'SIGTERM');
      producer.resume();
      const exitCode = await a.exited;
      const exitedAt = Date.now();
      const leaderAfterExit = await kclLeader(p.stack.dynamo, p.applicationName);
      const checkpoints = await leaseCheckpoints(p.stack.dynamo, p.applicationName);
      const notCheckpointed = held.filter((s) => {
        const cp = checkpoints.get(s);
        const last = lastBeforeStop.get(s);
        return last !== undefined && !(cp !== undefined && /^\d+$/.test(cp) && BigInt(cp) >= BigInt(last));
      });
      expect({ exitCode, notCheckpointed, leaderAfterExit: leaderAfterExit === 'container-a' ? 'still container-a' : 'released' }).toEqual({
        // the JVM exits 143 (128 + SIGTERM) after its shutdown hook; the entrypoint passes it on
        exitCode: 143,
        notCheckpointed: [],
        leaderAfterExit: 'released',
      });

      let leaderAt: number | undefined;
      const ownedAt = new Map<string, number>();
      const firstApplied = (s: string): number | undefined => applied.find((x) => x.at > stoppedAt && x.worker === 'container-b' && x.shardId === s)?.at;
      await waitFor(
        `container-b owning and applying ticks on ${held.join(', ')}`,
        async () => {
          const now = Date.now();
          if (leaderAt === undefined && (await kclLeader(p.stack.dynamo, p.applicationName)) === 'container-b') leaderAt = now;
          const o = await owners();
          for (const s of held) if (!ownedAt.has(s) && o.get(s) === 'container-b') ownedAt.set(s, now);
          return held.every((s) => firstApplied(s) !== undefined) ? true : undefined;
        },
        120_000,
        250,
      );
      const perShard = held.map((s) => ({ shard: s, ownedMs: (ownedAt.get(s) ?? NaN) - stoppedAt, firstTickMs: (firstApplied(s) ?? NaN) - stoppedAt }));
      process.stderr.write(
        `graceful-stop: SIGTERM to container-a (leader, holding ${held.join(', ')}); exited ${exitCode} after ${exitedAt - stoppedAt} ms; ` +
          `container-b leader after ${leaderAt === undefined ? '?' : leaderAt - stoppedAt} ms; ` +
          perShard.map((x) => `${x.shard}: owned after ${x.ownedMs} ms, first tick after ${x.firstTickMs} ms`).join('; ') +
          ` (failoverTimeMillis ${FAILOVER_MS}, assignment every ${ASSIGNMENT_PASS_MS} ms)\n`,
      );
      expect(perShard.filter((x) => !(x.ownedMs <= MAX_OWNED_MS && x.firstTickMs - x.ownedMs <= MAX_FIRST_TICK_AFTER_OWNED_MS))).toEqual([]);

      await producer.stop();
      const last = lastSequenceByShard(put);
      // periodic checkpoints are off: once container-b has applied everything,
      // its own SIGTERM must checkpoint every shard at its last record
      await waitFor(`container-b applying all ${put.length} ticks`, async () => ((await p.countRows(p.tables.ticks)) >= put.length ? true : undefined), 120_000, 500);
      const b = containers[1];
      process.kill(b?.child.pid ?? 0, 'SIGTERM');
      expect(await b?.exited).toBe(143);
      expect(await allCheckpointedAt(p.stack.dynamo, p.applicationName, last)).toBe(true);
    } finally {
      unsubscribe();
      await producer.stop();
    }

    // nothing lost, nothing applied twice: one uninterrupted run of the pure core
    const pure = await pureRun(ticks.slice(0, put.length), COOLDOWN_MS);
    await expectOutputsEqualPureRun({ dynamo: p.stack.dynamo, tables: p.tables, dataDir, pure, total: put.length, symbols: 40 });
  });
});
