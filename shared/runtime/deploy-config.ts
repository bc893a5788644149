import { TICK_SOURCES } from '../tick';
import { bool, ConfigError, deepFreeze, int, num, oneOf, optional, readSettings, symbolList, text, withDefault, type Setting } from './config';
import { logLevelSetting, missingSourceInput, pollIntervalSetting, ticksTtlDaysSetting, type LOG_LEVELS } from './task-settings';

/**
 * Deployment configuration, read once from CDK context (cdk.json defaults,
 * overridden with `cdk deploy -c key=value`). Validated up front: a bad value
 * fails synth with the key's name and what was expected, not a half-created
 * stack. Nothing here looks anything up in an AWS account, so synth works
 * offline with no credentials.
 *
 * A value that ends up in a task's environment is read with the schema the
 * task itself reads it with (shared/runtime/task-settings.ts), so synth
 * refuses exactly what the task would refuse at start; a task that exits on
 * its configuration would roll the ECS circuit breaker back after the
 * stores were created.
 */
type StreamMode = 'provisioned' | 'on-demand';
type TickSourceName = 'yahoo' | 'synthetic' | 'replay';
type LogLevel = (typeof LOG_LEVELS)[number];
export const PROFILE_NAMES = ['default', 'lean'] as const;
type ProfileName = (typeof PROFILE_NAMES)[number];
/** The CPU units Fargate offers for a task (the consumer's size is one of them). */
const FARGATE_CPUS = [256, 512, 1024, 2048, 4096] as const;

export interface InfraConfig {
  /** KCL application name: the KCL lease table (and, with KCL 3.x, two more tables) is named after it. */
  readonly appName: string;
  readonly symbols: readonly string[];
  readonly pollIntervalMs: number;
  readonly source: TickSourceName;
  readonly streamMode: StreamMode;
  /** Provisioned shard count; with on-demand it only caps consumer tasks. */
  readonly shards: number;
  readonly producerTasks: number;
  /** Upper bound of consumer autoscaling: more tasks than shards would hold no lease. */
  readonly maxConsumerTasks: number;
  readonly alertEmail: string | undefined;
  /** CloudWatch Logs retention, days (must be a value CloudWatch accepts). */
  readonly logRetentionDays: number;
  /** TTL of rows in the ticks table, days. */
  readonly ticksTtlDays: number;
  /** NAT gateways: one per AZ (2) survives an AZ outage; 0 puts the tasks in public subnets with public IPs and no inbound rules. */
  readonly natGateways: number;
  readonly logLevel: LogLevel;
  /** The monthly figure of the AWS Budgets alarm, USD (`npm run cost` computes the stack's). */
  readonly budgetUsdPerMonth: number;
  /** How long the pipeline may be silent while the market is open before the no-ticks alarms fire. */
  readonly silenceAlarmMinutes: number;
  /** Which set of lever defaults applied (`-c profile=lean`); an explicit key still wins. */
  readonly profile: ProfileName;
  /** Fewest consumer tasks autoscaling keeps: the KCL's maxLeasesForWorker is sized from it. */
  readonly minConsumerTasks: number;
  /** The consumer task's CPU units; its memory follows from the leases one worker may hold (consumerTaskSize). */
  readonly consumerCpu: number;
  /** Consumer tasks on Fargate Spot (x86 only: Fargate Spot has no ARM64). */
  readonly consumerSpot: boolean;
  /** Producer tasks on Fargate Spot: an interruption leaves the symbols unpolled until ECS starts a replacement. */
  readonly producerSpot: boolean;
  /** ARM64 (Graviton) for every task not on Spot. */
  readonly arm64: boolean;
  /** How often a record processor writes its symbols' snapshots and checkpoints, ms. */
  readonly checkpointMs: number;
  /** Pack several rows into one Firehose record (≤ FIREHOSE_PACK_BYTES) instead of one row per record. */
  readonly firehosePack: boolean;
  /** Keep the DynamoDB `ticks` history table (the lake holds every tick either way). */
  readonly ticksTable: boolean;
  /** ECS Container Insights on the cluster (billed as custom metrics and performance logs). */
  readonly containerInsights: boolean;
}

/** Every setting that has a default (and so a profile may change). */
type LeverDefaults = Omit<InfraConfig, 'alertEmail' | 'maxConsumerTasks' | 'profile'>;

/** The values CloudWatch Logs accepts for retentionInDays. */
const VALID_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

export const DEFAULTS = {
  appName: 'tickstream',
  symbols: ['AAPL', 'MSFT', 'GOOGL', 'AMZN', 'NVDA', 'META', 'TSLA', 'JPM', 'V', 'SPY'],
  pollIntervalMs: 5000,
  source: 'yahoo',
  streamMode: 'provisioned',
  shards: 2,
  producerTasks: 1,
  logRetentionDays: 30,
  ticksTtlDays: 7,
  natGateways: 1,
  logLevel: 'info',
  // `npm run cost` prices the default stack at 100K ticks/day well below
  // this; the budget leaves room above it before anyone is paged.
  budgetUsdPerMonth: 150,
  silenceAlarmMinutes: 15,
  minConsumerTasks: 1,
  consumerCpu: 1024,
  consumerSpot: false,
  producerSpot: false,
  arm64: false,
  checkpointMs: 30_000,
  firehosePack: true,
  ticksTable: true,
  containerInsights: true,
} as const satisfies LeverDefaults;

/**
 * Each profile's lever defaults (README, "Monthly cost"). `lean` trades
 * availability for cost: no NAT gateway (tasks in public subnets with public
 * IPs and no inbound rules), one shard, both services on Fargate Spot (a
 * half-vCPU consumer), a minute between checkpoints, no `ticks` table and
 * no Container Insights. Any key given explicitly overrides its profile.
 */
const PROFILES: Readonly<Record<ProfileName, Partial<LeverDefaults>>> = {
  default: {},
  lean: { shards: 1, natGateways: 0, consumerCpu: 512, consumerSpot: true, producerSpot: true, checkpointMs: 60_000, ticksTable: false, containerInsights: false },
};

/** Firehose bills ingestion and format conversion per record rounded up to 5 KB; a packed record stays under it. */
export const FIREHOSE_PACK_BYTES = 5000;

/** Reads one context value; `cdk -c k=v` always gives strings, cdk.json gives JSON types. */
export type ContextReader = (key: string) => unknown;

/** Every deployment setting, by CDK context key, with a profile's defaults; a bad one is a ConfigError naming `context "<key>"`. */
const infraSettings = (d: LeverDefaults) => ({
  // The lease table name must be a DynamoDB table name, and the Glue database
  // and Athena workgroup derive from it, so keep to the strictest alphabet.
  appName: { context: 'appName', schema: withDefault(text(/^[a-z][a-z0-9-]{2,62}$/, 'lower-case letters, digits and dashes, 3-63 characters, starting with a letter'), d.appName) },
  symbols: { context: 'symbols', schema: withDefault(symbolList(), [...d.symbols]) },
  pollIntervalMs: { context: 'intervalMs', schema: withDefault(pollIntervalSetting(), d.pollIntervalMs) },
  source: { context: 'source', schema: withDefault(oneOf(TICK_SOURCES), d.source) },
  streamMode: { context: 'streamMode', schema: withDefault(oneOf(['provisioned', 'on-demand']), d.streamMode) },
  shards: { context: 'shards', schema: withDefault(int(1, 500), d.shards) },
  producerTasks: { context: 'producerTasks', schema: withDefault(int(0, 50), d.producerTasks) },
  maxConsumerTasks: { context: 'maxConsumerTasks', schema: optional(int(1, 500)) },
  alertEmail: { context: 'alertEmail', schema: optional(text(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'an e-mail address')) },
  logRetentionDays: {
    context: 'retentionDays',
    schema: withDefault(int(1, 3653).refine((days) => (VALID_RETENTION_DAYS as readonly number[]).includes(days)).describe(`one of ${VALID_RETENTION_DAYS.join(', ')}`), d.logRetentionDays),
  },
  ticksTtlDays: { context: 'ticksTtlDays', schema: withDefault(ticksTtlDaysSetting(), d.ticksTtlDays) },
  natGateways: { context: 'natGateways', schema: withDefault(int(0, 3), d.natGateways) },
  logLevel: { context: 'logLevel', schema: withDefault(logLevelSetting(), d.logLevel) },
  budgetUsdPerMonth: { context: 'budgetUsdPerMonth', schema: withDefault(num(1, 1_000_000), d.budgetUsdPerMonth) },
  // At least two of the 5-minute periods the alarms evaluate, at most a trading day.
  silenceAlarmMinutes: { context: 'silenceAlarmMinutes', schema: withDefault(int(10, 390).refine((m) => m % 5 === 0).describe('a multiple of 5 in [10, 390]'), d.silenceAlarmMinutes) },
  minConsumerTasks: { context: 'minConsumerTasks', schema: withDefault(int(1, 500), d.minConsumerTasks) },
  consumerCpu: { context: 'consumerCpu', schema: withDefault(int(256, 4096).refine((c) => (FARGATE_CPUS as readonly number[]).includes(c)).describe(`one of ${FARGATE_CPUS.join(', ')}`), d.consumerCpu) },
  consumerSpot: { context: 'consumerSpot', schema: withDefault(bool(), d.consumerSpot) },
  producerSpot: { context: 'producerSpot', schema: withDefault(bool(), d.producerSpot) },
  arm64: { context: 'arm64', schema: withDefault(bool(), d.arm64) },
  // The consumer refuses less than 100 ms (consumer/config.ts); a checkpoint
  // takes longer than that against DynamoDB, so a second is the useful floor.
  checkpointMs: { context: 'checkpointMs', schema: withDefault(int(1000, 600_000), d.checkpointMs) },
  firehosePack: { context: 'firehosePack', schema: withDefault(bool(), d.firehosePack) },
  ticksTable: { context: 'ticksTable', schema: withDefault(bool(), d.ticksTable) },
  containerInsights: { context: 'containerInsights', schema: withDefault(bool(), d.containerInsights) },
}) satisfies Record<string, Setting<unknown>>;

const PROFILE_SETTING = { profile: { context: 'profile', schema: withDefault(oneOf(PROFILE_NAMES), 'default') } } as const satisfies Record<string, Setting<unknown>>;

export function loadInfraConfig(read: ContextReader): InfraConfig {
  const { profile } = readSettings(PROFILE_SETTING, { context: read });
  const s = readSettings(infraSettings({ ...DEFAULTS, ...PROFILES[profile] }), { context: read });
  // A deployed producer gets no replay files (the image holds none), so the
  // producer's own rule refuses replay here as it would at the task's start.
  if (missingSourceInput(s.source, { symbols: s.symbols.length, replayFiles: 0 }) !== undefined) {
    throw new ConfigError('context "source"', 'yahoo or synthetic (a deployed producer has no replay files to read)', s.source);
  }
  const maxConsumerTasks = s.maxConsumerTasks ?? s.shards;
  if (s.streamMode === 'provisioned' && maxConsumerTasks > s.shards) {
    // A KCL worker with no lease only burns Fargate hours.
    throw new ConfigError('context "maxConsumerTasks"', `at most the shard count (${s.shards})`, maxConsumerTasks);
  }
  if (s.minConsumerTasks > maxConsumerTasks) throw new ConfigError('context "minConsumerTasks"', `at most maxConsumerTasks (${maxConsumerTasks})`, s.minConsumerTasks);
  return deepFreeze<InfraConfig>({ ...s, maxConsumerTasks, profile });
}

/** Fargate's memory choices (MiB) per CPU size. */
const FARGATE_MEMORY: Readonly<Record<number, readonly number[]>> = {
  256: [512, 1024, 2048],
  512: [1024, 2048, 3072, 4096],
  1024: [2048, 3072, 4096, 5120, 6144, 7168, 8192],
  2048: Array.from({ length: 13 }, (_, i) => 4096 + i * 1024),
  4096: Array.from({ length: 23 }, (_, i) => 8192 + i * 1024),
};

/** What one record processor (a Node process per leased shard) may use, MiB; measured RSS is README, "Run-time health". */
const PROCESSOR_BUDGET_MIB = 128;

export interface ConsumerTaskSize {
  readonly cpu: number;
  readonly memoryMiB: number;
  /** The KCL's maxLeasesForWorker: the leases one worker holds when autoscaling is at its minimum. */
  readonly maxLeasesForWorker: number;
  /** Fixed JVM heap (-Xms = -Xmx), MiB. */
  readonly jvmHeapMiB: number;
}

/**
 * The consumer task's size, from the leases one worker may hold: every shard
 * must find a worker when autoscaling sits at its minimum (maxLeasesForWorker
 * >= shards / minConsumerTasks), and the task's memory must hold that many
 * record processors beside the JVM. The heap is fixed (-Xms = -Xmx) so the
 * JVM never grows into the processors' share: 256 MiB plus 32 per lease (the
 * KCL's prefetch holds a few GetRecords batches per shard). Non-heap JVM
 * memory (metaspace, threads, code cache) gets 256 MiB and the OS 128.
 */
export function consumerTaskSize(cfg: Pick<InfraConfig, 'shards' | 'minConsumerTasks' | 'consumerCpu'>): ConsumerTaskSize {
  const maxLeasesForWorker = Math.ceil(cfg.shards / cfg.minConsumerTasks);
  const jvmHeapMiB = 256 + 32 * maxLeasesForWorker;
  const needed = jvmHeapMiB + 256 + maxLeasesForWorker * PROCESSOR_BUDGET_MIB + 128;
  const choices = FARGATE_MEMORY[cfg.consumerCpu] ?? [];
  const memoryMiB = choices.find((m) => m >= needed);
  if (memoryMiB === undefined) {
    throw new ConfigError('context "consumerCpu"', `a CPU size whose memory holds ${maxLeasesForWorker} leases (${needed} MiB): more CPU or more minConsumerTasks`, cfg.consumerCpu);
  }
  return { cpu: cfg.consumerCpu, memoryMiB, maxLeasesForWorker, jvmHeapMiB };
}
