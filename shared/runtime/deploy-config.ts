import { TICK_SOURCES } from '../tick';
import { ConfigError, deepFreeze, int, oneOf, optional, readSettings, symbolList, text, withDefault, type Setting } from './config';

/**
 * Deployment configuration, read once from CDK context (cdk.json defaults,
 * overridden with `cdk deploy -c key=value`). Validated up front: a bad value
 * fails synth with the key's name and what was expected, not a half-created
 * stack. Nothing here looks anything up in an AWS account, so synth works
 * offline with no credentials.
 */
type StreamMode = 'provisioned' | 'on-demand';
type TickSourceName = 'yahoo' | 'synthetic' | 'replay';

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
  /** NAT gateways: 1 is cheapest, one per AZ (2) survives an AZ outage. */
  readonly natGateways: number;
  readonly logLevel: string;
}

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
} as const satisfies Omit<InfraConfig, 'alertEmail' | 'maxConsumerTasks'>;

/** Reads one context value; `cdk -c k=v` always gives strings, cdk.json gives JSON types. */
export type ContextReader = (key: string) => unknown;

/** Every deployment setting, by CDK context key; a bad one is a ConfigError naming `context "<key>"`. */
const INFRA_SETTINGS = {
  // The lease table name must be a DynamoDB table name, and the Glue database
  // and Athena workgroup derive from it, so keep to the strictest alphabet.
  appName: { context: 'appName', schema: withDefault(text(/^[a-z][a-z0-9-]{2,62}$/, 'lower-case letters, digits and dashes, 3-63 characters, starting with a letter'), DEFAULTS.appName) },
  symbols: { context: 'symbols', schema: withDefault(symbolList(), [...DEFAULTS.symbols]) },
  pollIntervalMs: { context: 'intervalMs', schema: withDefault(int(250, 3_600_000), DEFAULTS.pollIntervalMs) },
  source: { context: 'source', schema: withDefault(oneOf(TICK_SOURCES), DEFAULTS.source) },
  streamMode: { context: 'streamMode', schema: withDefault(oneOf(['provisioned', 'on-demand']), DEFAULTS.streamMode) },
  shards: { context: 'shards', schema: withDefault(int(1, 500), DEFAULTS.shards) },
  producerTasks: { context: 'producerTasks', schema: withDefault(int(0, 50), DEFAULTS.producerTasks) },
  maxConsumerTasks: { context: 'maxConsumerTasks', schema: optional(int(1, 500)) },
  alertEmail: { context: 'alertEmail', schema: optional(text(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'an e-mail address')) },
  logRetentionDays: {
    context: 'retentionDays',
    schema: withDefault(int(1, 3653).refine((d) => (VALID_RETENTION_DAYS as readonly number[]).includes(d)).describe(`one of ${VALID_RETENTION_DAYS.join(', ')}`), DEFAULTS.logRetentionDays),
  },
  ticksTtlDays: { context: 'ticksTtlDays', schema: withDefault(int(1, 3650), DEFAULTS.ticksTtlDays) },
  natGateways: { context: 'natGateways', schema: withDefault(int(1, 3), DEFAULTS.natGateways) },
  logLevel: { context: 'logLevel', schema: withDefault(oneOf(['error', 'warn', 'info', 'debug']), DEFAULTS.logLevel) },
} as const satisfies Record<string, Setting<unknown>>;

export function loadInfraConfig(read: ContextReader): InfraConfig {
  const s = readSettings(INFRA_SETTINGS, { context: read });
  const maxConsumerTasks = s.maxConsumerTasks ?? s.shards;
  if (s.streamMode === 'provisioned' && maxConsumerTasks > s.shards) {
    // A KCL worker with no lease only burns Fargate hours.
    throw new ConfigError('context "maxConsumerTasks"', `at most the shard count (${s.shards})`, maxConsumerTasks);
  }
  return deepFreeze<InfraConfig>({ ...s, maxConsumerTasks });
}
