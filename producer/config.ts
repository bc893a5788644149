import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ENV } from '../shared/env-names';
import { TICK_SOURCES, SymbolSchema, type TickSource as TickSourceName } from '../shared/tick';
import {
  ConfigError,
  bool,
  deepFreeze,
  httpUrl,
  int,
  list,
  lookup,
  oneOf,
  optional,
  readSettings,
  readValue,
  symbolList,
  text,
  withDefault,
  type Env,
  type Setting,
} from '../shared/runtime/config';
import { logLevelSetting, missingSourceInput, pollIntervalSetting } from '../shared/runtime/task-settings';

/**
 * The producer's configuration, read once at start-up from the environment
 * (what ECS sets) and optionally the command line (what `npm start` and a
 * developer pass). Command-line flags win over the environment. Nothing
 * else in producer/ reads process.env.
 */
export interface ProducerConfig {
  readonly source: TickSourceName;
  /** Empty for replay, where the files name the symbols. */
  readonly symbols: readonly string[];
  readonly streamName: string;
  readonly region: string;
  readonly kinesisEndpoint: string | undefined;
  readonly dynamodbEndpoint: string | undefined;
  readonly logLevel: string;
  /** Identifies this task in leases and logs. */
  readonly workerId: string;
  readonly writer: Readonly<{
    maxRecordsPerBatch: number;
    maxBytesPerBatch: number;
    maxInFlight: number;
    maxRetries: number;
  }>;
  readonly yahoo: Readonly<{
    pollIntervalMs: number;
    batchSize: number;
    concurrency: number;
    requestTimeoutMs: number;
  }>;
  readonly replay: Readonly<{
    csvFiles: readonly string[];
    parquetFiles: readonly string[];
    /** 1 = real time, 60 = a minute per second, Infinity = as fast as possible. */
    speed: number;
    loop: boolean;
    /** Symbol for single-symbol CSV files without a symbol column. */
    symbol: string | undefined;
  }>;
  readonly synthetic: Readonly<{
    seed: number;
    ratePerSec: number;
    maxTicks: number | undefined;
  }>;
  /** Present when the symbol universe is split between tasks via leases. */
  readonly scaleOut:
    | Readonly<{
        leaseTable: string;
        groups: number;
        leaseDurationMs: number;
        heartbeatMs: number;
      }>
    | undefined;
}

export type { Env };

const KINESIS_MAX_RECORDS_PER_BATCH = 500;
const KINESIS_MAX_BYTES_PER_BATCH = 5 * 1024 * 1024;

/** `max` or a positive number, optionally suffixed with x: 1, 60x, max. */
const speed = z
  .union([
    z.number(),
    z
      .string()
      .transform((s) => s.trim().toLowerCase())
      .transform((s) => (['max', 'inf', 'infinity'].includes(s) ? Infinity : /^\d*\.?\d+x?$/.test(s) ? Number(s.replace(/x$/, '')) : NaN)),
  ])
  // Infinity is a speed here ("max"), which z.number() would refuse.
  .refine((n) => n > 0)
  .describe('a positive speed factor (1, 60, 60x) or "max"');

/**
 * Every producer setting: its environment variable (what ECS sets, see
 * infra/stack.ts), its command-line flag (what `npm start` and a developer
 * pass; it wins over the variable), its schema and default. The README's
 * flag table is this table.
 */
const PRODUCER_SETTINGS = {
  source: { env: ENV.source, flag: 'source', schema: withDefault(oneOf(TICK_SOURCES), 'synthetic') },
  symbols: { env: ENV.symbols, flag: 'symbols', schema: optional(symbolList()) },
  symbolsFile: { env: ENV.symbolsFile, flag: 'symbols-file', schema: optional(text(undefined, 'a readable symbols file')) },
  streamName: { env: ENV.streamName, flag: 'stream', schema: text(/^[a-zA-Z0-9_.-]{1,128}$/, 'a Kinesis stream name ([a-zA-Z0-9_.-]{1,128})') },
  region: { env: ENV.region, schema: optional(text(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'an AWS region such as eu-west-1')) },
  awsEndpoint: { env: ENV.awsEndpoint, schema: optional(httpUrl()) },
  kinesisEndpoint: { env: ENV.kinesisEndpoint, schema: optional(httpUrl()) },
  dynamodbEndpoint: { env: ENV.dynamodbEndpoint, schema: optional(httpUrl()) },
  logLevel: { env: ENV.logLevel, schema: withDefault(logLevelSetting(), 'info') },
  workerId: { env: ENV.workerId, schema: optional(text()) },
  maxRecordsPerBatch: { env: ENV.producerBatchRecords, schema: withDefault(int(1, KINESIS_MAX_RECORDS_PER_BATCH), KINESIS_MAX_RECORDS_PER_BATCH) },
  maxBytesPerBatch: { env: ENV.producerBatchBytes, schema: withDefault(int(1024 * 1024, KINESIS_MAX_BYTES_PER_BATCH), KINESIS_MAX_BYTES_PER_BATCH) },
  maxInFlight: { env: ENV.producerMaxInFlight, schema: withDefault(int(1, 64), 4) },
  maxRetries: { env: ENV.producerMaxRetries, schema: withDefault(int(0, 100), 10) },
  pollIntervalMs: { env: ENV.pollIntervalMs, flag: 'interval', schema: withDefault(pollIntervalSetting(), 30_000) },
  yahooBatchSize: { env: ENV.yahooBatchSize, schema: withDefault(int(1, 100), 100) },
  yahooConcurrency: { env: ENV.yahooConcurrency, schema: withDefault(int(1, 16), 4) },
  yahooTimeoutMs: { env: ENV.yahooTimeoutMs, schema: withDefault(int(500, 120_000), 10_000) },
  csvFiles: { env: ENV.replayCsv, flag: 'csv', schema: withDefault(list(), []) },
  parquetFiles: { env: ENV.replayParquet, flag: 'parquet', schema: withDefault(list(), []) },
  speed: { env: ENV.replaySpeed, flag: 'speed', schema: withDefault(speed, 1) },
  loop: { env: ENV.replayLoop, flag: 'loop', schema: withDefault(bool(), false) },
  replaySymbol: { flag: 'symbol', schema: optional(z.string().transform((s) => s.trim().toUpperCase()).pipe(SymbolSchema).describe('a symbol of 1-20 characters A-Z 0-9 . ^ = -')) },
  seed: { env: ENV.syntheticSeed, flag: 'seed', schema: withDefault(int(0, 2 ** 32 - 1), 42) },
  rate: { env: ENV.syntheticRate, flag: 'rate', schema: withDefault(int(1, 1_000_000), 200) },
  maxTicks: { env: ENV.syntheticMaxTicks, flag: 'max-ticks', schema: optional(int(1, Number.MAX_SAFE_INTEGER)) },
  leaseTable: { env: ENV.producerLeaseTable, schema: optional(text()) },
  groups: { env: ENV.producerGroups, schema: withDefault(int(1, 1024), 16) },
  leaseDurationMs: { env: ENV.producerLeaseMs, schema: withDefault(int(1_000, 600_000), 20_000) },
  heartbeatMs: { env: ENV.producerHeartbeatMs, schema: withDefault(int(100, 300_000), 5_000) },
} as const satisfies Record<string, Setting<unknown>>;

/** The producer's command-line flags, all from PRODUCER_SETTINGS: booleans and repeatable ones by their schema's kind. */
const BOOLEAN_FLAGS: ReadonlySet<string> = new Set(['loop']);
const REPEATABLE_FLAGS: ReadonlySet<string> = new Set(['csv', 'parquet']);
export const PRODUCER_FLAGS: Readonly<Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>> = Object.fromEntries(
  Object.values(PRODUCER_SETTINGS)
    .flatMap((s) => ('flag' in s ? [s.flag] : []))
    .map((f) => [f, { type: BOOLEAN_FLAGS.has(f) ? 'boolean' : 'string', ...(REPEATABLE_FLAGS.has(f) ? { multiple: true } : {}) }]),
);

/** One symbol per line (or comma separated); `#` starts a comment. */
function symbolsFromFile(name: string, path: string): string[] {
  let content: string;
  try {
    content = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(name, 'a readable symbols file', `${path} (${(err as Error).message})`);
  }
  return readValue(name, content.replace(/#[^\n]*/g, ''), symbolList());
}

/**
 * Build the config from `env` and optional `argv` (without the node and
 * script entries). Throws ConfigError naming the variable (or flag) and what
 * was expected; the object returned is deeply frozen.
 */
export function loadProducerConfig(env: Env, argv: readonly string[] = []): ProducerConfig {
  return producerConfigFrom(env, parseFlags(argv));
}

/** The same from flags already parsed (PRODUCER_FLAGS' names), for a CLI that has flags of its own too (npm start). */
export function producerConfigFrom(env: Env, flags: Readonly<Record<string, unknown>>): ProducerConfig {
  const s = readSettings(PRODUCER_SETTINGS, { env, flags });
  const name = (key: keyof typeof PRODUCER_SETTINGS): string => lookup(PRODUCER_SETTINGS[key], { env, flags }).name;

  // Replay files and no source named: the files say what to do.
  const sourceSet = lookup(PRODUCER_SETTINGS.source, { env, flags }).raw !== undefined;
  const source = !sourceSet && s.csvFiles.length + s.parquetFiles.length > 0 ? 'replay' : s.source;
  const symbols = s.symbols ?? (s.symbolsFile !== undefined ? symbolsFromFile(name('symbolsFile'), s.symbolsFile) : []);
  // The same rule refuses a deployment at synth (shared/runtime/deploy-config.ts).
  const missing = missingSourceInput(source, { symbols: symbols.length, replayFiles: s.csvFiles.length + s.parquetFiles.length });
  if (missing === 'symbols') {
    throw new ConfigError(ENV.symbols, `a comma-separated symbol list (or ${ENV.symbolsFile}) for source ${source}`);
  }
  if (missing === 'replayFiles') {
    throw new ConfigError(ENV.replayCsv, `at least one CSV (--csv) or Parquet (--parquet / ${ENV.replayParquet}) file for source replay`);
  }
  const kinesisEndpoint = s.kinesisEndpoint ?? s.awsEndpoint;
  const dynamodbEndpoint = s.dynamodbEndpoint ?? s.awsEndpoint;
  // An emulator does not care which region it is told; AWS does.
  const region = s.region ?? (kinesisEndpoint !== undefined ? 'us-east-1' : undefined);
  if (region === undefined) throw new ConfigError(ENV.region, `an AWS region (or ${ENV.kinesisEndpoint} for a local emulator)`);
  if (s.leaseTable !== undefined && s.heartbeatMs * 2 > s.leaseDurationMs) {
    throw new ConfigError(ENV.producerHeartbeatMs, `at most half of ${ENV.producerLeaseMs} (${s.leaseDurationMs}) so a lease survives one missed heartbeat`, String(s.heartbeatMs));
  }

  return deepFreeze<ProducerConfig>({
    source,
    symbols,
    streamName: s.streamName,
    region,
    kinesisEndpoint,
    dynamodbEndpoint,
    logLevel: s.logLevel,
    workerId: s.workerId ?? `${hostname()}-${process.pid}`,
    writer: { maxRecordsPerBatch: s.maxRecordsPerBatch, maxBytesPerBatch: s.maxBytesPerBatch, maxInFlight: s.maxInFlight, maxRetries: s.maxRetries },
    yahoo: { pollIntervalMs: s.pollIntervalMs, batchSize: s.yahooBatchSize, concurrency: s.yahooConcurrency, requestTimeoutMs: s.yahooTimeoutMs },
    replay: { csvFiles: s.csvFiles, parquetFiles: s.parquetFiles, speed: s.speed, loop: s.loop, symbol: s.replaySymbol },
    synthetic: { seed: s.seed, ratePerSec: s.rate, maxTicks: s.maxTicks },
    scaleOut:
      s.leaseTable === undefined ? undefined : { leaseTable: s.leaseTable, groups: s.groups, leaseDurationMs: s.leaseDurationMs, heartbeatMs: s.heartbeatMs },
  });
}

function parseFlags(argv: readonly string[]): Record<string, unknown> {
  try {
    return parseArgs({ args: [...argv], options: PRODUCER_FLAGS, strict: true, allowPositionals: false }).values;
  } catch (err) {
    const known = Object.keys(PRODUCER_FLAGS)
      .map((f) => `--${f}`)
      .join(' ');
    throw new ConfigError('command line', `only these flags: ${known}`, (err as Error).message);
  }
}
