/**
 * `npm start`: the whole pipeline on the embedded default. Emulators, a
 * 4-shard stream, the real KCL daemon(s) and a synthetic market, with a live
 * status line, a graceful stop on Ctrl-C or --duration, and a summary.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ProducerMetrics } from '../producer/metrics';
import { ReplaySource } from '../producer/sources/replay';
import type { TickSource } from '../producer/sources/source';
import { LEADER_LOCK_DEFAULTS, leaderLockFromEnv } from '../consumer/kcl/properties';
import { createLogger } from '../shared/logger';
import type { Pipeline } from './pipeline';
import { drain, handleInterrupts, newRunDir, startLocalPipeline, startProducing, stopWorkersGracefully, syntheticSource } from './session';
import { latenciesSince, percentile } from './status-server';
import { judge } from './verdict';

const USAGE = `Usage: npm start -- [options]
  --symbols <n>      number of synthetic symbols (default 20)
  --rate <n>         ticks per second across all symbols (default 200)
  --duration <s>     stop after this many seconds (default: run until Ctrl-C)
  --shards <n>       Kinesis shards (default 4)
  --workers <n>      KCL consumer daemons (default 1)
  --seed <n>         synthetic market seed (default 42)
  --source <name>    synthetic (default) or replay
  --csv <file>       replay: CSV bars (timestamp,open,high,low,close,volume[,symbol]); repeatable
  --parquet <file>   replay: Parquet bars; repeatable
  --symbol <SYM>     replay: symbol of a single-symbol file (default: from the file name)
  --speed <x>        replay: 1 = real time, 60 = a minute per second, max (default max)
  --loop             replay: start over at the end (ts shifted by whole days)
  --data <dir>       data directory (default data/)
  -h, --help`;

interface Options {
  source: 'synthetic' | 'replay';
  csv: string[];
  parquet: string[];
  symbol: string | undefined;
  speed: number;
  loop: boolean;
  symbols: number;
  rate: number;
  duration: number | undefined;
  shards: number;
  workers: number;
  seed: number;
  dataDir: string;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

function positiveInt(name: string, v: string | undefined, def: number, max: number): number {
  if (v === undefined) return def;
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > max) throw new UsageError(`--${name} must be an integer from 1 to ${max}, got ${JSON.stringify(v)}`);
  return Number(v);
}

export function parseOptions(argv: string[]): Options | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      symbols: { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      shards: { type: 'string' },
      workers: { type: 'string' },
      seed: { type: 'string' },
      source: { type: 'string' },
      csv: { type: 'string', multiple: true },
      parquet: { type: 'string', multiple: true },
      symbol: { type: 'string' },
      speed: { type: 'string' },
      loop: { type: 'boolean' },
      data: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const source = values.source ?? (values.csv || values.parquet ? 'replay' : 'synthetic');
  if (source !== 'synthetic' && source !== 'replay') throw new UsageError(`--source must be synthetic or replay, got ${JSON.stringify(source)}`);
  const csv = values.csv ?? [];
  const parquet = values.parquet ?? [];
  if (source === 'replay' && csv.length + parquet.length === 0) throw new UsageError('--source replay needs --csv <file> or --parquet <file>');
  let speed = Number.POSITIVE_INFINITY;
  if (values.speed !== undefined && values.speed !== 'max') {
    speed = Number(values.speed);
    if (!(speed > 0) || !Number.isFinite(speed)) throw new UsageError(`--speed must be a positive number or max, got ${JSON.stringify(values.speed)}`);
  }
  return {
    source,
    csv,
    parquet,
    symbol: values.symbol,
    speed,
    loop: values.loop ?? false,
    symbols: positiveInt('symbols', values.symbols, 20, 100_000),
    rate: positiveInt('rate', values.rate, 200, 1_000_000),
    duration: values.duration === undefined ? undefined : positiveInt('duration', values.duration, 0, 7 * 86400),
    shards: positiveInt('shards', values.shards, 4, 64),
    workers: positiveInt('workers', values.workers, 1, 16),
    seed: values.seed === undefined ? 42 : positiveInt('seed', values.seed, 42, 2 ** 31),
    dataDir: values.data ?? 'data',
  };
}

const out = (line: string): void => void process.stdout.write(line + '\n');

async function run(opts: Options): Promise<number> {
  const t0 = Date.now();
  const runDir = newRunDir(opts.dataDir);
  // The orchestrator's own logs go to a file: the terminal shows the status line.
  const logger = createLogger({ service: 'tickstream-local', level: 'info', stream: process.stderr });
  // TICKSTREAM_KCL_LEADER_LEASE_MS / _HEARTBEAT_MS, as in the container
  const leaderLock = leaderLockFromEnv(process.env, LEADER_LOCK_DEFAULTS.local);
  out(`tickstream: starting local stack (logs in ${runDir})`);
  const pipeline: Pipeline = await startLocalPipeline({
    leaderLock,
    shards: opts.shards,
    workers: opts.workers,
    dataDir: opts.dataDir,
    runDir,
    log: (m) => out(`tickstream: ${m}`),
  });
  const stackReadyAt = Date.now();
  const what = opts.source === 'replay' ? `replay of ${[...opts.csv, ...opts.parquet].join(', ')} at ${opts.speed === Number.POSITIVE_INFINITY ? 'max' : `${opts.speed}x`} speed` : `${opts.symbols} symbols at ${opts.rate} ticks/s`;
  out(`tickstream: kinesis ${pipeline.stack.kinesisEndpoint}, dynamodb ${pipeline.stack.dynamodbEndpoint}, ${opts.shards} shards, ${opts.workers} KCL worker(s), ${what}`);

  const abort = new AbortController();
  const interrupts = handleInterrupts({
    abort,
    say: (m) => out(`\ntickstream: ${m}`),
    force: () => pipeline.stop(),
  });
  const timer = opts.duration !== undefined ? setTimeout(() => abort.abort(), opts.duration * 1000) : undefined;

  // One set of producer counters for the source and the writer, so the
  // summary names every tick the producer refused, wherever it was refused.
  const producerMetrics = new ProducerMetrics();
  const source: TickSource =
    opts.source === 'replay'
      ? new ReplaySource({ csvFiles: opts.csv, parquetFiles: opts.parquet, speed: opts.speed, loop: opts.loop, logger, metrics: producerMetrics, ...(opts.symbol ? { symbol: opts.symbol } : {}) })
      : syntheticSource({ symbols: opts.symbols, rate: opts.rate, seed: opts.seed });
  const producer = startProducing(pipeline, source, { logger, metrics: producerMetrics, abort });
  const writer = producer.writer;

  const tty = process.stdout.isTTY;
  const statusLine = (): string => {
    const t = pipeline.status.totals;
    const produced = writer.stats.recordsSent;
    const lag = produced - t.applied;
    const behind = Math.max(0, ...t.behindByShard.values());
    const secs = ((Date.now() - t0) / 1000).toFixed(0);
    // JVM start, leader election and the first lease assignment take a few
    // seconds (README, "Start-up timers"); say so instead of looking stuck.
    const hint = t.shardsStarted.size === 0 ? '  (KCL workers starting: leader election, lease assignment)' : '';
    const refused = producerMetrics.refusals().total;
    const stops = pipeline.configStops.filter((x) => x !== undefined).length;
    return `[${secs}s] produced ${produced}${refused > 0 ? ` (refused ${refused})` : ''}  consumed ${t.applied}  lag ${lag} (${behind} ms behind)  signals ${t.signals}  alerts ${t.alertsPublished}  dead letters ${t.deadLetters}  errors ${t.errors + producer.errors() + writer.stats.failedRecords}${stops > 0 ? `  STOPPED workers ${stops}` : ''}${hint}`;
  };
  const ticker = setInterval(() => {
    if (tty) process.stdout.write(`\r\x1b[2K${statusLine()}`);
    else out(statusLine());
  }, 1000);

  // Latency in steady state: from the first moment the consumers have caught
  // up (the start-up backlog is reported separately as time to first tick).
  let steadyFrom: number | undefined;
  const steadyWatch = setInterval(() => {
    if (steadyFrom === undefined && pipeline.status.totals.applied > 0 && writer.stats.recordsSent - pipeline.status.totals.applied <= Math.max(50, opts.rate)) {
      steadyFrom = pipeline.status.totals.latencySamples;
    }
  }, 250);
  await producer.done;
  clearInterval(steadyWatch);
  const produced = writer.stats.recordsSent;
  if (timer) clearTimeout(timer);
  const producedAt = Date.now();
  // Drain: let the consumers catch up before asking them to stop (the
  // stored-rows check below is exact).
  const drainMs = await drain(pipeline, { produced, workers: opts.workers, interrupted: () => interrupts.interrupted });
  clearInterval(ticker);
  if (tty) process.stdout.write('\n');
  out(statusLine());
  out('tickstream: stopping consumers (final checkpoint)…');
  await stopWorkersGracefully(pipeline);
  const checkpointed = await pipeline.leaseCheckpoints();
  const rows = await pipeline.countRows(pipeline.tables.ticks);
  await pipeline.stop();

  const t = pipeline.status.totals;
  const letters = deadLettersSince(opts.dataDir, t0);
  const elapsed = (producedAt - t0) / 1000;
  const errors = t.errors + producer.errors() + writer.stats.failedRecords;
  const summary = {
    produced,
    consumed: t.applied,
    dynamodb_tick_rows: rows,
    duplicates_skipped: t.duplicates,
    producer_refused: producerMetrics.refusals(),
    dead_letters: t.deadLetters,
    dead_letter_reasons: letters.byReason,
    signals: t.signals,
    alerts_published: t.alertsPublished,
    errors,
    sink_retries: t.sinkRetries,
    worker_restarts: pipeline.restarts.reduce((a, b) => a + (b ?? 0), 0),
    producer_retried_records: writer.stats.retriedRecords,
    // the build runs before this process (scripts/build.mjs), the stack
    // start (emulators, stream, tables, leases, KCL launch) is the first
    // part of the time to the first tick, which counts from this run's start
    build_s: lastBuildSeconds(t0),
    stack_start_s: (stackReadyAt - t0) / 1000,
    seconds_to_first_consumed_tick: t.firstAppliedAt === undefined ? null : (t.firstAppliedAt - t0) / 1000,
    consumed_ticks_per_s: Math.round(t.applied / Math.max(1, elapsed)),
    latency_put_to_dynamodb_ms: latencySummary(t.latenciesMs),
    latency_steady_state_ms: steadyFrom === undefined ? null : latencySummary(latenciesSince(t, steadyFrom)),
    drain_ms: drainMs,
    workers_seen: [...t.workers].sort(),
    // after the graceful stop: a sequence number per shard that received ticks
    kcl_checkpoints: Object.fromEntries(Object.entries(checkpointed).map(([k, v]) => [k.replace('shardId-', ''), v.length > 12 ? `…${v.slice(-6)}` : v])),
    data_dir: opts.dataDir,
    logs: runDir,
  };
  const stops = pipeline.configStops.filter((x): x is string => x !== undefined);
  const verdict = judge({ produced, rows, applied: t.applied, deadLetters: t.deadLetters, errors, stops, refused: producerMetrics.refusals().total });
  out('');
  out('tickstream summary');
  out('──────────────────');
  for (const [k, v] of Object.entries(summary)) out(`  ${k.padEnd(32)} ${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`);
  out(`  ${'result'.padEnd(32)} ${verdict.line}`);
  return verdict.ok ? 0 : 1;
}

/** How long `scripts/build.mjs` took, if it built just before this run (npm start). */
function lastBuildSeconds(runStart: number): number | null {
  try {
    const b = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '.build-time.json'), 'utf8')) as { startedAt?: unknown; ms?: unknown };
    if (typeof b.startedAt !== 'number' || typeof b.ms !== 'number') return null;
    // a build older than a minute before this run belongs to some earlier run
    return runStart - (b.startedAt + b.ms) < 60_000 ? b.ms / 1000 : null;
  } catch {
    return null;
  }
}

function latencySummary(l: number[]): { p50: number | null; p99: number | null; samples: number } {
  return { p50: percentile(l, 50), p99: percentile(l, 99), samples: l.length };
}

/** Dead letters written since `since` (this run), counted by reason. */
function deadLettersSince(dataDir: string, since: number): { byReason: Record<string, number> } {
  const byReason: Record<string, number> = {};
  let text = '';
  try {
    text = fs.readFileSync(path.join(dataDir, 'dead-letters.jsonl'), 'utf8');
  } catch {
    return { byReason };
  }
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const l = JSON.parse(line) as { at?: string; reason?: string };
      if (l.at === undefined || Date.parse(l.at) < since) continue;
      const key = (l.reason ?? '?').slice(0, 80);
      byReason[key] = (byReason[key] ?? 0) + 1;
    } catch {
      /* a torn last line while a worker appends */
    }
  }
  return { byReason };
}

async function main(): Promise<void> {
  // package-lock pins SDK versions that run on Node 20; their notice that
  // later releases need Node 22 would only clutter the status display.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  let opts: Options | 'help';
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  if (opts === 'help') {
    out(USAGE);
    return;
  }
  try {
    process.exitCode = await run(opts);
  } catch (err) {
    process.stderr.write(`tickstream: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}

void main();
