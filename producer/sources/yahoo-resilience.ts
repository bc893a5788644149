import type { Logger } from '../../shared/logger';
import { backoffDelay, type BackoffPolicy } from '../../shared/runtime/retry';
import type { Clock } from '../clock';
import { YahooCrumbError, YahooHttpError, errorForLog } from '../errors';
import type { ProducerMetrics } from '../metrics';
import { translateYahooError, type YahooHttpClient } from './yahoo-http';

/**
 * How the Yahoo source survives Yahoo: retries with exponential backoff and
 * full jitter on 429/5xx/timeouts (honouring Retry-After), one 429 holding
 * back every batch, a crumb refresh when Yahoo rejects the crumb, and a
 * circuit breaker per batch so one bad batch neither floods Yahoo nor stalls
 * the rest. It knows batches and attempts, not quotes or ticks.
 */
export interface YahooResilienceOptions {
  readonly http: YahooHttpClient;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly random: () => number;
  readonly metrics: ProducerMetrics;
  /** Retries per batch per poll, after the first attempt. */
  readonly maxRetries: number;
  readonly backoff: BackoffPolicy;
  /** Consecutive failed polls after which a batch's breaker opens. */
  readonly breakerThreshold: number;
  readonly breakerCooldownMs: number;
}

interface BreakerState {
  consecutiveFailures: number;
  openUntil: number;
}

function batchKey(batch: readonly string[]): string {
  return `${batch[0] ?? ''}+${batch.length}`;
}

export class YahooResilience {
  private readonly breakers = new Map<string, BreakerState>();
  /** After a 429 no request of any batch starts before this time. */
  private rateLimitedUntil = 0;

  constructor(private readonly o: YahooResilienceOptions) {}

  /** Forget the breakers of batches that no longer exist (the universe moved). */
  prune(batches: readonly (readonly string[])[]): void {
    const keys = new Set(batches.map(batchKey));
    for (const key of this.breakers.keys()) if (!keys.has(key)) this.breakers.delete(key);
  }

  /**
   * The raw quote entries of one batch, or undefined when its circuit is open
   * or every attempt failed (logged and counted here; never thrown, so one
   * batch cannot fail a poll).
   */
  async fetchBatch(batch: readonly string[], signal: AbortSignal): Promise<unknown[] | undefined> {
    const { clock, metrics, logger: log } = this.o;
    const key = batchKey(batch);
    const breaker = this.breakers.get(key) ?? { consecutiveFailures: 0, openUntil: 0 };
    this.breakers.set(key, breaker);
    const now = clock.now();
    if (breaker.openUntil > now) {
      metrics.inc('yahoo.breaker_skipped');
      log.debug('batch skipped, circuit open', { batch: key, openForMs: breaker.openUntil - now });
      return undefined;
    }
    // Half-open after the cooldown: a single probe, no retries.
    const halfOpen = breaker.openUntil > 0;
    try {
      const raw = await this.withRetries(batch, signal, halfOpen ? 0 : this.o.maxRetries);
      if (breaker.consecutiveFailures > 0 || halfOpen) log.info('batch recovered', { batch: key });
      breaker.consecutiveFailures = 0;
      breaker.openUntil = 0;
      return raw;
    } catch (err) {
      if (signal.aborted) return undefined;
      breaker.consecutiveFailures += 1;
      metrics.inc('yahoo.batch_failures');
      const fields = { batch: key, symbols: batch.length, consecutiveFailures: breaker.consecutiveFailures, ...errorForLog(err) };
      if (halfOpen || breaker.consecutiveFailures >= this.o.breakerThreshold) {
        breaker.openUntil = clock.now() + this.o.breakerCooldownMs;
        metrics.inc('yahoo.breaker_opened');
        log.error('batch failed, circuit opened', { ...fields, cooldownMs: this.o.breakerCooldownMs });
      } else {
        log.error('batch failed', fields);
      }
      return undefined;
    }
  }

  private async withRetries(batch: readonly string[], signal: AbortSignal, maxRetries: number): Promise<unknown[]> {
    const { clock, metrics, logger: log, http, backoff, random } = this.o;
    let ownGate = -1;
    for (let attempt = 0; ; attempt++) {
      // A 429 is about us, not about one batch: every batch holds back until
      // the backoff of the batch that was told off has passed (that batch
      // itself has just slept it).
      const gate = this.rateLimitedUntil - clock.now();
      if (gate > 0 && this.rateLimitedUntil !== ownGate) {
        metrics.inc('yahoo.rate_limit_waits');
        await clock.sleep(gate, signal);
        if (signal.aborted) throw new Error('aborted');
      }
      const generation = http.crumbGeneration;
      const started = clock.now();
      try {
        metrics.inc('yahoo.requests');
        const raw = await http.quote(batch);
        metrics.observe('yahoo.request_ms', clock.now() - started);
        return raw;
      } catch (err) {
        if (signal.aborted) throw err;
        const e = translateYahooError(err);
        if (e instanceof YahooCrumbError) await http.resetCrumb(generation);
        if (!e.retryable || attempt >= maxRetries) throw e;
        const delay = Math.min(
          backoff.maxMs,
          Math.max(backoffDelay(attempt, backoff, random), e instanceof YahooHttpError ? (e.retryAfterMs ?? 0) : 0),
        );
        metrics.inc('yahoo.retries');
        if (e instanceof YahooHttpError && e.details.status === 429 && clock.now() + delay > this.rateLimitedUntil) {
          this.rateLimitedUntil = clock.now() + delay;
          ownGate = this.rateLimitedUntil;
        }
        log.warn('quote request failed, retrying', { batch: batchKey(batch), attempt: attempt + 1, delayMs: delay, ...e.toLog() });
        await clock.sleep(delay, signal);
        if (signal.aborted) throw e;
      }
    }
  }
}
