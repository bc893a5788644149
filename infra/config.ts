import { ConfigError } from '../shared/config-util';

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

/** A bad CDK context value: the project's ConfigError, naming the context key. */
export class InfraConfigError extends ConfigError {
  override readonly name: string = 'InfraConfigError';
  constructor(key: string, expected: string, got: unknown) {
    super(`context "${key}"`, expected, got);
  }
}

/** Reads one context value; `cdk -c k=v` always gives strings, cdk.json gives JSON types. */
export type ContextReader = (key: string) => unknown;

function int(read: ContextReader, key: string, dflt: number, min: number, max: number): number {
  const raw = read(key);
  if (raw === undefined || raw === null || raw === '') return dflt;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw new InfraConfigError(key, `an integer in [${min}, ${max}]`, raw);
  return n;
}

function oneOf<T extends string>(read: ContextReader, key: string, allowed: readonly T[], dflt: T): T {
  const raw = read(key);
  if (raw === undefined || raw === null || raw === '') return dflt;
  if (typeof raw !== 'string' || !(allowed as readonly string[]).includes(raw)) throw new InfraConfigError(key, `one of ${allowed.join(', ')}`, raw);
  return raw as T;
}

const SYMBOL_RE = /^[A-Z0-9.^=-]{1,20}$/;

function symbols(read: ContextReader): string[] {
  const raw = read('symbols');
  if (raw === undefined || raw === null || raw === '') return [...DEFAULTS.symbols];
  const list: unknown[] | undefined = Array.isArray(raw) ? (raw as unknown[]) : typeof raw === 'string' ? raw.split(',') : undefined;
  if (list === undefined) throw new InfraConfigError('symbols', 'a comma-separated string or an array of symbols', raw);
  const out = list.map((s) => (typeof s === 'string' ? s.trim().toUpperCase() : s));
  const bad = out.filter((s) => typeof s !== 'string' || !SYMBOL_RE.test(s));
  if (bad.length > 0 || out.length === 0) throw new InfraConfigError('symbols', 'symbols of 1-20 characters A-Z 0-9 . ^ = -', raw);
  return [...new Set(out as string[])];
}

export function loadInfraConfig(read: ContextReader): InfraConfig {
  const appName = read('appName') ?? DEFAULTS.appName;
  // The lease table name must be a DynamoDB table name, and the Glue database
  // and Athena workgroup derive from it, so keep to the strictest alphabet.
  if (typeof appName !== 'string' || !/^[a-z][a-z0-9-]{2,62}$/.test(appName)) {
    throw new InfraConfigError('appName', 'lower-case letters, digits and dashes, 3-63 characters, starting with a letter', appName);
  }
  const streamMode = oneOf<StreamMode>(read, 'streamMode', ['provisioned', 'on-demand'], DEFAULTS.streamMode);
  const shards = int(read, 'shards', DEFAULTS.shards, 1, 500);
  const logRetentionDays = int(read, 'retentionDays', DEFAULTS.logRetentionDays, 1, 3653);
  if (!(VALID_RETENTION_DAYS as readonly number[]).includes(logRetentionDays)) {
    throw new InfraConfigError('retentionDays', `one of ${VALID_RETENTION_DAYS.join(', ')}`, logRetentionDays);
  }
  const alertEmailRaw = read('alertEmail');
  let alertEmail: string | undefined;
  if (alertEmailRaw !== undefined && alertEmailRaw !== null && alertEmailRaw !== '') {
    if (typeof alertEmailRaw !== 'string' || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(alertEmailRaw)) {
      throw new InfraConfigError('alertEmail', 'an e-mail address', alertEmailRaw);
    }
    alertEmail = alertEmailRaw;
  }
  const cfg: InfraConfig = {
    appName,
    symbols: symbols(read),
    pollIntervalMs: int(read, 'intervalMs', DEFAULTS.pollIntervalMs, 250, 3_600_000),
    source: oneOf<TickSourceName>(read, 'source', ['yahoo', 'synthetic', 'replay'], DEFAULTS.source),
    streamMode,
    shards,
    producerTasks: int(read, 'producerTasks', DEFAULTS.producerTasks, 0, 50),
    maxConsumerTasks: int(read, 'maxConsumerTasks', shards, 1, 500),
    alertEmail,
    logRetentionDays,
    ticksTtlDays: int(read, 'ticksTtlDays', DEFAULTS.ticksTtlDays, 1, 3650),
    natGateways: int(read, 'natGateways', DEFAULTS.natGateways, 1, 3),
    logLevel: oneOf(read, 'logLevel', ['error', 'warn', 'info', 'debug'], DEFAULTS.logLevel),
  };
  if (streamMode === 'provisioned' && cfg.maxConsumerTasks > shards) {
    // A KCL worker with no lease only burns Fargate hours.
    throw new InfraConfigError('maxConsumerTasks', `at most the shard count (${shards})`, cfg.maxConsumerTasks);
  }
  return Object.freeze({ ...cfg, symbols: Object.freeze([...cfg.symbols]) });
}
