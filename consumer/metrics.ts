import { emfLine, METRIC, SERVICES, type EmfObject } from '../shared/metrics';
import type { BatchStats, ProcessorEvent } from './shard-processor';

/**
 * Per-process consumer counters, emitted as one Embedded Metric Format line
 * per interval: CloudWatch extracts the metrics from the log, so nothing
 * calls PutMetricData and the alarms in infra/ see the same names.
 */
export class ConsumerMetrics {
  private c = ConsumerMetrics.zero();
  private latencySum = 0;
  private latencyCount = 0;
  private maxBehind: number | undefined;

  private static zero() {
    return { processed: 0, duplicates: 0, deadLetters: 0, errors: 0, retries: 0, signals: 0, alerts: 0 };
  }

  record(s: BatchStats): void {
    this.c.processed += s.applied;
    this.c.duplicates += s.duplicates;
    this.c.signals += s.signals;
    this.c.alerts += s.alertsPublished;
    for (const l of s.latenciesMs) this.latencySum += l;
    this.latencyCount += s.latenciesMs.length;
    if (s.millisBehindLatest !== undefined) this.maxBehind = Math.max(this.maxBehind ?? 0, s.millisBehindLatest);
  }

  /**
   * Errors, retries and dead letters count when they happen, not when the
   * batch completes: a batch that retries forever still raises
   * ConsumerErrors (once per failing operation) and SinkRetries (each retry).
   */
  event(e: ProcessorEvent): void {
    if (e.kind === 'error') this.c.errors++;
    else if (e.kind === 'retry') this.c.retries++;
    else this.c.deadLetters++;
  }

  /** The EMF object for the interval since the last call, and a reset. */
  take(now = Date.now()): EmfObject {
    const line = emfLine(
      {
        [METRIC.ticksProcessed]: this.c.processed,
        [METRIC.duplicatesSkipped]: this.c.duplicates,
        [METRIC.deadLetters]: this.c.deadLetters,
        [METRIC.consumerErrors]: this.c.errors,
        [METRIC.sinkRetries]: this.c.retries,
        [METRIC.signals]: this.c.signals,
        [METRIC.alertsPublished]: this.c.alerts,
        ...(this.latencyCount > 0 ? { [METRIC.endToEndLatencyMs]: this.latencySum / this.latencyCount } : {}),
        ...(this.maxBehind !== undefined ? { [METRIC.millisBehindLatest]: this.maxBehind } : {}),
      },
      { Service: SERVICES.consumer },
      now,
    );
    this.c = ConsumerMetrics.zero();
    this.latencySum = 0;
    this.latencyCount = 0;
    this.maxBehind = undefined;
    return line;
  }
}
