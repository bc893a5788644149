/**
 * `npm start`: the whole pipeline on the embedded default. Emulators, a
 * 4-shard stream, the real KCL daemon(s) and a synthetic market, with a live
 * status line, a graceful stop on Ctrl-C or --duration, and a summary.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PRODUCER_FLAGS, producerConfigFrom } from '../producer/config';
import { LEADER_LOCK_DEFAULTS, leaderLockFromEnv } from '../consumer/kcl/properties';
import { ConfigError, EXIT_CONFIG, EXIT_USAGE, int, optional, readSettings, readValue, text, withDefault, type Env, type Setting } from '../shared/runtime/config';
import type { Pipeline } from './pipeline';
import { UNSTARTED_TARGET, drain, handleInterrupts, localProducerEnv, newRunDir, pipelineTarget, producerLogger, startLocalPipeline, startProducing, stopWorkersGracefully, symbolNames, type Producing } from './session';
import { latenciesSince, percentile } from './status-server';
import { judge } from './verdict';
import { loadDashboardConfig, type DashboardConfig } from '../dashboard/config';
import { LocalSource } from '../dashboard/local-source';
import { startDashboard, type Dashboard } from '../dashboard/server';
import { ENV } from '../shared/env-names';

const USAGE = `Usage: npm start -- [options]
The producer is the ECS task's own (producer/task.ts, config from producer/config.ts):
its flags and TICKSTREAM_* variables mean here what they mean there (README, "npm start").
  --symbols <n|list> n synthetic symbols SYNA, SYNB, ... (default 20), or a symbol list
  --rate <n>         synthetic: ticks per second across all symbols (default 200)
  --seed <n>         synthetic: market seed (default 42)
  --source <name>    synthetic (default), replay (default with --csv/--parquet) or yahoo
  --csv <file>       replay: CSV bars (timestamp,open,high,low,close,volume[,symbol]); repeatable
  --parquet <file>   replay: Parquet bars; repeatable
  --symbol <SYM>     replay: symbol of a single-symbol file (default: from the file name)
  --speed <x>        replay: 1 = real time (default), 60 = a minute per second, max
  --loop             replay: start over at the end (ts shifted by whole days)
  --max-ticks <n>    synthetic: stop after n ticks
  --symbols-file <f> one symbol per line
  --duration <s>     stop after this many seconds (default: run until Ctrl-C)
  --shards <n>       Kinesis shards (default 4)
  --workers <n>      KCL consumer daemons (default 1)
  --data <dir>       data directory (default data/)
  --dashboard-port <n> the live dashboard's port (default: a free one; or TICKSTREAM_DASHBOARD_PORT)
  --no-dashboard     run without the dashboard
  -h, --help
A bad value exits 78 (EX_CONFIG) naming the flag or variable; an unknown flag exits 2.`;

/** npm start's own settings: the local stack around the producer. */
const LOCAL_SETTINGS = {
  duration: { flag: 'duration', schema: optional(int(1, 7 * 86400)) },
  shards: { flag: 'shards', schema: withDefault(int(1, 64), 4) },
  workers: { flag: 'workers', schema: withDefault(int(1, 16), 1) },
  dataDir: { flag: 'data', schema: withDefault(text(), 'data') },
} as const satisfies Record<string, Setting<unknown>>;

const LOCAL_FLAGS = {
  duration: { type: 'string' },
  shards: { type: 'string' },
  workers: { type: 'string' },
  data: { type: 'string' },
  'dashboard-port': { type: 'string' },
  'no-dashboard': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

interface Options {
  readonly duration: number | undefined;
  readonly shards: number;
  readonly workers: number;
  readonly dataDir: string;
  /** The live dashboard's settings; undefined with --no-dashboard. */
  readonly dashboard: DashboardConfig | undefined;
  /** The producer's flags (PRODUCER_FLAGS), `--symbols <n>` already turned into n synthetic names. */
  readonly producerFlags: Readonly<Record<string, unknown>>;
}

/** An unknown flag or a stray argument: exit 2 with the usage text. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * npm start's command line: its own flags (the stack) and the producer's
 * (PRODUCER_FLAGS, read by the producer's loader). Checks the producer's
 * config too, so a typo stops here and not after the emulators started.
 */
export function parseOptions(argv: string[], env: Env): Options | 'help' {
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args: argv, options: { ...PRODUCER_FLAGS, ...LOCAL_FLAGS }, strict: true }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help === true) return 'help';
  const { duration, shards, workers, data, help: _help, symbols, 'dashboard-port': dashboardPort, 'no-dashboard': noDashboard, ...producer } = values;
  const local = readSettings(LOCAL_SETTINGS, { flags: { duration, shards, workers, data } });
  // TICKSTREAM_MODE=aws in the shell does not make a local run's dashboard read AWS: its dashboard is local
  const dashboard: DashboardConfig | undefined = noDashboard === true ? undefined : loadDashboardConfig({ ...env, [ENV.mode]: 'local' }, { port: dashboardPort });
  // --symbols <n>: n synthetic names, as npm start always had; a list goes to the producer as is.
  const symbolsFlag = typeof symbols === 'string' && /^\s*\d+\s*$/.test(symbols) ? symbolNames(readValue('--symbols', symbols, int(1, 100_000))).join(',') : symbols;
  const producerFlags = { ...producer, ...(symbolsFlag === undefined ? {} : { symbols: symbolsFlag }) };
  producerConfigFrom(localProducerEnv(env, UNSTARTED_TARGET), producerFlags);
  return { ...local, dashboard, producerFlags };
}

const out = (line: string): void => void process.stdout.write(line + '\n');

async function run(opts: Options): Promise<number> {
  const t0 = Date.now();
  const runDir = newRunDir(opts.dataDir);
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
  // The ECS task's config loader, on the variables infra/stack.ts sets, pointed at the emulators.
  const config = producerConfigFrom(localProducerEnv(process.env, pipelineTarget(pipeline)), opts.producerFlags);
  const r = config.replay;
  const what =
    config.source === 'replay'
      ? `replay of ${[...r.csvFiles, ...r.parquetFiles].join(', ')} at ${r.speed === Number.POSITIVE_INFINITY ? 'max' : `${r.speed}x`} speed`
      : `${config.source} producer, ${config.symbols.length} symbols${config.source === 'synthetic' ? ` at ${config.synthetic.ratePerSec} ticks/s` : ''}`;
  out(`tickstream: kinesis ${pipeline.stack.kinesisEndpoint}, dynamodb ${pipeline.stack.dynamodbEndpoint}, ${opts.shards} shards, ${opts.workers} KCL worker(s), ${what}`);
  // The producer starts below; until then the dashboard shows no produced count.
  let producedSoFar = (): number | null => null;
  let dashboard: Dashboard | undefined;
  if (opts.dashboard !== undefined) {
    try {
      const source = new LocalSource({ dataDir: opts.dataDir, live: { onReport: (l) => pipeline.status.onReport(l), produced: () => producedSoFar(), since: t0 } });
      dashboard = await startDashboard({ source, host: opts.dashboard.host, port: opts.dashboard.port, token: opts.dashboard.token, staticDir: path.join(__dirname, '..', 'dashboard', 'web') });
      out(`dashboard: ${dashboard.url}`);
    } catch (err) {
      // the pipeline runs without it: a taken port is no reason to stop a run
      out(`tickstream: dashboard not started: ${(err as Error).message}`);
    }
  }

  const abort = new AbortController();
  const interrupts = handleInterrupts({
    abort,
    say: (m) => out(`\ntickstream: ${m}`),
    force: () => pipeline.stop(),
  });
  const timer = opts.duration !== undefined ? setTimeout(() => abort.abort(), opts.duration * 1000) : undefined;

  // The producer's counters (source and writer in one), so the summary
  // names every tick the producer refused, wherever it was refused.
  let producer: Producing;
  try {
    producer = await startProducing(config, { logger: producerLogger(runDir, config.logLevel), abort });
  } catch (err) {
    interrupts.dispose();
    clearTimeout(timer);
    await dashboard?.close();
    await pipeline.stop();
    throw err;
  }
  const { writer, metrics: producerMetrics } = producer;
  producedSoFar = () => writer.stats.recordsSent;

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
    if (steadyFrom === undefined && pipeline.status.totals.applied > 0 && writer.stats.recordsSent - pipeline.status.totals.applied <= Math.max(50, config.synthetic.ratePerSec)) {
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
  await dashboard?.close();
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
  if (dashboard !== undefined) out(`dashboard: ${dashboard.url} (closed with this run; \`npm run dashboard -- --data ${opts.dataDir}\` shows its history)`);
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
    opts = parseOptions(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`tickstream: invalid configuration: ${err.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}\n`);
    process.exit(EXIT_USAGE);
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
