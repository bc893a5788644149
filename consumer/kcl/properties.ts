import { ConfigError, httpUrl, int, optional, readSettings, text, withDefault, type Env, type Setting } from '../../shared/runtime/config';
import { ENV } from '../../shared/env-names';

/**
 * MultiLangDaemon configuration, generated rather than hand-written so the
 * local stack, the tests and the ECS container all get a consistent file.
 * Keys are KCL 3.x multilang keys (see KinesisClientLibConfigurator), plus
 * the two leader-lock keys our launcher reads (LEADER_LOCK_KEYS).
 */
export interface DaemonPropertiesInput {
  streamName: string;
  applicationName: string;
  /** command line the daemon runs once per leased shard */
  executableName: string;
  region: string;
  workerId?: string;
  initialPosition?: 'TRIM_HORIZON' | 'LATEST';
  /** emulator endpoints, with scheme; absent in AWS */
  kinesisEndpoint?: string;
  dynamoDBEndpoint?: string;
  idleTimeBetweenReadsInMillis?: number;
  maxRecords?: number;
  failoverTimeMillis?: number;
  /** The most leases this worker takes (KCL maxLeasesForWorker); unset: no
   *  limit. infra/ sets it from shards / minConsumerTasks and sizes the task's
   *  memory for that many record processors. */
  maxLeasesForWorker?: number;
  /** How long the daemon's SIGTERM hook waits for every processor's
   *  shutdownRequested and last checkpoint. KCL's own default does not wait,
   *  so a stop (an ECS deploy, Ctrl-C) would skip the final checkpoint. Keep
   *  it below the ECS stop timeout (120 s in infra/). */
  shutdownGraceMillis?: number;
  /** true on the emulators: shortens KCL's start-up and assignment timers,
   *  which are tuned for fleets, not for a laptop */
  fastStart?: boolean;
  /** The KCL leader lock, set by our launcher (consumer/kcl/launcher): unset,
   *  LEADER_LOCK_DEFAULTS (local with fastStart, aws without). */
  leaderLock?: LeaderLock;
}

/**
 * The DynamoDB lock that makes one KCL worker the leader (the only one that
 * assigns leases). A dead leader blocks reassignment for about `leaseMs` plus
 * up to two `heartbeatMs` (the others re-check it every heartbeat, and take it
 * once its record version has not moved for the lease duration). The leader
 * renews it every heartbeat; one that cannot for `leaseMs` (a long GC pause,
 * throttling) loses leadership, which costs lease churn, not correctness.
 * KCL's own default (and core 3.1.3's only value) is 120 s / 30 s.
 */
export interface LeaderLock {
  leaseMs: number;
  heartbeatMs: number;
}

export const LEADER_LOCK_DEFAULTS = {
  /** every non-leader reads the lock item every 5 s: a GetItem per worker per 5 s */
  aws: { leaseMs: 20_000, heartbeatMs: 5000 },
  /** as measured: first tick on a dead leader's shards after ~21-23 s */
  local: { leaseMs: 10_000, heartbeatMs: 2000 },
} as const satisfies Record<string, LeaderLock>;

/** The properties keys TickstreamKclLauncher reads (it requires both). */
export const LEADER_LOCK_KEYS = {
  leaseMs: 'tickstreamLeaderLockLeaseDurationMillis',
  heartbeatMs: 'tickstreamLeaderLockHeartbeatPeriodMillis',
} as const;

/** Optional launcher key: CoordinatorConfig.shardConsumerDispatchPollIntervalMillis
 *  (the launcher's comment says why it matters for a start). */
export const DISPATCH_POLL_KEY = 'tickstreamShardConsumerDispatchPollIntervalMillis';

/**
 * The lock client refuses a lease shorter than 2 heartbeats
 * (AmazonDynamoDBLockClient's constructor, dynamodb-lock-client 1.4.0) and,
 * like KCL's javadoc, recommends at least 3: the heartbeat may be at most a
 * third of the lease. The launcher checks the same.
 */
function leaderLockProblem(l: LeaderLock): string | undefined {
  if (!Number.isSafeInteger(l.leaseMs) || !Number.isSafeInteger(l.heartbeatMs) || l.leaseMs <= 0 || l.heartbeatMs <= 0) return 'both must be positive whole milliseconds';
  if (l.heartbeatMs * 3 > l.leaseMs) return `the heartbeat (${l.heartbeatMs} ms) must be at most a third of the lease (${l.leaseMs} ms)`;
  return undefined;
}

/**
 * The leader lock from TICKSTREAM_KCL_LEADER_LEASE_MS and
 * TICKSTREAM_KCL_LEADER_HEARTBEAT_MS, each defaulting to `defaults`; an
 * error names the variable to fix.
 */
export function leaderLockFromEnv(env: Env, defaults: LeaderLock): LeaderLock {
  const { leaseMs, heartbeatMs } = readSettings(
    {
      leaseMs: { env: ENV.kclLeaderLeaseMs, schema: withDefault(int(3000, 600_000), defaults.leaseMs) },
      heartbeatMs: { env: ENV.kclLeaderHeartbeatMs, schema: withDefault(int(1000, 200_000), defaults.heartbeatMs) },
    },
    { env },
  );
  if (heartbeatMs * 3 > leaseMs) {
    throw new ConfigError(ENV.kclLeaderHeartbeatMs, `at most a third of ${ENV.kclLeaderLeaseMs} (${leaseMs}), i.e. <= ${Math.floor(leaseMs / 3)} (the leader lock renews and is checked every heartbeat)`, heartbeatMs);
  }
  return { leaseMs, heartbeatMs };
}

export type DaemonProperties = Record<string, string>;

export function buildDaemonProperties(i: DaemonPropertiesInput): DaemonProperties {
  const p: DaemonProperties = {
    executableName: i.executableName,
    streamName: i.streamName,
    applicationName: i.applicationName,
    AwsCredentialsProvider: 'DefaultCredentialsProvider',
    processingLanguage: 'nodejs',
    initialPositionInStream: i.initialPosition ?? 'TRIM_HORIZON',
    regionName: i.region,
    // Enhanced fan-out needs SubscribeToShard over HTTP/2 event streams; polling
    // works everywhere and 2-5 consumers per stream stay within 5 reads/s/shard.
    retrievalMode: 'POLLING',
    idleTimeBetweenReadsInMillis: String(i.idleTimeBetweenReadsInMillis ?? 250),
    maxRecords: String(i.maxRecords ?? 10000),
    failoverTimeMillis: String(i.failoverTimeMillis ?? 10000),
    shutdownGraceMillis: String(i.shutdownGraceMillis ?? 60000),
    // Our own metrics go out as EMF in the logs; the daemon's CloudWatch
    // publisher would need PutMetricData and has no endpoint key for emulators.
    metricsLevel: 'NONE',
    // the processor checkpoints itself after its sinks acknowledge
    callProcessRecordsEvenForEmptyRecordList: 'true',
    validateSequenceNumberBeforeCheckpointing: 'true',
    cleanupLeasesUponShardCompletion: 'true',
  };
  const lock = i.leaderLock ?? (i.fastStart === true ? LEADER_LOCK_DEFAULTS.local : LEADER_LOCK_DEFAULTS.aws);
  const problem = leaderLockProblem(lock);
  if (problem !== undefined) throw new Error(`leader lock ${JSON.stringify(lock)}: ${problem}`);
  p[LEADER_LOCK_KEYS.leaseMs] = String(lock.leaseMs);
  p[LEADER_LOCK_KEYS.heartbeatMs] = String(lock.heartbeatMs);
  if (i.workerId !== undefined) p.workerId = i.workerId;
  if (i.maxLeasesForWorker !== undefined) p.maxLeasesForWorker = String(i.maxLeasesForWorker);
  if (i.kinesisEndpoint !== undefined) p.kinesisEndpoint = i.kinesisEndpoint;
  if (i.dynamoDBEndpoint !== undefined) p.dynamoDBEndpoint = i.dynamoDBEndpoint;
  if (i.fastStart === true) {
    // ShardSyncTask sleeps shardSyncIntervalMillis after the first sync
    // (60 s by default) before the worker loop starts.
    p.shardSyncIntervalMillis = '1000';
    p.parentShardPollIntervalMillis = '1000';
    // The leader's first assignment pass finds no worker metrics yet and
    // assigns nothing; the next pass, one interval later, does.
    p.leaseAssignmentIntervalMillis = '1000';
    p.workerMetricsReporterFreqInMillis = '1000';
    // each new shard consumer takes ~3 Scheduler passes to its first record
    p[DISPATCH_POLL_KEY] = '200';
    p.inMemoryWorkerMetricsCaptureFrequencyMillis = '1000';
    // The leader balances leases by worker utilization on every
    // varianceBalancingFrequency-th assignment pass (3 by default): every
    // 3 × 2 × failoverTimeMillis = 60 s in production, but every 3 s at the
    // 1 s interval above. Locally every worker shares one host, so their CPU
    // figures differ only by when each was sampled; at a 3 s cadence that
    // noise moved leases back and forth all hour (187 record processors for
    // 8 shards in the first 60-minute soak). Keep production's cadence.
    p.varianceBalancingFrequency = String(localVarianceBalancingFrequency(Number(p.failoverTimeMillis), 1000));
  }
  return p;
}

/**
 * GetRecords calls per second the local stack spends on polling, across all
 * shards. One kinesis-local process serves every shard's polls, and each
 * call costs it 3-13 ms of CPU even when empty (Scala.js; measured with
 * `npm run bench:emulator`, README "Where the laptop's ceiling is"). At 200 ms per shard,
 * 16 shards made 80 calls/s: a third of a core before a single tick.
 */
const LOCAL_GETRECORDS_PER_SECOND = 20;
/** Never slower than this per shard: latency stays under a second's wait. */
const LOCAL_MAX_IDLE_MS = 1000;
const LOCAL_MIN_IDLE_MS = 200;

/**
 * The local `idleTimeBetweenReadsInMillis` for a stream of `shards`: 200 ms
 * up to 4 shards (the fast default the tests and `npm start` use), longer
 * above, so the emulator's polling load stays near LOCAL_GETRECORDS_PER_SECOND
 * instead of growing with the shard count; bigger batches also amortise each
 * processor's per-batch writes. Each shard is polled by its one lease owner,
 * so the worker count does not enter. Production keeps its own value: real
 * Kinesis serves each shard separately (5 reads/s/shard).
 */
export function localIdleTimeBetweenReads(shards: number): number {
  const ms = Math.ceil((1000 * Math.max(1, shards)) / LOCAL_GETRECORDS_PER_SECOND / 50) * 50;
  return Math.min(LOCAL_MAX_IDLE_MS, Math.max(LOCAL_MIN_IDLE_MS, ms));
}

/** KCL's default: variance balancing on every third assignment pass. */
const KCL_VARIANCE_BALANCING_FREQUENCY = 3;
/**
 * The number of local assignment passes (each `localIntervalMs` apart) that
 * spans the time production's default cadence takes between two variance
 * balancing runs (3 passes of 2 × failoverTimeMillis each).
 */
export function localVarianceBalancingFrequency(failoverTimeMillis: number, localIntervalMs: number): number {
  return Math.max(KCL_VARIANCE_BALANCING_FREQUENCY, Math.round((KCL_VARIANCE_BALANCING_FREQUENCY * 2 * failoverTimeMillis) / localIntervalMs));
}

export function formatProperties(p: DaemonProperties): string {
  return (
    Object.entries(p)
      .map(([k, v]) => {
        if (/[\r\n]/.test(v)) throw new Error(`property ${k} contains a newline`);
        return `${k} = ${v}`;
      })
      .join('\n') + '\n'
  );
}

/** Parses the `key = value` format back; used by tests and diagnostics. */
export function parseProperties(text: string): DaemonProperties {
  const out: DaemonProperties = {};
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const eq = t.indexOf('=');
    if (eq < 0) throw new Error(`not a property line: ${t}`);
    out[t.slice(0, eq).trim()] = t.slice(eq + 1).trim();
  }
  return out;
}

/** The daemon's settings, by environment variable (infra/stack.ts sets them on the consumer task). */
const DAEMON_SETTINGS = {
  streamName: { env: ENV.streamName, schema: text() },
  applicationName: { env: ENV.appName, schema: text() },
  region: { env: ENV.region, schema: text() },
  workerId: { env: ENV.workerId, schema: optional(text()) },
  idleTimeBetweenReadsInMillis: { env: ENV.kclIdleMs, schema: withDefault(int(200, 10_000), 500) },
  failoverTimeMillis: { env: ENV.kclFailoverMs, schema: withDefault(int(1000, Number.MAX_SAFE_INTEGER), 10_000) },
  kinesisEndpoint: { env: ENV.kinesisEndpoint, schema: optional(httpUrl()) },
  dynamoDBEndpoint: { env: ENV.dynamodbEndpoint, schema: optional(httpUrl()) },
  maxLeasesForWorker: { env: ENV.kclMaxLeasesForWorker, schema: optional(int(1, 10_000)) },
} as const satisfies Record<string, Setting<unknown>>;

/**
 * The container's daemon properties, from the same environment variables the
 * record processor reads (names shared with infra/). Endpoints appear only
 * when set, i.e. never in AWS.
 */
export function daemonPropertiesFromEnv(env: Env, executableName: string, hostname: string): DaemonProperties {
  const { kinesisEndpoint, dynamoDBEndpoint, maxLeasesForWorker, ...s } = readSettings(DAEMON_SETTINGS, { env });
  return buildDaemonProperties({
    ...s,
    executableName,
    workerId: s.workerId ?? hostname,
    leaderLock: leaderLockFromEnv(env, LEADER_LOCK_DEFAULTS.aws),
    ...(kinesisEndpoint !== undefined ? { kinesisEndpoint } : {}),
    ...(dynamoDBEndpoint !== undefined ? { dynamoDBEndpoint } : {}),
    ...(maxLeasesForWorker !== undefined ? { maxLeasesForWorker } : {}),
  });
}
