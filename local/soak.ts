/**
 * `npm run soak -- --minutes N`: the local pipeline of `npm start` (same
 * start, same producer path, same graceful stop: local/session.ts) for N
 * minutes, watched once a minute: RSS and CPU share of every process (the
 * orchestrator, each KCL JVM, each record processor, each emulator), lag,
 * ticks produced and consumed, put→DynamoDB latency p50/p99. At the end, one
 * JSON object on stdout with the minutes, the least-squares slope of each
 * series after the warm-up and a verdict against the goals (our processes'
 * RSS < 1 MB/10 min, p99 flat, lag bounded; emulators reported, not judged).
 * Progress goes to stderr. Linux only: it reads /proc.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { producerConfigFrom } from '../producer/config';
import type { Distribution, ProducerMetrics } from '../producer/metrics';
import { ConfigError, EXIT_CONFIG, EXIT_USAGE, int, num, optional, readSettings, text, withDefault, type Env, type Setting } from '../shared/runtime/config';
import { sleep } from '../shared/runtime/sleep';
import type { Pipeline } from './pipeline';
import { childrenOf, clkTck, cmdline, jvmHeapInfo, readProc, treeOf } from './procfs';
import { UNSTARTED_TARGET, drain, handleInterrupts, localProducerEnv, newRunDir, pipelineTarget, producerLogger, startLocalPipeline, startProducing, stopWorkersGracefully, symbolNames, type Producing } from './session';
import {
  aggregateMinute,
  DEFAULT_GOALS,
  judgeSeries,
  overallVerdict,
  seriesOf,
  type CpuClock,
  type Goals,
  type Minute,
  type ProcKind,
  type ProcSample,
  type SeriesVerdict,
} from './soak-stats';
import { latenciesSince, percentile } from './status-server';

const USAGE = `Usage: npm run soak -- --minutes <n> [options]
  --minutes <n>      how long to watch, counted from when every shard has its
                     record processor; fractions allowed (0.5 = 30 s)
  --rate <n>         ticks per second across all symbols (default 200)
  --symbols <n>      synthetic symbols (default 20)
  --shards <n>       Kinesis shards (default 4)
  --workers <n>      KCL consumer daemons (default 1)
  --warmup <m>       minutes left out of the slopes (default 10, or a third
                     of the run if that is shorter)
  --sample <s>       seconds between process readings (default 5)
  --heap <mb>        fixed JVM heap of each daemon: -Xms = -Xmx, pre-touched (default 384)
  --seed <n>         synthetic market seed (default 42)
  --data <dir>       data directory (default data/)
  -h, --help
Prints one JSON object on stdout at the end (Ctrl-C: early, with what it has);
a progress line per minute on stderr. Linux only (reads /proc).`;

export interface SoakOptions {
  minutes: number;
  rate: number;
  symbols: number;
  shards: number;
  workers: number;
  warmup: number;
  sampleSeconds: number;
  heapMb: number;
  seed: number;
  dataDir: string;
}

/** The soak's own settings; the producer's (rate, seed) are read by the producer's loader. */
const SOAK_SETTINGS = {
  minutes: { flag: 'minutes', schema: num(0, 7 * 24 * 60).refine((m) => m > 0).describe(`a number above 0 and at most ${7 * 24 * 60}`) },
  symbols: { flag: 'symbols', schema: withDefault(int(1, 100_000), 20) },
  shards: { flag: 'shards', schema: withDefault(int(1, 64), 4) },
  workers: { flag: 'workers', schema: withDefault(int(1, 16), 1) },
  warmup: { flag: 'warmup', schema: optional(num(0, 7 * 24 * 60)) },
  sampleSeconds: { flag: 'sample', schema: withDefault(num(0, 60).refine((x) => x > 0).describe('a number above 0 and at most 60'), 5) },
  heapMb: { flag: 'heap', schema: withDefault(int(64, 16_384), 384) },
  dataDir: { flag: 'data', schema: withDefault(text(), 'data') },
} as const satisfies Record<string, Setting<unknown>>;

/** The producer the soak runs: npm start's synthetic market with `o`'s load, on the ECS task's config loader. */
function soakProducerFlags(o: Pick<SoakOptions, 'symbols'> & Partial<Pick<SoakOptions, 'rate' | 'seed'>>, flags: Readonly<Record<string, unknown>> = {}): Record<string, unknown> {
  return { ...flags, source: 'synthetic', symbols: symbolNames(o.symbols).join(','), ...(o.rate === undefined ? {} : { rate: String(o.rate) }), ...(o.seed === undefined ? {} : { seed: String(o.seed) }) };
}

export function parseSoakOptions(argv: string[], env: Env = {}): SoakOptions | 'help' {
  let values: Record<string, unknown>;
  try {
    values = parseArgs({
      args: argv,
      options: {
        minutes: { type: 'string' },
        rate: { type: 'string' },
        symbols: { type: 'string' },
        shards: { type: 'string' },
        workers: { type: 'string' },
        warmup: { type: 'string' },
        sample: { type: 'string' },
        heap: { type: 'string' },
        seed: { type: 'string' },
        data: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help === true) return 'help';
  const { rate, seed, ...own } = values;
  const o = readSettings(SOAK_SETTINGS, { flags: own });
  const warmup = o.warmup ?? Math.round(Math.min(10, o.minutes / 3) * 100) / 100;
  if (warmup > o.minutes) throw new ConfigError('--warmup', `a number from 0 to ${o.minutes} (--minutes)`, own.warmup);
  const producer = producerConfigFrom(localProducerEnv(env, UNSTARTED_TARGET), soakProducerFlags(o, { rate, seed }));
  return { ...o, warmup, rate: producer.synthetic.ratePerSec, seed: producer.synthetic.seed };
}

/** An unknown flag or a stray argument: exit 2 with the usage text. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const say = (m: string): void => void process.stderr.write(`soak: ${m}\n`);

interface Watched {
  pid: number;
  kind: ProcKind;
  name: string;
}

/** Every process of the run, as found now: the pipeline's handles give the
 *  JVMs and emulators; record processors are the JVMs' node children. */
function discover(pipeline: Pipeline): Watched[] {
  const out: Watched[] = [{ pid: process.pid, kind: 'orchestrator', name: 'orchestrator' }];
  pipeline.workers.forEach((w, i) => {
    const pid = w?.child.pid;
    if (pid === undefined || w?.child.exitCode !== null || w.child.signalCode !== null) return;
    const worker = `worker-${i + 1}`;
    out.push({ pid, kind: 'jvm', name: worker });
    for (const c of childrenOf(pid)) {
      if (!cmdline(c).includes('consumer/main.js')) continue;
      const shards = pipeline.status.totals.processors.get(c)?.shards;
      out.push({ pid: c, kind: 'processor', name: `${worker}/${shards && shards.size > 0 ? [...shards].sort().join('+') : '?'}` });
    }
  });
  for (const [kind, e] of [['kinesis-local', pipeline.stack.emulators.kinesis], ['dynalite', pipeline.stack.emulators.dynamodb]] as const) {
    const pid = e.proc.child.pid;
    if (pid !== undefined && e.proc.child.exitCode === null) out.push({ pid, kind, name: kind });
  }
  return out;
}

/** A reading of each watched process; an emulator's children (if any) count with it. */
function sample(watched: readonly Watched[], at: number): ProcSample[] {
  const out: ProcSample[] = [];
  for (const w of watched) {
    const r = readProc(w.pid);
    if (r === undefined) continue;
    let rssKb = r.rssKb;
    let cpuTicks = r.cpuTicks;
    if (w.kind === 'kinesis-local' || w.kind === 'dynalite') {
      for (const c of treeOf(w.pid).slice(1)) {
        const rc = readProc(c);
        if (rc) {
          rssKb += rc.rssKb;
          cpuTicks += rc.cpuTicks;
        }
      }
    }
    out.push({ at, pid: w.pid, kind: w.kind, name: w.name, rssKb, cpuTicks, startMs: r.startMs });
  }
  return out;
}

const mb = (v: number): string => v.toFixed(0);

function progressLine(m: Minute, total: number): string {
  const by = (k: ProcKind): string => m.processes.filter((p) => p.kind === k).map((p) => `${mb(p.rss_mb)}MB/${p.cpu_pct ?? '?'}%`).join(' ') || '-';
  return `minute ${m.minute}/${Math.ceil(total)} (${m.seconds.toFixed(0)} s): orchestrator ${by('orchestrator')}  jvm ${by('jvm')}  processors ${by('processor')}  kinesis-local ${by('kinesis-local')}  dynalite ${by('dynalite')}  produced ${m.produced} consumed ${m.consumed} lag ${m.lag}  p50/p99 ${m.latency_ms.p50 ?? '-'}/${m.latency_ms.p99 ?? '-'} ms (producer source→ack ${m.producer_ms.source_to_ack_mean ?? '-'} ms)`;
}

/** What the run knows so far: enough for the JSON at any moment (Ctrl-C). */
interface State {
  readonly startedAt: number;
  readyAt: number | undefined;
  measuredUntil: number | undefined;
  readonly minutes: Minute[];
  /** figures known only at the end of the measure or of the run */
  readonly totals: Record<string, unknown>;
}

function report(o: SoakOptions, s: State, ctx: { pipeline: Pipeline; producer: Producing; metrics: ProducerMetrics; clock: CpuClock; goals: Goals; runDir: string; interrupted: boolean }): Record<string, unknown> {
  const series = seriesOf(s.minutes, o.warmup);
  const verdicts: Record<string, SeriesVerdict> = {};
  for (const [k, v] of [...series].sort(([a], [b]) => a.localeCompare(b))) verdicts[k] = judgeSeries(v, ctx.goals);
  const t = ctx.pipeline.status.totals;
  return {
    soak: {
      minutes_requested: o.minutes,
      minutes_measured: s.readyAt === undefined ? 0 : Math.round(((s.measuredUntil ?? Date.now()) - s.readyAt) / 600) / 100,
      warmup_minutes: o.warmup,
      rate: o.rate,
      symbols: o.symbols,
      shards: o.shards,
      workers: o.workers,
      seed: o.seed,
      jvm_heap_mb: o.heapMb,
      sample_seconds: o.sampleSeconds,
      cores: ctx.clock.cores,
      clk_tck: ctx.clock.clkTck,
      platform: `${process.platform} (Linux only: /proc)`,
      started_at: new Date(s.startedAt).toISOString(),
      consumers_up_after_s: s.readyAt === undefined ? null : Math.round((s.readyAt - s.startedAt) / 100) / 10,
      interrupted: ctx.interrupted,
      data_dir: o.dataDir,
      logs: ctx.runDir,
    },
    goals: ctx.goals,
    minutes: s.minutes,
    series: verdicts,
    verdict: overallVerdict(verdicts),
    totals: {
      ...s.totals,
      consumed_total: t.applied,
      errors: t.errors + ctx.producer.errors() + ctx.producer.writer.stats.failedRecords,
      dead_letters: t.deadLetters,
      duplicates_skipped: t.duplicates,
      producer_refused: ctx.metrics.refusals().total,
      worker_restarts: ctx.pipeline.restarts.reduce((a, b) => a + (b ?? 0), 0),
      config_stops: ctx.pipeline.configStops.filter((x) => x !== undefined),
      processors_seen: [...t.processors].map(([pid, p]) => ({ pid, worker: p.worker, shards: [...p.shards].sort() })),
    },
  };
}

async function run(o: SoakOptions): Promise<number> {
  if (process.platform !== 'linux') throw new Error('the soak reads /proc: Linux only');
  const s: State = { startedAt: Date.now(), readyAt: undefined, measuredUntil: undefined, minutes: [], totals: {} };
  const runDir = newRunDir(o.dataDir);
  const clock: CpuClock = { clkTck: clkTck(), cores: os.availableParallelism() };
  const goals: Goals = { ...DEFAULT_GOALS, rate: o.rate };
  say(`starting the local stack (logs in ${runDir}); ${o.minutes} min at ${o.rate} ticks/s, ${o.symbols} symbols, ${o.shards} shards, ${o.workers} worker(s), warm-up ${o.warmup} min, JVM heap fixed at ${o.heapMb} MB`);
  const pipeline = await startLocalPipeline({ shards: o.shards, workers: o.workers, dataDir: o.dataDir, runDir, jvmHeapMb: o.heapMb, log: say });

  const abort = new AbortController();
  let producer: Producing;
  try {
    const config = producerConfigFrom(localProducerEnv(process.env, pipelineTarget(pipeline)), soakProducerFlags(o));
    producer = await startProducing(config, { logger: producerLogger(runDir, config.logLevel), abort });
  } catch (err) {
    await pipeline.stop();
    throw err;
  }
  const metrics = producer.metrics;
  let printed = false;
  const print = (): Record<string, unknown> => {
    const r = report(o, s, { pipeline, producer, metrics, clock, goals, runDir, interrupted: interrupts.interrupted });
    if (!printed) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    printed = true;
    return r;
  };
  const interrupts = handleInterrupts({
    abort,
    say,
    force: async () => {
      print();
      await pipeline.stop();
    },
  });
  let failed = false;
  try {
    await watch(o, s, pipeline, producer, metrics, clock, abort.signal);
  } catch (err) {
    failed = true;
    say(`the measure failed: ${(err as Error).stack ?? String(err)}`);
  } finally {
    // Wind down as npm start does: stop producing, drain, graceful stop.
    say(interrupts.interrupted ? 'interrupted: stopping' : 'done watching: stopping the producer, draining, stopping the consumers');
    abort.abort();
    await producer.done;
    const produced = producer.writer.stats.recordsSent;
    s.totals.produced = produced;
    s.totals.drain_ms = await drain(pipeline, { produced, workers: o.workers, interrupted: () => interrupts.interrupted });
    s.totals.unconsumed_after_drain = produced - pipeline.status.totals.applied - pipeline.status.totals.deadLetters;
    await stopWorkersGracefully(pipeline);
    await pipeline.stop();
    interrupts.dispose();
  }
  const v = print().verdict as ReturnType<typeof overallVerdict>;
  say(`verdict: ${v.result}${v.drifting.length > 0 ? ` (drifting: ${v.drifting.join(', ')})` : ''}`);
  return failed || v.result === 'DRIFT' ? 1 : 0;
}

interface Marks {
  produced: number;
  applied: number;
  latency: number;
  put: Distribution | undefined;
  ack: Distribution | undefined;
}

/** Mean of the observations since `before`, ms (one decimal); null when none. */
function meanSince(now: Distribution | undefined, before: Distribution | undefined): number | null {
  const n = (now?.count ?? 0) - (before?.count ?? 0);
  return n <= 0 ? null : Math.round((((now?.sum ?? 0) - (before?.sum ?? 0)) / n) * 10) / 10;
}

/** The measure: from when every shard has a record processor, `o.minutes` of
 *  readings every `o.sampleSeconds`, closed into minutes; ends early on abort. */
async function watch(o: SoakOptions, s: State, pipeline: Pipeline, producer: Producing, metrics: ProducerMetrics, clock: CpuClock, signal: AbortSignal): Promise<void> {
  // The KCL's first start on a fresh lease table takes 15-50 s (README, "Start-up timers").
  const readyDeadline = Date.now() + 180_000;
  while (pipeline.status.totals.shardsStarted.size < o.shards && Date.now() < readyDeadline && !signal.aborted) await sleep(250, signal);
  const readyAt = Date.now();
  s.readyAt = readyAt;
  if (pipeline.status.totals.shardsStarted.size < o.shards && !signal.aborted) {
    say(`only ${pipeline.status.totals.shardsStarted.size} of ${o.shards} shards have a record processor after 180 s; measuring anyway`);
  }
  say(`consumers up after ${((readyAt - s.startedAt) / 1000).toFixed(1)} s; watching for ${o.minutes} min`);
  const endAt = readyAt + o.minutes * 60_000;
  const sampleMs = o.sampleSeconds * 1000;
  const before = new Map<number, ProcSample>();
  let pending: ProcSample[] = [];
  let watched: Watched[] = [];
  let minuteStart = readyAt;
  const mark = (): Marks => ({
    produced: producer.writer.stats.recordsSent,
    applied: pipeline.status.totals.applied,
    latency: pipeline.status.totals.latencySamples,
    put: metrics.distribution('writer.put_ms'),
    ack: metrics.distribution('writer.source_to_ack_ms'),
  });
  let marks = mark();
  let steadyMark: number | undefined = o.warmup <= 0 ? marks.latency : undefined;
  let heapInfo = true;

  const take = (): void => {
    watched = discover(pipeline);
    pending.push(...sample(watched, Date.now()));
  };
  const closeMinute = async (): Promise<void> => {
    const now = Date.now();
    const t = pipeline.status.totals;
    // a processor's shard may have come in after its first reading
    const names = new Map(watched.map((w) => [w.pid, w.name]));
    for (const p of pending) p.name = names.get(p.pid) ?? p.name;
    const latencies = latenciesSince(t, marks.latency);
    const minute: Minute = {
      minute: s.minutes.length + 1,
      seconds: Math.round((now - minuteStart) / 100) / 10,
      processes: aggregateMinute(pending, before, minuteStart, clock),
      lag: producer.writer.stats.recordsSent - t.applied,
      produced: producer.writer.stats.recordsSent - marks.produced,
      consumed: t.applied - marks.applied,
      latency_ms: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), samples: latencies.length },
      producer_ms: { put_mean: null, source_to_ack_mean: null },
    };
    const put = meanSince(metrics.distribution('writer.put_ms'), marks.put);
    const ack = meanSince(metrics.distribution('writer.source_to_ack_ms'), marks.ack);
    minute.producer_ms = { put_mean: put, source_to_ack_mean: ack };
    marks = mark();
    pending = [];
    minuteStart = now;
    if (heapInfo) {
      const jvms = watched.filter((w) => w.kind === 'jvm');
      const infos = await Promise.all(jvms.map((w) => jvmHeapInfo(w.pid)));
      if (infos.length > 0 && infos.every((i) => i === undefined)) {
        heapInfo = false;
        say('jcmd GC.heap_info gave nothing: JVM heap figures left out from now on');
      }
      minute.jvm_heap = jvms.flatMap((w, i) => {
        const h = infos[i];
        return h === undefined ? [] : [{ name: w.name, pid: w.pid, heap_used_mb: h.usedMb, heap_committed_mb: h.committedMb, metaspace_used_mb: h.metaspaceUsedMb }];
      });
    }
    s.minutes.push(minute);
    // the slopes leave out the minutes that start before the warm-up's end; so does this
    if (steadyMark === undefined && s.minutes.length >= o.warmup - 1e-9) steadyMark = marks.latency;
    say(progressLine(minute, o.minutes));
  };

  take();
  let nextSample = readyAt + sampleMs;
  let minuteEnd = readyAt + 60_000;
  for (;;) {
    await sleep(Math.min(nextSample, minuteEnd, endAt) - Date.now(), signal);
    const now = Date.now();
    const last = signal.aborted || now >= endAt - 20;
    take();
    while (nextSample <= now + 20) nextSample += sampleMs;
    if (last || now >= minuteEnd - 20) {
      await closeMinute();
      minuteEnd += 60_000;
    }
    if (last) break;
  }
  s.measuredUntil = Date.now();
  const t = pipeline.status.totals;
  s.totals.produced_while_measured = s.minutes.reduce((a, m) => a + m.produced, 0);
  s.totals.consumed_while_measured = s.minutes.reduce((a, m) => a + m.consumed, 0);
  s.totals.lag_at_end_of_measure = producer.writer.stats.recordsSent - t.applied;
  const steady = steadyMark === undefined ? undefined : latenciesSince(t, steadyMark);
  s.totals.latency_after_warmup_ms = steady === undefined ? null : { p50: percentile(steady, 50), p99: percentile(steady, 99), samples: steady.length };
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  let opts: SoakOptions | 'help';
  try {
    opts = parseSoakOptions(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      say(`invalid configuration: ${err.message}`);
      process.exit(EXIT_CONFIG);
    }
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}\n`);
    process.exit(EXIT_USAGE);
  }
  if (opts === 'help') {
    process.stdout.write(USAGE + '\n');
    return;
  }
  try {
    process.exitCode = await run(opts);
  } catch (err) {
    say((err as Error).message);
    process.exitCode = 1;
  }
}

if (require.main === module) void main();
