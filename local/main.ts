/**
 * `npm start`: the whole pipeline on the embedded default. Emulators, a
 * 4-shard stream, the real KCL daemon(s) and a synthetic market, with a live
 * status line, a graceful stop on Ctrl-C or --duration, and a summary.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { KinesisWriter } from '../producer/kinesis-writer';
import { SyntheticSource } from '../producer/sources/synthetic';
import type { TickSource } from '../producer/sources/source';
import { createLogger } from '../shared/logger';
import { startPipeline, type Pipeline } from './pipeline';
import { percentile } from './status-server';

const USAGE = `Usage: npm start -- [options]
  --symbols <n>      number of synthetic symbols (default 20)
  --rate <n>         ticks per second across all symbols (default 200)
  --duration <s>     stop after this many seconds (default: run until Ctrl-C)
  --shards <n>       Kinesis shards (default 4)
  --workers <n>      KCL consumer daemons (default 1)
  --seed <n>         synthetic market seed (default 42)
  --data <dir>       data directory (default data/)
  -h, --help`;

interface Options {
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
      data: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  return {
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
  out(`tickstream: starting local stack (logs in ${runDir})`);
  const pipeline: Pipeline = await startPipeline({
    shards: opts.shards,
    workers: opts.workers,
    dataDir: opts.dataDir,
    runDir,
    log: (m) => out(`tickstream: ${m}`),
  });
  out(
    `tickstream: kinesis ${pipeline.stack.kinesisEndpoint}, dynamodb ${pipeline.stack.dynamodbEndpoint}, ` +
      `${opts.shards} shards, ${opts.workers} KCL worker(s), ${opts.symbols} symbols at ${opts.rate} ticks/s`,
  );

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

  const source: TickSource = new SyntheticSource({ symbols: symbolNames(opts.symbols), seed: opts.seed, ratePerSec: opts.rate });
  const writer = new KinesisWriter(pipeline.stack.kinesis, { streamName: pipeline.streamName, logger });
  let produced = 0;
  let producerErrors = 0;
  const producing = (async () => {
    try {
      for await (const batch of source.ticks(abort.signal)) {
        await writer.write(batch);
        produced += batch.length;
      }
    } catch (err) {
      producerErrors++;
      logger.error('producer failed', { error: (err as Error).message });
      abort.abort();
    }
  })();

  const tty = process.stdout.isTTY;
  const statusLine = (): string => {
    const t = pipeline.status.totals;
    const lag = produced - t.applied;
    const behind = Math.max(0, ...t.behindByShard.values());
    const secs = ((Date.now() - t0) / 1000).toFixed(0);
    return `[${secs}s] produced ${produced}  consumed ${t.applied}  lag ${lag} (${behind} ms behind)  signals ${t.signals}  alerts ${t.alertsPublished}  dead letters ${t.deadLetters}  errors ${t.errors + producerErrors + writer.stats.failedRecords}`;
  };
  const ticker = setInterval(() => {
    if (tty) process.stdout.write(`\r\x1b[2K${statusLine()}`);
    else out(statusLine());
  }, 1000);

  await producing;
  if (timer) clearTimeout(timer);
  const producedAt = Date.now();
  // Drain: let the consumers catch up before asking them to stop.
  const drainDeadline = Date.now() + 120_000;
  while (pipeline.status.totals.applied < produced && Date.now() < drainDeadline && !(interrupted && Date.now() - producedAt > 15_000)) {
    await new Promise((r) => setTimeout(r, 250));
  }
  const drainMs = Date.now() - producedAt;
  clearInterval(ticker);
  if (tty) process.stdout.write('\n');
  out(statusLine());
  out('tickstream: stopping consumers (final checkpoint)…');
  await Promise.all(pipeline.workers.map((_, i) => pipeline.stopWorker(i)));
  const rows = await pipeline.countRows(pipeline.tables.ticks);
  await pipeline.stop();

  const t = pipeline.status.totals;
  const elapsed = (producedAt - t0) / 1000;
  const errors = t.errors + producerErrors + writer.stats.failedRecords;
  const summary = {
    produced,
    consumed: t.applied,
    dynamodb_tick_rows: rows,
    duplicates_skipped: t.duplicates,
    dead_letters: t.deadLetters,
    signals: t.signals,
    alerts_published: t.alertsPublished,
    errors,
    sink_retries: t.sinkRetries,
    producer_retried_records: writer.stats.retriedRecords,
    seconds_to_first_consumed_tick: t.firstAppliedAt === undefined ? null : (t.firstAppliedAt - t0) / 1000,
    consumed_ticks_per_s: Math.round(t.applied / Math.max(1, elapsed)),
    latency_put_to_dynamodb_ms: { p50: percentile(t.latenciesMs, 50), p99: percentile(t.latenciesMs, 99), samples: t.latenciesMs.length },
    drain_ms: drainMs,
    workers_seen: [...t.workers].sort(),
    data_dir: opts.dataDir,
    logs: runDir,
  };
  const ok = rows === produced && t.applied >= produced && errors === 0;
  out('');
  out('tickstream summary');
  out('──────────────────');
  for (const [k, v] of Object.entries(summary)) out(`  ${k.padEnd(32)} ${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`);
  out(ok ? '  result                           OK: every produced tick was consumed and stored, no errors' : '  result                           INCOMPLETE: see the counts above and the logs');
  return ok ? 0 : 1;
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
