import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { ENV } from '../shared/env-names';
import { TICK_SOURCES, type TickSource as TickSourceName } from '../shared/tick';
import { ConfigError } from '../shared/config-util';

/**
 * The producer's configuration, read once at start-up from the environment
 * (what ECS sets) and optionally the command line (what `npm start -- …` and
 * a developer pass). Command-line flags win over the environment. Nothing
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

export type Env = Readonly<Record<string, string | undefined>>;

const SYMBOL_RE = /^[A-Z0-9.^=-]{1,20}$/;
const KINESIS_MAX_RECORDS_PER_BATCH = 500;
const KINESIS_MAX_BYTES_PER_BATCH = 5 * 1024 * 1024;

function opt(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function int(name: string, raw: string | undefined, def: number, min: number, max: number): number {
  const v = opt(raw);
  if (v === undefined) return def;
  if (!/^\d+$/.test(v)) throw new ConfigError(name, `an integer in [${min}, ${max}]`, v);
  const n = Number(v);
  if (n < min || n > max) throw new ConfigError(name, `an integer in [${min}, ${max}]`, v);
  return n;
}

function bool(name: string, raw: string | undefined, def: boolean): boolean {
  const v = opt(raw)?.toLowerCase();
  if (v === undefined) return def;
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(name, 'true or false', raw);
}

function endpoint(name: string, raw: string | undefined): string | undefined {
  const v = opt(raw);
  if (v === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new ConfigError(name, 'an http(s) URL such as http://127.0.0.1:4567', v);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(name, 'an http(s) URL', v);
  return v;
}

/** `max` or a positive number, optionally suffixed with x: 1, 60x, max. */
function speed(name: string, raw: string | undefined): number {
  const v = opt(raw)?.toLowerCase();
  if (v === undefined) return 1;
  if (v === 'max' || v === 'inf' || v === 'infinity') return Infinity;
  const n = Number(v.replace(/x$/, ''));
  if (!Number.isFinite(n) || n <= 0) throw new ConfigError(name, 'a positive speed factor (1, 60, 60x) or "max"', raw);
  return n;
}

function parseSymbolList(name: string, text: string): string[] {
  const symbols = text
    .split(/[\s,]+/)
    .map((s) => s.trim().toUpperCase())
    .filter((s) => s !== '' && !s.startsWith('#'));
  for (const s of symbols) if (!SYMBOL_RE.test(s)) throw new ConfigError(name, 'symbols of 1-20 characters A-Z 0-9 . ^ = -', s);
  return [...new Set(symbols)];
}

/** One symbol per line (or comma separated); `#` starts a comment. */
function symbolsFromFile(name: string, path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(name, 'a readable symbols file', `${path} (${(err as Error).message})`);
  }
  return parseSymbolList(name, text.replace(/#[^\n]*/g, ''));
}

function list(raw: string | undefined): string[] {
  return (opt(raw) ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/**
 * Build the config from `env` and optional `argv` (without the node and
 * script entries). Throws ConfigError naming the variable (or flag) and what
 * was expected; the object returned is deeply frozen.
 */
export function loadProducerConfig(env: Env, argv: readonly string[] = []): ProducerConfig {
  const a = parseFlags(argv);

  const sourceRaw = opt(a.source) ?? opt(env[ENV.source]) ?? 'synthetic';
  if (!(TICK_SOURCES as readonly string[]).includes(sourceRaw)) {
    throw new ConfigError(a.source !== undefined ? '--source' : ENV.source, `one of ${TICK_SOURCES.join(', ')}`, sourceRaw);
  }
  const source = sourceRaw as TickSourceName;

  const csvFiles = [...(a.csv ?? []), ...(a.csv === undefined ? list(env[ENV.replayCsv]) : [])];
  const parquetFiles = [...(a.parquet ?? []), ...(a.parquet === undefined ? list(env[ENV.replayParquet]) : [])];

  let symbols: string[] = [];
  const listName = a.symbols !== undefined ? '--symbols' : ENV.symbols;
  const listRaw = opt(a.symbols) ?? opt(env[ENV.symbols]);
  const fileName = a['symbols-file'] !== undefined ? '--symbols-file' : ENV.symbolsFile;
  const fileRaw = opt(a['symbols-file']) ?? opt(env[ENV.symbolsFile]);
  if (listRaw !== undefined) symbols = parseSymbolList(listName, listRaw);
  else if (fileRaw !== undefined) symbols = symbolsFromFile(fileName, fileRaw);
  if (source !== 'replay' && symbols.length === 0) {
    throw new ConfigError(ENV.symbols, `a comma-separated symbol list (or ${ENV.symbolsFile}) for source ${source}`);
  }
  if (source === 'replay' && csvFiles.length + parquetFiles.length === 0) {
    throw new ConfigError(ENV.replayCsv, `at least one CSV (--csv) or Parquet (--parquet / ${ENV.replayParquet}) file for source replay`);
  }

  const streamName = opt(a.stream) ?? opt(env[ENV.streamName]);
  if (streamName === undefined) throw new ConfigError(ENV.streamName, 'the Kinesis stream name');
  if (!/^[a-zA-Z0-9_.-]{1,128}$/.test(streamName)) throw new ConfigError(ENV.streamName, 'a Kinesis stream name ([a-zA-Z0-9_.-]{1,128})', streamName);

  const awsEndpoint = endpoint(ENV.awsEndpoint, env[ENV.awsEndpoint]);
  const kinesisEndpoint = endpoint(ENV.kinesisEndpoint, env[ENV.kinesisEndpoint]) ?? awsEndpoint;
  const dynamodbEndpoint = endpoint(ENV.dynamodbEndpoint, env[ENV.dynamodbEndpoint]) ?? awsEndpoint;
  const region = opt(env[ENV.region]) ?? (kinesisEndpoint !== undefined ? 'us-east-1' : undefined);
  if (region === undefined) throw new ConfigError(ENV.region, `an AWS region (or ${ENV.kinesisEndpoint} for a local emulator)`);
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) throw new ConfigError(ENV.region, 'an AWS region such as eu-west-1', region);

  const pollIntervalMs = a.interval !== undefined ? int('--interval', a.interval, 30_000, 1_000, 3_600_000) : int(ENV.pollIntervalMs, env[ENV.pollIntervalMs], 30_000, 1_000, 3_600_000);

  const leaseTable = opt(env[ENV.producerLeaseTable]);
  const maxTicksRaw = opt(a['max-ticks']) ?? opt(env[ENV.syntheticMaxTicks]);

  const config: ProducerConfig = {
    source,
    symbols,
    streamName,
    region,
    kinesisEndpoint,
    dynamodbEndpoint,
    logLevel: opt(env[ENV.logLevel]) ?? 'info',
    workerId: opt(env[ENV.workerId]) ?? `${hostname()}-${process.pid}`,
    writer: {
      maxRecordsPerBatch: int(ENV.producerBatchRecords, env[ENV.producerBatchRecords], KINESIS_MAX_RECORDS_PER_BATCH, 1, KINESIS_MAX_RECORDS_PER_BATCH),
      maxBytesPerBatch: int(ENV.producerBatchBytes, env[ENV.producerBatchBytes], KINESIS_MAX_BYTES_PER_BATCH, 1024 * 1024, KINESIS_MAX_BYTES_PER_BATCH),
      maxInFlight: int(ENV.producerMaxInFlight, env[ENV.producerMaxInFlight], 4, 1, 64),
      maxRetries: int(ENV.producerMaxRetries, env[ENV.producerMaxRetries], 10, 0, 100),
    },
    yahoo: {
      pollIntervalMs,
      batchSize: int(ENV.yahooBatchSize, env[ENV.yahooBatchSize], 100, 1, 100),
      concurrency: int(ENV.yahooConcurrency, env[ENV.yahooConcurrency], 4, 1, 16),
      requestTimeoutMs: int(ENV.yahooTimeoutMs, env[ENV.yahooTimeoutMs], 10_000, 500, 120_000),
    },
    replay: {
      csvFiles,
      parquetFiles,
      speed: a.speed !== undefined ? speed('--speed', a.speed) : speed(ENV.replaySpeed, env[ENV.replaySpeed]),
      loop: a.loop ?? bool(ENV.replayLoop, env[ENV.replayLoop], false),
      symbol: (() => {
        const s = opt(a.symbol)?.toUpperCase();
        if (s !== undefined && !SYMBOL_RE.test(s)) throw new ConfigError('--symbol', 'a symbol of 1-20 characters A-Z 0-9 . ^ = -', s);
        return s;
      })(),
    },
    synthetic: {
      seed: a.seed !== undefined ? int('--seed', a.seed, 42, 0, 2 ** 32 - 1) : int(ENV.syntheticSeed, env[ENV.syntheticSeed], 42, 0, 2 ** 32 - 1),
      ratePerSec: a.rate !== undefined ? int('--rate', a.rate, 100, 1, 1_000_000) : int(ENV.syntheticRate, env[ENV.syntheticRate], 100, 1, 1_000_000),
      maxTicks: maxTicksRaw === undefined ? undefined : int(a['max-ticks'] !== undefined ? '--max-ticks' : ENV.syntheticMaxTicks, maxTicksRaw, 0, 1, Number.MAX_SAFE_INTEGER),
    },
    scaleOut:
      leaseTable === undefined
        ? undefined
        : {
            leaseTable,
            groups: int(ENV.producerGroups, env[ENV.producerGroups], 16, 1, 1024),
            leaseDurationMs: int(ENV.producerLeaseMs, env[ENV.producerLeaseMs], 20_000, 1_000, 600_000),
            heartbeatMs: int(ENV.producerHeartbeatMs, env[ENV.producerHeartbeatMs], 5_000, 100, 300_000),
          },
  };
  if (config.scaleOut !== undefined && config.scaleOut.heartbeatMs * 2 > config.scaleOut.leaseDurationMs) {
    throw new ConfigError(ENV.producerHeartbeatMs, `at most half of ${ENV.producerLeaseMs} (${config.scaleOut.leaseDurationMs}) so a lease survives one missed heartbeat`, String(config.scaleOut.heartbeatMs));
  }
  return deepFreeze(config);
}

const FLAGS = {
  source: { type: 'string' },
  symbols: { type: 'string' },
  'symbols-file': { type: 'string' },
  interval: { type: 'string' },
  stream: { type: 'string' },
  csv: { type: 'string', multiple: true },
  parquet: { type: 'string', multiple: true },
  symbol: { type: 'string' },
  speed: { type: 'string' },
  loop: { type: 'boolean' },
  seed: { type: 'string' },
  rate: { type: 'string' },
  'max-ticks': { type: 'string' },
} as const;

function parseFlags(argv: readonly string[]): ReturnType<typeof parseArgs<{ options: typeof FLAGS; strict: true }>>['values'] {
  try {
    return parseArgs({ args: [...argv], options: FLAGS, strict: true, allowPositionals: false }).values;
  } catch (err) {
    const flags = Object.keys(FLAGS)
      .map((f) => `--${f}`)
      .join(' ');
    throw new ConfigError('command line', `only these flags: ${flags}`, (err as Error).message);
  }
}

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
