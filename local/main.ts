/**
 * `npm start`: the whole pipeline on the embedded default. Emulators, a
 * 4-shard stream, the real KCL daemon(s) and a synthetic market, with a live
 * status line, a graceful stop on Ctrl-C or --duration, and a summary.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { KinesisWriter } from '../producer/kinesis-writer';
import { ProducerMetrics } from '../producer/metrics';
import { ReplaySource } from '../producer/sources/replay';
import { SyntheticSource } from '../producer/sources/synthetic';
import type { TickSource } from '../producer/sources/source';
import { LEADER_LOCK_DEFAULTS, leaderLockFromEnv } from '../consumer/kcl/properties';
import { createLogger } from '../shared/logger';
import { startPipeline, type Pipeline } from './pipeline';
import { percentile } from './status-server';
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

function symbolNames(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    let s = '';
    let k = i;
    do {
      s = String.fromCharCode(65 + (k % 26)) + s;
      k = Math.floor(k / 26) - 1;
    } while (k >= 0);
    out.push(`SYN${s}`);
  }
  return out;
}

const out = (line: string): void => void process.stdout.write(line + '\n');

async function run(opts: Options): Promise<number> {
  const t0 = Date.now();
  const runId = new Date().toISOString().replace(/[:.]/g, '-');
  const runDir = path.join(opts.dataDir, 'runs', runId);
  // The orchestrator's own logs go to a file: the terminal shows the status line.
  const logger = createLogger({ service: 'tickstream-local', level: 'info', stream: process.stderr });
  // TICKSTREAM_KCL_LEADER_LEASE_MS / _HEARTBEAT_MS, as in the container
  const leaderLock = leaderLockFromEnv(process.env, LEADER_LOCK_DEFAULTS.local);
  out(`tickstream: starting local stack (logs in ${runDir})`);
  const pipeline: Pipeline = await startPipeline({
    leaderLock,
    shards: opts.shards,
    workers: opts.workers,
    dataDir: opts.dataDir,
    runDir,
    // a stop signals the daemons' JVMs alone, so every processor gets
    // shutdownRequested and checkpoints before the emulators go away
    shutdownGraceMillis: 20_000,
    log: (m) => out(`tickstream: ${m}`),
  });
  const what = opts.source === 'replay' ? `replay of ${[...opts.csv, ...opts.parquet].join(', ')} at ${opts.speed === Number.POSITIVE_INFINITY ? 'max' : `${opts.speed}x`} speed` : `${opts.symbols} symbols at ${opts.rate} ticks/s`;
  out(`tickstream: kinesis ${pipeline.stack.kinesisEndpoint}, dynamodb ${pipeline.stack.dynamodbEndpoint}, ${opts.shards} shards, ${opts.workers} KCL worker(s), ${what}`);

  const abort = new AbortController();
  let interrupted = false;
  const onSignal = (): void => {
    if (interrupted) {
      out('tickstream: second interrupt, stopping now');
      void pipeline.stop().finally(() => process.exit(130));
      return;
    }
    interrupted = true;
    out('\ntickstream: stopping (Ctrl-C again to force)…');
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const timer = opts.duration !== undefined ? setTimeout(() => abort.abort(), opts.duration * 1000) : undefined;

  // One set of producer counters for the source and the writer, so the
  // summary names every tick the producer refused, wherever it was refused.
  const producerMetrics = new ProducerMetrics();
  const source: TickSource =
    opts.source === 'replay'
      ? new ReplaySource({ csvFiles: opts.csv, parquetFiles: opts.parquet, speed: opts.speed, loop: opts.loop, logger, metrics: producerMetrics, ...(opts.symbol ? { symbol: opts.symbol } : {}) })
      : new SyntheticSource({
          symbols: symbolNames(opts.symbols),
          seed: opts.seed,
          ratePerSec: opts.rate,
          // market time keeps pace with the wall clock (each symbol ticks rate/symbols times a second)
          tickIntervalMs: Math.max(1, Math.round((1000 * opts.symbols) / opts.rate)),
        });
  const writer = new KinesisWriter(pipeline.stack.kinesis, { streamName: pipeline.streamName, logger, metrics: producerMetrics });
  let producerErrors = 0;
  const producing = (async () => {
    try {
      for await (const batch of source.ticks(abort.signal)) await writer.enqueue(batch);
      await writer.flush();
    } catch (err) {
      producerErrors++;
      logger.error('producer failed', { error: (err as Error).message });
      abort.abort();
    }
  })();

  const tty = process.stdout.isTTY;
  const statusLine = (): string => {
    const t = pipeline.status.totals;
    const produced = writer.stats.recordsSent;
    const lag = produced - t.applied;
    const behind = Math.max(0, ...t.behindByShard.values());
    const secs = ((Date.now() - t0) / 1000).toFixed(0);
    // KCL's first start on a fresh lease table waits a random 1-30 s before
    // its shard sync (README, "Start-up timers"); say so instead of looking stuck.
    const hint = t.shardsStarted.size === 0 ? '  (KCL workers bootstrapping the lease table; the first start takes 15-50 s)' : '';
    const refused = producerMetrics.refusals().total;
    const stops = pipeline.configStops.filter((x) => x !== undefined).length;
    return `[${secs}s] produced ${produced}${refused > 0 ? ` (refused ${refused})` : ''}  consumed ${t.applied}  lag ${lag} (${behind} ms behind)  signals ${t.signals}  alerts ${t.alertsPublished}  dead letters ${t.deadLetters}  errors ${t.errors + producerErrors + writer.stats.failedRecords}${stops > 0 ? `  STOPPED workers ${stops}` : ''}${hint}`;
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
      steadyFrom = pipeline.status.totals.latenciesMs.length;
    }
  }, 250);
  await producing;
  clearInterval(steadyWatch);
  const produced = writer.stats.recordsSent;
  if (timer) clearTimeout(timer);
  const producedAt = Date.now();
  // Drain: let the consumers catch up before asking them to stop.
  const drainDeadline = Date.now() + 120_000;
  // Drained when every produced tick is applied, a duplicate or dead-lettered
  // (a dead-lettered record may hold several ticks, so this can end early
  // by a few; the stored-rows check below is exact), or every worker stopped.
  const accounted = (): number => pipeline.status.totals.applied + pipeline.status.totals.deadLetters;
  const allStopped = (): boolean => pipeline.configStops.filter((x) => x !== undefined).length === opts.workers;
  while (accounted() < produced && !allStopped() && Date.now() < drainDeadline && !(interrupted && Date.now() - producedAt > 15_000)) {
    await new Promise((r) => setTimeout(r, 250));
  }
  const drainMs = Date.now() - producedAt;
  clearInterval(ticker);
  if (tty) process.stdout.write('\n');
  out(statusLine());
  out('tickstream: stopping consumers (final checkpoint)…');
  await Promise.all(pipeline.workers.map((_, i) => pipeline.stopWorker(i, 30_000)));
  const checkpointed = await pipeline.leaseCheckpoints();
  const rows = await pipeline.countRows(pipeline.tables.ticks);
  await pipeline.stop();

  const t = pipeline.status.totals;
  const letters = deadLettersSince(opts.dataDir, t0);
  const elapsed = (producedAt - t0) / 1000;
  const errors = t.errors + producerErrors + writer.stats.failedRecords;
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
    seconds_to_first_consumed_tick: t.firstAppliedAt === undefined ? null : (t.firstAppliedAt - t0) / 1000,
    consumed_ticks_per_s: Math.round(t.applied / Math.max(1, elapsed)),
    latency_put_to_dynamodb_ms: { p50: percentile(t.latenciesMs, 50), p99: percentile(t.latenciesMs, 99), samples: t.latenciesMs.length },
    latency_steady_state_ms:
      steadyFrom === undefined
        ? null
        : { p50: percentile(t.latenciesMs.slice(steadyFrom), 50), p99: percentile(t.latenciesMs.slice(steadyFrom), 99), samples: t.latenciesMs.length - steadyFrom },
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
