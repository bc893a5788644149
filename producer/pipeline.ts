import type { Logger } from '../shared/logger';
import { METRIC, SERVICES, SERVICE_DIMENSION, emfLine } from '../shared/metrics';
import { sleep } from '../shared/runtime/sleep';
import type { KinesisWriter } from './kinesis-writer';
import type { ProducerMetrics } from './metrics';
import type { TickSource } from './sources/source';

export interface RunProducerOptions {
  readonly source: TickSource;
  readonly writer: KinesisWriter;
  readonly logger: Logger;
  /** Abort to stop: the source stops, then everything queued is flushed. */
  readonly signal: AbortSignal;
  /** Source-side counters (Yahoo failures, poll latency), when the source has them. */
  readonly sourceMetrics?: ProducerMetrics;
  /** Metrics log line period; 0 disables. */
  readonly metricsIntervalMs?: number;
  /** How long the final flush may take (ECS gives 30 s after SIGTERM). */
  readonly flushTimeoutMs?: number;
}

export interface RunProducerResult {
  readonly ticks: number;
  readonly flushed: boolean;
}

/**
 * Source → writer loop. The source is pulled only after the writer accepted
 * the previous batch (enqueue() waits while the writer is full), so a slow
 * stream slows the source instead of filling memory. On abort the source
 * ends and the writer is flushed, so no fetched tick is dropped at shutdown.
 */
export async function runProducer(o: RunProducerOptions): Promise<RunProducerResult> {
  const log = o.logger.child({ component: 'producer' });
  let ticks = 0;
  const reporter = startMetricsReporter(o, log);
  try {
    for await (const batch of o.source.ticks(o.signal)) {
      ticks += batch.length;
      await o.writer.enqueue(batch);
    }
    log.info('source finished, flushing', { ticks, pending: o.writer.pending, aborted: o.signal.aborted });
    const flushed = await withTimeout(o.writer.flush(), o.flushTimeoutMs ?? 25_000);
    if (!flushed) log.error('flush timed out; unacknowledged records are lost', { pending: o.writer.pending });
    else log.info('flushed', { ticks, recordsSent: o.writer.stats.recordsSent });
    return { ticks, flushed };
  } finally {
    reporter.stop();
  }
}

async function withTimeout(p: Promise<void>, ms: number): Promise<boolean> {
  const timeout = new AbortController();
  try {
    return await Promise.race([p.then(() => true), sleep(ms, timeout.signal).then(() => false)]);
  } finally {
    timeout.abort();
  }
}

/**
 * Every interval: one human-oriented line (records/s, retries, failures) and
 * one EMF line CloudWatch turns into the producer metrics infra/ alarms on.
 */
function startMetricsReporter(o: RunProducerOptions, log: Logger): { stop: () => void } {
  const every = o.metricsIntervalMs ?? 60_000;
  if (every <= 0) return { stop: () => undefined };
  let last = { sent: 0, retried: 0, failed: 0, sourceFailures: 0, at: Date.now() };
  const timer = setInterval(() => {
    const w = o.writer.stats;
    const sm = o.sourceMetrics;
    const sourceFailures = sm === undefined ? 0 : sm.get('yahoo.batch_failures') + sm.get('yahoo.retries') + sm.get('replay.bad_rows');
    const now = Date.now();
    const secs = Math.max(0.001, (now - last.at) / 1000);
    const poll = sm?.distribution('yahoo.poll_ms');
    const ack = o.writer.metrics.distribution('writer.source_to_ack_ms');
    log.info('producer metrics', {
      recordsPerSec: Math.round((w.recordsSent - last.sent) / secs),
      retriedRecords: w.retriedRecords - last.retried,
      failedRecords: w.failedRecords - last.failed,
      pending: o.writer.pending,
      avgSourceToAckMs: ack === undefined || ack.count === 0 ? undefined : Math.round(ack.sum / ack.count),
    });
    log.info(
      'metrics',
      emfLine(
        {
          [METRIC.ticksProduced]: w.recordsSent - last.sent,
          [METRIC.putRecordsFailed]: w.failedRecords - last.failed,
          [METRIC.sourceFailures]: sourceFailures - last.sourceFailures,
          ...(poll === undefined || poll.count === 0 ? {} : { [METRIC.sourceLatencyMs]: poll.sum / poll.count }),
        },
        { [SERVICE_DIMENSION]: SERVICES.producer },
        now,
      ),
    );
    last = { sent: w.recordsSent, retried: w.retriedRecords, failed: w.failedRecords, sourceFailures, at: now };
  }, every);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

