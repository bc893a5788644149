/**
 * What `npm start` (local/main.ts) and `npm run soak` (local/soak.ts) share:
 * the pipeline as they start it, the producer path (a tick source through
 * KinesisWriter), Ctrl-C handling, the drain and the graceful stop. One code
 * path, so a soak measures what `npm start` runs.
 */
import path from 'node:path';
import { KinesisWriter } from '../producer/kinesis-writer';
import type { ProducerMetrics } from '../producer/metrics';
import { SyntheticSource } from '../producer/sources/synthetic';
import type { TickSource } from '../producer/sources/source';
import type { LeaderLock } from '../consumer/kcl/properties';
import type { Logger } from '../shared/logger';
import { startPipeline, type Pipeline } from './pipeline';

/** SYNA, SYNB, …, SYNZ, SYNAA, …: `n` synthetic symbol names. */
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

/** The synthetic market of `npm start`: `rate` ticks/s across `symbols` symbols. */
export function syntheticSource(o: { symbols: number; rate: number; seed: number }): SyntheticSource {
  return new SyntheticSource({
    symbols: symbolNames(o.symbols),
    seed: o.seed,
    ratePerSec: o.rate,
    // market time keeps pace with the wall clock (each symbol ticks rate/symbols times a second)
    tickIntervalMs: Math.max(1, Math.round((1000 * o.symbols) / o.rate)),
  });
}

/** <dataDir>/runs/<ISO time>: this run's logs and generated properties. */
export function newRunDir(dataDir: string): string {
  return path.join(dataDir, 'runs', new Date().toISOString().replace(/[:.]/g, '-'));
}

/** The pipeline as `npm start` runs it. */
export function startLocalPipeline(o: { shards: number; workers: number; dataDir: string; runDir: string; jvmHeapMb?: number; leaderLock?: LeaderLock; log: (m: string) => void }): Promise<Pipeline> {
  return startPipeline({
    ...(o.leaderLock !== undefined ? { leaderLock: o.leaderLock } : {}),
    shards: o.shards,
    workers: o.workers,
    dataDir: o.dataDir,
    runDir: o.runDir,
    jvmHeapMb: o.jvmHeapMb,
    // a stop signals the daemons' JVMs alone, so every processor gets
    // shutdownRequested and checkpoints before the emulators go away
    shutdownGraceMillis: 20_000,
    log: o.log,
  });
}

export interface Producing {
  readonly writer: KinesisWriter;
  /** Resolves once the source has ended (or `signal` aborted) and the writer flushed. */
  readonly done: Promise<void>;
  /** 1 when the producer failed (logged; the run's abort controller is then aborted). */
  errors(): number;
}

/** Pumps `source` into the pipeline's stream until it ends or `abort` fires. */
export function startProducing(pipeline: Pipeline, source: TickSource, o: { logger: Logger; metrics: ProducerMetrics; abort: AbortController }): Producing {
  const writer = new KinesisWriter(pipeline.stack.kinesis, { streamName: pipeline.streamName, logger: o.logger, metrics: o.metrics });
  let errors = 0;
  const done = (async () => {
    try {
      for await (const batch of source.ticks(o.abort.signal)) await writer.enqueue(batch);
      await writer.flush();
    } catch (err) {
      errors++;
      o.logger.error('producer failed', { error: (err as Error).message });
      o.abort.abort();
    }
  })();
  return { writer, done, errors: () => errors };
}

export interface Interrupts {
  /** A first Ctrl-C (or SIGTERM) came. */
  readonly interrupted: boolean;
  dispose(): void;
}

/**
 * The first SIGINT/SIGTERM aborts `abort` (the run winds down as if it had
 * ended: drain, graceful stop); a second one calls `force` and exits 130.
 */
export function handleInterrupts(o: { abort: AbortController; say: (m: string) => void; force: () => Promise<void> }): Interrupts {
  let interrupted = false;
  const onSignal = (): void => {
    if (interrupted) {
      o.say('second interrupt, stopping now');
      void o.force().finally(() => process.exit(130));
      return;
    }
    interrupted = true;
    o.say('stopping (Ctrl-C again to force)…');
    o.abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    get interrupted() {
      return interrupted;
    },
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/**
 * Lets the consumers catch up with `produced` before they are asked to stop:
 * until every produced tick is applied or dead-lettered (a dead-lettered
 * record may hold several ticks, so this can end early by a few), every
 * worker stopped on a configuration error, two minutes passed, or 15 s after
 * an interrupt. Returns how long it waited, ms.
 */
export async function drain(pipeline: Pipeline, o: { produced: number; workers: number; interrupted: () => boolean }): Promise<number> {
  const from = Date.now();
  const deadline = from + 120_000;
  const accounted = (): number => pipeline.status.totals.applied + pipeline.status.totals.deadLetters;
  const allStopped = (): boolean => pipeline.configStops.filter((x) => x !== undefined).length === o.workers;
  while (accounted() < o.produced && !allStopped() && Date.now() < deadline && !(o.interrupted() && Date.now() - from > 15_000)) {
    await new Promise((r) => setTimeout(r, 250));
  }
  return Date.now() - from;
}

/** Every worker's graceful stop (shutdownRequested, a last checkpoint), in parallel. */
export async function stopWorkersGracefully(pipeline: Pipeline): Promise<void> {
  await Promise.all(pipeline.workers.map((_, i) => pipeline.stopWorker(i, 30_000)));
}
