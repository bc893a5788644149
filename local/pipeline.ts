import { ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import fs from 'node:fs';
import path from 'node:path';
import { ensureKclJars, assertJava, projectRoot } from '../consumer/kcl/jars';
import { startDaemon } from '../consumer/kcl/daemon';
import { buildDaemonProperties, localIdleTimeBetweenReads, type DaemonProperties, type LeaderLock } from '../consumer/kcl/properties';
import { ENV } from '../shared/env-names';
import type { ManagedProcess } from '../shared/runtime/process';
import { sleep } from '../shared/runtime/sleep';
import { createStream, createTables, seedLeases, startLocalStack, type LocalStack } from './stack';
import { startFaultProxy, type FaultProxy } from './fault-proxy';
import { StatusServer } from './status-server';

export interface PipelineOptions {
  shards: number;
  workers: number;
  /** lake, alerts, dead letters */
  dataDir: string;
  /** logs and generated properties */
  runDir: string;
  streamName?: string;
  applicationName?: string;
  checkpointEveryRecords?: number;
  checkpointEveryMs?: number;
  logLevel?: string;
  lakeFlushMs?: number;
  /** Unset: localIdleTimeBetweenReads(shards) (200 ms up to 4 shards). */
  idleTimeBetweenReadsInMillis?: number;
  failoverTimeMillis?: number;
  /** Per-symbol alert cooldown in tick time; unset: the consumer's default. */
  alertCooldownMs?: number;
  /** Put a FaultProxy between the workers (daemons and record processors)
   *  and the DynamoDB emulator, exposed as `dynamoProxy`; `stack.dynamo`
   *  still talks to the emulator directly. Default false. */
  dynamodbProxy?: boolean;
  /** The daemon's `shutdownGraceMillis`: how long its SIGTERM hook waits for
   *  the graceful shutdown (shutdownRequested + last checkpoint of every
   *  processor). Unset: KCL's default, which does not wait at all. */
  shutdownGraceMillis?: number;
  /** Restart a worker whose daemon exits unbidden, with the same worker id,
   *  as ECS restarts a task (default true). A configuration stop (exit 78
   *  with a stop file) is not restarted: it would only fail again. */
  supervise?: boolean;
  /** Fixed JVM heap of each daemon, MB (startDaemon's jvmHeapMb: -Xms = -Xmx,
   *  pre-touched). Unset: -Xmx384m, growing on demand. */
  jvmHeapMb?: number;
  /** The KCL leader lock (lease, heartbeat); unset: LEADER_LOCK_DEFAULTS.local
   *  (10 s / 2 s), so a dead leader's shards move in ~20 s. */
  leaderLock?: LeaderLock;
  /** Extra environment for the record processors (fault injection, quarantine). */
  workerEnv?: Record<string, string>;
  /** Write the new stream's leases before the workers start (default true),
   *  as KCL would after its random 1-30 s wait on an empty lease table;
   *  false leaves the lease table empty for KCL to fill. */
  seedLeases?: boolean;
  log?: (msg: string) => void;
}

export interface Pipeline {
  readonly stack: LocalStack;
  readonly status: StatusServer;
  readonly streamName: string;
  readonly applicationName: string;
  /** The consumer's tables, and the producer's symbol-group lease table (as in AWS). */
  readonly tables: { ticks: string; latest: string; state: string; alerts: string; producerLeases: string };
  readonly workers: (ManagedProcess | undefined)[];
  /** Present when started with `dynamodbProxy: true`. */
  readonly dynamoProxy: FaultProxy | undefined;
  /** Unbidden exits each worker was restarted after. */
  readonly restarts: number[];
  /** The line a worker stopped with on a configuration error, per worker. */
  readonly configStops: (string | undefined)[];
  startWorker(i: number): ManagedProcess;
  /** The environment of a consumer container (consumer/daemon.ts, the
   *  image's entrypoint) that joins this pipeline as `workerId`: the ECS task
   *  definition's variables, endpoints aimed at the emulators, KCL settings
   *  left at the container's production defaults. */
  entrypointEnv(workerId: string): Record<string, string>;
  /** SIGTERM. With `shutdownGraceMillis` set, to the daemon's JVM only, which
   *  asks each processor to checkpoint (shutdownRequested), then exits;
   *  without it, to the whole process group (no last checkpoint). */
  stopWorker(i: number, graceMs?: number): Promise<void>;
  /** SIGKILL the worker's whole process group: a crash, no goodbye. */
  killWorker(i: number): Promise<void>;
  countRows(table: string): Promise<number>;
  /** shardId → KCL checkpoint (a sequence number, TRIM_HORIZON, SHARD_END) from the lease table */
  leaseCheckpoints(): Promise<Record<string, string>>;
  stop(): Promise<void>;
}

function withShutdownGrace(graceMs: number | undefined, p: DaemonProperties): DaemonProperties {
  return graceMs === undefined ? p : { ...p, shutdownGraceMillis: String(graceMs) };
}

/**
 * A graceful stop: SIGTERM to the daemon's JVM alone, whose shutdown hook
 * gives every record processor shutdownRequested (a last checkpoint) within
 * shutdownGraceMillis. Signalling the whole process group, as
 * ManagedProcess.stop() does, would end the node processors before the
 * daemon can ask them anything. Whatever is left after the JVM exits (or
 * after `graceMs`) is killed with the group.
 */
async function stopJvmFirst(w: ManagedProcess, graceMs: number): Promise<void> {
  const pid = w.child.pid;
  if (pid === undefined || w.child.exitCode !== null || w.child.signalCode !== null) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const grace = new AbortController();
  await Promise.race([w.exited, sleep(graceMs, grace.signal)]);
  grace.abort();
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* the group is gone */
  }
  await w.exited;
}

/** The record-processor command the daemon runs once per shard. */
export function processorCommand(): string {
  const main = path.join(projectRoot(), 'dist', 'consumer', 'main.js');
  if (!fs.existsSync(main)) throw new Error(`${main} not found: run \`npm run build\` first`);
  // --expose-gc: the lake sink's DuckDB memory is freed only when V8 collects
  // (shared/parquet.ts collectNativeGarbage says why)
  return `${process.execPath} --expose-gc ${main}`;
}

/**
 * The whole local consumer side: emulators, stream, tables and N real KCL
 * MultiLangDaemon workers sharing one application (lease table). Used by
 * `npm start` and by the integration tests.
 */
export async function startPipeline(o: PipelineOptions): Promise<Pipeline> {
  assertJava();
  const jarsDir = ensureKclJars(o.log ? { log: o.log } : {});
  const command = processorCommand();
  fs.mkdirSync(o.runDir, { recursive: true });
  fs.mkdirSync(o.dataDir, { recursive: true });
  const stack = await startLocalStack({ logDir: o.runDir });
  const status = new StatusServer();
  let dynamoProxy: FaultProxy | undefined;
  try {
    const streamName = o.streamName ?? 'tickstream';
    const applicationName = o.applicationName ?? 'tickstream-consumer';
    const tables = { ticks: 'tickstream-ticks', latest: 'tickstream-latest', state: 'tickstream-state', alerts: 'tickstream-alerts', producerLeases: 'tickstream-producer-leases' };
    await Promise.all([createStream(stack.kinesis, streamName, o.shards), createTables(stack.dynamo, tables, applicationName)]);
    if (o.seedLeases !== false) await seedLeases(stack.kinesis, stack.dynamo, streamName, applicationName);
    await status.start();
    if (o.dynamodbProxy === true) dynamoProxy = await startFaultProxy({ host: '127.0.0.1', port: stack.emulators.dynamodb.port });
    const workerDynamoEndpoint = dynamoProxy?.endpoint ?? stack.dynamodbEndpoint;
    const workers: (ManagedProcess | undefined)[] = [];
    const restarts: number[] = [];
    const configStops: (string | undefined)[] = [];
    /** Workers stopped or killed on purpose: not restarted. */
    const retired = new Set<number>();
    let stopped = false;
    const stopFileOf = (i: number): string => path.join(o.runDir, `worker-${i + 1}.stop`);
    const supervise = (i: number, proc: ManagedProcess): void => {
      void proc.exited.then((code) => {
        if (stopped || retired.has(i) || workers[i] !== proc) return;
        const stopFile = stopFileOf(i);
        if (fs.existsSync(stopFile)) {
          configStops[i] = fs.readFileSync(stopFile, 'utf8').trim();
          o.log?.(`worker-${i + 1} stopped on a configuration error (exit ${code}): ${configStops[i]}`);
          return;
        }
        if (o.supervise === false) return;
        restarts[i] = (restarts[i] ?? 0) + 1;
        o.log?.(`worker-${i + 1} exited (code ${code}); restarting it with the same worker id, as ECS would`);
        setTimeout(() => {
          if (!stopped && !retired.has(i) && workers[i] === proc) startWorker(i);
        }, 1000);
      });
    };
    /** What a worker's record processors are told (through its daemon). */
    const processorEnv = (workerId: string): Record<string, string> => ({
      [ENV.mode]: 'local',
      [ENV.region]: stack.region,
      [ENV.dynamodbEndpoint]: workerDynamoEndpoint,
      [ENV.ticksTable]: tables.ticks,
      [ENV.latestTable]: tables.latest,
      [ENV.stateTable]: tables.state,
      [ENV.alertsTable]: tables.alerts,
      [ENV.dataDir]: path.resolve(o.dataDir),
      [ENV.statusPort]: String(status.port),
      [ENV.workerId]: workerId,
      [ENV.logLevel]: o.logLevel ?? 'info',
      [ENV.checkpointEveryRecords]: String(o.checkpointEveryRecords ?? 5000),
      [ENV.checkpointEveryMs]: String(o.checkpointEveryMs ?? 5000),
      [ENV.lakeFlushMs]: String(o.lakeFlushMs ?? 5000),
      ...(o.alertCooldownMs !== undefined ? { [ENV.alertCooldownMs]: String(o.alertCooldownMs) } : {}),
      // The SDK's notice that its 2027 releases need Node 22 is noise in
      // every processor's log; package-lock pins versions that run on 20.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });
    const startWorker = (i: number): ManagedProcess => {
      const workerId = `worker-${i + 1}`;
      retired.delete(i);
      fs.rmSync(stopFileOf(i), { force: true });
      const proc = startDaemon({
        name: workerId,
        jarsDir,
        runDir: o.runDir,
        jvmHeapMb: o.jvmHeapMb,
        properties: withShutdownGrace(o.shutdownGraceMillis, buildDaemonProperties({
          streamName,
          applicationName,
          executableName: command,
          region: stack.region,
          workerId,
          kinesisEndpoint: stack.kinesisEndpoint,
          dynamoDBEndpoint: workerDynamoEndpoint,
          idleTimeBetweenReadsInMillis: o.idleTimeBetweenReadsInMillis ?? localIdleTimeBetweenReads(o.shards),
          failoverTimeMillis: o.failoverTimeMillis ?? 10000,
          fastStart: true,
          ...(o.leaderLock !== undefined ? { leaderLock: o.leaderLock } : {}),
        })),
        env: { ...processorEnv(workerId), [ENV.stopFile]: stopFileOf(i), ...o.workerEnv },
      });
      workers[i] = proc;
      supervise(i, proc);
      return proc;
    };
    for (let i = 0; i < o.workers; i++) startWorker(i);
    return {
      stack,
      status,
      streamName,
      applicationName,
      tables,
      workers,
      dynamoProxy,
      restarts,
      configStops,
      startWorker,
      entrypointEnv: (workerId) => ({
        ...processorEnv(workerId),
        [ENV.streamName]: streamName,
        [ENV.appName]: applicationName,
        [ENV.kinesisEndpoint]: stack.kinesisEndpoint,
        AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'local',
        AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
        ...o.workerEnv,
      }),
      async stopWorker(i, graceMs = 30000) {
        retired.add(i);
        const w = workers[i];
        if (w === undefined) return;
        if (o.shutdownGraceMillis === undefined) await w.stop(graceMs);
        else await stopJvmFirst(w, graceMs);
      },
      async killWorker(i) {
        retired.add(i);
        const w = workers[i];
        if (w?.child.pid !== undefined) {
          try {
            process.kill(-w.child.pid, 'SIGKILL');
          } catch {
            /* gone */
          }
          await w.exited;
        }
      },
      async leaseCheckpoints() {
        const out: Record<string, string> = {};
        const r = await stack.dynamo.send(new ScanCommand({ TableName: applicationName, ConsistentRead: true }));
        for (const item of r.Items ?? []) {
          const key = item.leaseKey?.S;
          if (key !== undefined) out[key] = item.checkpoint?.S ?? '?';
        }
        return out;
      },
      async countRows(table) {
        let count = 0;
        let start: Record<string, AttributeValue> | undefined;
        do {
          const r = await stack.dynamo.send(new ScanCommand({ TableName: table, Select: 'COUNT', ...(start ? { ExclusiveStartKey: start } : {}) }));
          count += r.Count ?? 0;
          start = r.LastEvaluatedKey;
        } while (start);
        return count;
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        await Promise.all(workers.map((w) => (w ? w.stop(30000) : Promise.resolve(null))));
        await dynamoProxy?.close();
        status.close();
        await stack.stop();
      },
    };
  } catch (err) {
    await dynamoProxy?.close();
    status.close();
    await stack.stop();
    throw err;
  }
}
