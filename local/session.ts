/**
 * What `npm start` (local/main.ts) and `npm run soak` (local/soak.ts) share:
 * the pipeline as they start it, the producer (the ECS task's own code,
 * producer/task.ts), Ctrl-C handling, the drain and the graceful stop. One code
 * path, so a soak measures what `npm start` runs.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ProducerConfig } from '../producer/config';
import { errorForLog } from '../producer/errors';
import type { KinesisWriter } from '../producer/kinesis-writer';
import type { ProducerMetrics } from '../producer/metrics';
import { startProducerTask } from '../producer/task';
import { ENV } from '../shared/env-names';
import type { Env } from '../shared/runtime/config';
import type { LeaderLock } from '../consumer/kcl/properties';
import { createLogger, type Logger } from '../shared/logger';
import { sleep } from '../shared/runtime/sleep';
import { startPipeline, type Pipeline } from './pipeline';
import { LOCAL_REGION } from './stack';

/** SYNA, SYNB, …, SYNZ, SYNAA, …: `n` synthetic symbol names. */
export function symbolNames(n: number): string[] {
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

/**
 * The producer's environment on the local stack: what infra/stack.ts sets on
 * the ECS task, pointed at the emulators, over the caller's own environment
 * (so any TICKSTREAM_* tuning variable works locally as it does in ECS).
 * The lease table is set, so the producer holds its symbol groups as in AWS.
 */
export function localProducerEnv(base: Env, target: ProducerTarget): Env {
  return {
    // npm start's market when nothing names one: 20 synthetic symbols
    [ENV.symbols]: symbolNames(20).join(','),
    ...base,
    [ENV.region]: target.region,
    [ENV.streamName]: target.streamName,
    [ENV.kinesisEndpoint]: target.kinesisEndpoint,
    [ENV.dynamodbEndpoint]: target.dynamodbEndpoint,
    [ENV.producerLeaseTable]: target.leaseTable,
    [ENV.workerId]: 'producer-1',
  };
}

/** Where the local producer writes: the pipeline's stream and emulators. */
export interface ProducerTarget {
  readonly region: string;
  readonly streamName: string;
  readonly kinesisEndpoint: string;
  readonly dynamodbEndpoint: string;
  readonly leaseTable: string;
}

export function pipelineTarget(pipeline: Pipeline): ProducerTarget {
  return {
    region: pipeline.stack.region,
    streamName: pipeline.streamName,
    kinesisEndpoint: pipeline.stack.kinesisEndpoint,
    dynamodbEndpoint: pipeline.stack.dynamodbEndpoint,
    leaseTable: pipeline.tables.producerLeases,
  };
}

/** A stand-in target for checking the producer's flags and variables before the emulators start (their ports are not known yet). */
export const UNSTARTED_TARGET: ProducerTarget = {
  region: LOCAL_REGION,
  streamName: 'tickstream',
  kinesisEndpoint: 'http://127.0.0.1',
  dynamodbEndpoint: 'http://127.0.0.1',
  leaseTable: 'tickstream-producer-leases',
};

/** The producer's log: a file in the run directory, like each worker's, so the terminal keeps the status line. */
export function producerLogger(runDir: string, level: string): Logger {
  fs.mkdirSync(runDir, { recursive: true });
  return createLogger({ service: 'producer', level, stream: fs.createWriteStream(path.join(runDir, 'producer.log'), { flags: 'a' }) });
}

export interface Producing {
  readonly writer: KinesisWriter;
  /** One set of counters for the source and the writer (refusals, latencies). */
  readonly metrics: ProducerMetrics;
  /** Resolves once the source has ended (or `abort` fired), the writer flushed and the leases released. */
  readonly done: Promise<void>;
  /** 1 when the producer failed or could not flush (logged; the run's abort controller is then aborted). */
  errors(): number;
}

/**
 * The ECS producer task (producer/task.ts) with `config`, in this process so
 * its writer and counters feed the status line and the summary.
 */
export async function startProducing(config: ProducerConfig, o: { logger: Logger; abort: AbortController }): Promise<Producing> {
  const task = await startProducerTask(config, { logger: o.logger, signal: o.abort.signal });
  let errors = 0;
  const done = task.done.then(
    (r) => {
      if (!r.flushed) errors++;
    },
    (err: unknown) => {
      errors++;
      o.logger.error('producer failed', errorForLog(err));
      o.abort.abort();
    },
  );
  return { writer: task.writer, metrics: task.metrics, done, errors: () => errors };
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
    await sleep(250);
  }
  return Date.now() - from;
}

/** Every worker's graceful stop (shutdownRequested, a last checkpoint), in parallel. */
export async function stopWorkersGracefully(pipeline: Pipeline): Promise<void> {
  await Promise.all(pipeline.workers.map((_, i) => pipeline.stopWorker(i, 30_000)));
}
