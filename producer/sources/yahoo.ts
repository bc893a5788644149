import type { Logger } from '../../shared/logger';
import { mapLimit } from '../../shared/runtime/concurrency';
import type { Tick } from '../../shared/tick';
import type { BackoffPolicy } from '../../shared/runtime/retry';
import { systemClock, type Clock } from '../clock';
import { errorForLog } from '../errors';
import { REFUSALS_LOGGED_PER_REASON } from '../kinesis-writer';
import { ProducerMetrics } from '../metrics';
import { toSymbolProvider, type SymbolProvider, type TickSource } from './source';
import { YahooHttpClient } from './yahoo-http';
import { parseQuote, quoteToTick, type QuoteMemory, type VolumeMode } from './yahoo-mapper';
import { YahooResilience } from './yahoo-resilience';

/** Yahoo starts failing requests above about 100 symbols. */
const YAHOO_MAX_SYMBOLS_PER_REQUEST = 100;

export interface YahooSourceOptions {
  readonly symbols: readonly string[] | SymbolProvider;
  readonly logger: Logger;
  readonly pollIntervalMs?: number;
  readonly batchSize?: number;
  /** Quote requests in flight at once, across batches. */
  readonly concurrency?: number;
  readonly requestTimeoutMs?: number;
  /** Retries per batch per poll, after the first attempt. */
  readonly maxRetries?: number;
  readonly backoff?: BackoffPolicy;
  /** Consecutive failed polls after which a batch's breaker opens. */
  readonly breakerThreshold?: number;
  readonly breakerCooldownMs?: number;
  /** See VolumeMode (yahoo-mapper.ts); `interval` by default. */
  readonly volumeMode?: VolumeMode;
  /** Injected for tests and the bench; defaults to globalThis.fetch. */
  readonly fetch?: typeof fetch;
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly metrics?: ProducerMetrics;
  /** Query host for quotes; the library's default is query2. */
  readonly queryHost?: string;
}

/**
 * Polls Yahoo Finance quotes for a symbol universe and yields the ticks whose
 * `regularMarketTime` moved since the previous poll.
 *
 * This file is the polling: it reads the universe once per poll (scale-out
 * moves symbol groups between producer tasks while they run), cuts it into
 * batches of at most `batchSize` (≤100) symbols, keeps at most `concurrency`
 * requests in flight and polls once per interval. The HTTP edge is
 * yahoo-http.ts, retries and circuit breaking yahoo-resilience.ts, and the
 * quote → tick mapping the pure yahoo-mapper.ts.
 */
export class YahooSource implements TickSource {
  readonly name = 'yahoo' as const;
  readonly metrics: ProducerMetrics;
  private readonly symbols: SymbolProvider;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly pollIntervalMs: number;
  private readonly batchSize: number;
  private readonly concurrency: number;
  private readonly volumeMode: VolumeMode;
  private readonly http: YahooHttpClient;
  private readonly resilience: YahooResilience;
  /** What was last sent per symbol, for the mapper. */
  private readonly lastSeen = new Map<string, QuoteMemory>();

  constructor(opts: YahooSourceOptions) {
    this.symbols = toSymbolProvider(opts.symbols);
    this.log = opts.logger.child({ component: 'yahoo-source' });
    this.clock = opts.clock ?? systemClock;
    this.metrics = opts.metrics ?? new ProducerMetrics();
    this.pollIntervalMs = opts.pollIntervalMs ?? 30_000;
    this.batchSize = Math.min(opts.batchSize ?? YAHOO_MAX_SYMBOLS_PER_REQUEST, YAHOO_MAX_SYMBOLS_PER_REQUEST);
    this.concurrency = Math.max(1, opts.concurrency ?? 4);
    this.volumeMode = opts.volumeMode ?? 'interval';
    this.http = new YahooHttpClient({
      logger: this.log,
      metrics: this.metrics,
      requestTimeoutMs: opts.requestTimeoutMs ?? 10_000,
      concurrency: this.concurrency,
      ...(opts.fetch === undefined ? {} : { fetch: opts.fetch }),
      ...(opts.queryHost === undefined ? {} : { queryHost: opts.queryHost }),
    });
    this.resilience = new YahooResilience({
      http: this.http,
      logger: this.log,
      clock: this.clock,
      random: opts.random ?? Math.random,
      metrics: this.metrics,
      maxRetries: opts.maxRetries ?? 4,
      backoff: opts.backoff ?? { baseMs: 1_000, maxMs: 30_000 },
      breakerThreshold: opts.breakerThreshold ?? 3,
      breakerCooldownMs: opts.breakerCooldownMs ?? 5 * 60_000,
    });
  }

  async *ticks(signal: AbortSignal): AsyncIterable<readonly Tick[]> {
    while (!signal.aborted) {
      const started = this.clock.now();
      let ticks: Tick[];
      try {
        ticks = await this.poll(signal);
      } catch (err) {
        if (signal.aborted) return;
        // poll() handles every per-batch failure itself; reaching here is a bug
        // or a programming error, and a 24/7 producer should survive it.
        this.metrics.inc('yahoo.poll_errors');
        this.log.error('poll failed', errorForLog(err));
        ticks = [];
      }
      if (ticks.length > 0) yield ticks;
      const wait = this.pollIntervalMs - (this.clock.now() - started);
      await this.clock.sleep(Math.max(0, wait), signal);
    }
  }

  /** One poll over the current universe: every batch once (with retries). */
  async poll(signal: AbortSignal): Promise<Tick[]> {
    this.http.stopSignal = signal;
    const symbols = [...new Set(this.symbols())];
    const batches: string[][] = [];
    for (let i = 0; i < symbols.length; i += this.batchSize) batches.push(symbols.slice(i, i + this.batchSize));
    this.resilience.prune(batches);
    const started = this.clock.now();
    const results = await mapLimit(batches, this.concurrency, async (batch) => {
      const raw = await this.resilience.fetchBatch(batch, signal);
      return raw === undefined ? [] : this.toTicks(batch, raw);
    });
    this.metrics.observe('yahoo.poll_ms', this.clock.now() - started);
    const ticks = results.flat();
    this.metrics.inc('yahoo.symbols_polled', symbols.length);
    this.metrics.inc('yahoo.ticks', ticks.length);
    return ticks;
  }

  private toTicks(requested: readonly string[], raw: readonly unknown[]): Tick[] {
    const producedAt = this.clock.now();
    const ticks: Tick[] = [];
    const returned = new Set<string>();
    for (const entry of raw) {
      const parsed = parseQuote(entry);
      if (!parsed.ok) {
        this.drop(parsed.symbol, parsed.reason);
        continue;
      }
      const symbol = parsed.quote.symbol;
      returned.add(symbol);
      const mapped = quoteToTick(parsed.quote, this.lastSeen.get(symbol), producedAt, this.volumeMode);
      switch (mapped.kind) {
        case 'unchanged':
          this.metrics.inc('yahoo.unchanged');
          break;
        case 'refused':
          this.drop(symbol, mapped.reason);
          break;
        case 'tick':
          if (mapped.unknownMarketState) this.metrics.inc('yahoo.unknown_market_state');
          if (mapped.unknownTimeZone) this.metrics.inc('yahoo.unknown_time_zone');
          this.lastSeen.set(symbol, mapped.memory);
          ticks.push(mapped.tick);
          break;
      }
    }
    const missing = requested.filter((s) => !returned.has(s));
    if (missing.length > 0) {
      this.metrics.inc('yahoo.missing_symbols', missing.length);
      this.log.debug('symbols not returned by Yahoo', { missing: missing.slice(0, 20), count: missing.length });
    }
    return ticks;
  }

  private drop(symbol: string | undefined, reason: string): void {
    this.metrics.inc('yahoo.dropped');
    if (this.metrics.refuse(reason) <= REFUSALS_LOGGED_PER_REASON) this.log.warn('quote refused', { symbol, reason });
  }
}
