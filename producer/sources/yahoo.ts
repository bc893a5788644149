import YahooFinance from 'yahoo-finance2';
import { ExtendedCookieJar } from 'yahoo-finance2/lib/cookieJar';
import { getCrumbClear } from 'yahoo-finance2/lib/getCrumb';
import { z } from 'zod';
import type { Logger } from '../../shared/logger';
import { REFUSALS_LOGGED_PER_REASON } from '../kinesis-writer';
import { TickSchema, TICK_SCHEMA_VERSION, type MarketState, type Tick } from '../../shared/tick';
import { backoffDelay, systemClock, type BackoffPolicy, type Clock } from '../clock';
import {
  UnexpectedHostError,
  YahooCrumbError,
  YahooError,
  YahooHttpError,
  YahooMalformedResponseError,
  YahooTimeoutError,
  errorForLog,
  redactSecrets,
  type SafeHttpDetails,
} from '../errors';
import { ProducerMetrics } from '../metrics';
import { toSymbolProvider, type SymbolProvider, type TickSource } from './source';

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
  /**
   * `interval` (default): tick volume is the volume traded since the previous
   * quote of that symbol (Yahoo reports a cumulative session volume), which is
   * what a volume-spike detector needs; the first quote of a symbol seen by
   * this process carries 0. `cumulative`: Yahoo's number as is.
   */
  readonly volumeMode?: 'interval' | 'cumulative';
  /** Injected for tests and the bench; defaults to globalThis.fetch. */
  readonly fetch?: typeof fetch;
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly metrics?: ProducerMetrics;
  /** Query host for quotes; the library's default is query2. */
  readonly queryHost?: string;
}

/**
 * The subset of a Yahoo v7 quote we rely on. Everything else Yahoo sends is
 * ignored. `regularMarketTime` is epoch seconds on the wire; yahoo-finance2
 * may already have coerced it to a Date, so both are accepted.
 */
const YahooQuoteSchema = z.object({
  symbol: z.string().min(1),
  regularMarketPrice: z.number().finite().positive(),
  regularMarketTime: z.union([z.number().int().positive(), z.date()]),
  regularMarketPreviousClose: z.number().finite().positive(),
  regularMarketVolume: z.number().finite().nonnegative().optional(),
  marketState: z.string().optional(),
});

/** The envelope of `/v7/finance/quote`, checked at the HTTP edge. */
const QuoteEnvelopeSchema = z.object({
  quoteResponse: z.object({
    result: z.array(z.unknown()),
    error: z.unknown().nullable().optional(),
  }),
});

const MARKET_STATE_MAP: Readonly<Record<string, MarketState>> = {
  PREPRE: 'PRE',
  PRE: 'PRE',
  REGULAR: 'REGULAR',
  POST: 'POST',
  POSTPOST: 'POST',
  CLOSED: 'CLOSED',
};

export function mapMarketState(state: string | undefined): MarketState | undefined {
  return state === undefined ? undefined : MARKET_STATE_MAP[state];
}

type RequestKind = 'quote' | 'crumb' | 'cookie';

function classifyUrl(url: URL): RequestKind {
  if (url.pathname.startsWith('/v7/finance/quote')) return 'quote';
  if (url.pathname.startsWith('/v1/test/getcrumb')) return 'crumb';
  return 'cookie';
}

/** The URL as it may be logged: no query string except `symbols` (shortened). */
function safeUrl(url: URL): string {
  const symbols = url.searchParams.get('symbols');
  const base = `${url.protocol}//${url.host}${url.pathname}`;
  if (symbols === null) return base;
  const list = symbols.split(',');
  return `${base}?symbols=${list.slice(0, 3).join(',')}${list.length > 3 ? `,…(${list.length})` : ''}`;
}

function excerpt(text: string): string {
  return redactSecrets(text.replace(/\s+/g, ' ').trim()).slice(0, 200);
}

function retryAfterMs(header: string | null): number | undefined {
  if (header === null) return undefined;
  const secs = Number(header);
  return Number.isFinite(secs) && secs >= 0 ? secs * 1000 : undefined;
}

interface BreakerState {
  consecutiveFailures: number;
  openUntil: number;
}

interface LibraryLogger {
  info: (...args: unknown[]) => void;
  warn: (...args: unknown[]) => void;
  error: (...args: unknown[]) => void;
  debug: (...args: unknown[]) => void;
  dir: (...args: unknown[]) => void;
}

/**
 * yahoo-finance2 talks through its `logger` option (notices, a Node-version
 * warning, debug lines that include the crumb). None of it is ours to show at
 * info, and some of it is secret: lines mentioning a crumb or cookie are
 * dropped, the rest goes to our logger at debug.
 */
function libraryLogger(log: Logger): LibraryLogger {
  const forward =
    (libLevel: string) =>
    (...args: unknown[]): void => {
      const text = args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a) ?? String(a))).join(' ');
      if (/crumb|cookie/i.test(text)) {
        log.debug('yahoo-finance2 message dropped (may carry secrets)', { libLevel });
        return;
      }
      log.debug('yahoo-finance2 message', { libLevel, libMessage: excerpt(text) });
    };
  return { info: forward('info'), warn: forward('warn'), error: forward('error'), debug: forward('debug'), dir: forward('dir') };
}

/**
 * Polls Yahoo Finance quotes for a symbol universe and yields the ticks whose
 * `regularMarketTime` moved since the previous poll.
 *
 * Rate safety: at most `batchSize` (≤100) symbols per request, at most
 * `concurrency` requests in flight, one poll per interval, exponential backoff
 * with full jitter on 429/5xx/timeouts (honouring Retry-After), and a circuit
 * breaker per batch so one bad batch neither floods Yahoo nor stalls the rest.
 *
 * The library is used for what it is good at (cookie/consent/crumb dance,
 * URL building); HTTP status handling happens in our `fetch` wrapper, because
 * the library prints the full URL (crumb included) with console.error on any
 * non-2xx and throws untyped errors. Throwing typed errors from inside fetch
 * means that code path never runs.
 */
export class YahooSource implements TickSource {
  readonly name = 'yahoo' as const;
  private readonly symbols: SymbolProvider;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly random: () => number;
  readonly metrics: ProducerMetrics;
  private readonly pollIntervalMs: number;
  private readonly batchSize: number;
  private readonly concurrency: number;
  private readonly requestTimeoutMs: number;
  private readonly maxRetries: number;
  private readonly backoff: BackoffPolicy;
  private readonly breakerThreshold: number;
  private readonly breakerCooldownMs: number;
  private readonly volumeMode: 'interval' | 'cumulative';
  private readonly fetchImpl: typeof fetch;
  private readonly jar = new ExtendedCookieJar();
  private readonly yf: InstanceType<typeof YahooFinance>;
  /** Last `regularMarketTime` (ms) and cumulative volume sent per symbol. */
  private readonly lastSeen = new Map<string, { ts: number; cumVolume: number | undefined }>();
  private readonly breakers = new Map<string, BreakerState>();
  private crumbGeneration = 0;
  private crumbReset: Promise<void> | undefined;
  /** After a 429 no request of any batch starts before this time. */
  private rateLimitedUntil = 0;
  private stopSignal: AbortSignal | undefined;

  constructor(opts: YahooSourceOptions) {
    this.symbols = toSymbolProvider(opts.symbols);
    this.log = opts.logger.child({ component: 'yahoo-source' });
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? Math.random;
    this.metrics = opts.metrics ?? new ProducerMetrics();
    this.pollIntervalMs = opts.pollIntervalMs ?? 30_000;
    this.batchSize = Math.min(opts.batchSize ?? YAHOO_MAX_SYMBOLS_PER_REQUEST, YAHOO_MAX_SYMBOLS_PER_REQUEST);
    this.concurrency = Math.max(1, opts.concurrency ?? 4);
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 10_000;
    this.maxRetries = opts.maxRetries ?? 4;
    this.backoff = opts.backoff ?? { baseMs: 1_000, maxMs: 30_000 };
    this.breakerThreshold = opts.breakerThreshold ?? 3;
    this.breakerCooldownMs = opts.breakerCooldownMs ?? 5 * 60_000;
    this.volumeMode = opts.volumeMode ?? 'interval';
    this.fetchImpl = opts.fetch ?? globalThis.fetch;
    this.yf = new YahooFinance({
      fetch: (input, init) => this.guardedFetch(input, init),
      cookieJar: this.jar,
      logger: libraryLogger(this.log),
      suppressNotices: ['yahooSurvey'],
      // It would fetch the npm registry after a validation error.
      versionCheck: false,
      // The library's own queue is process-global; ours bounds concurrency,
      // so leave it room for the crumb request next to `concurrency` quotes.
      queue: { concurrency: this.concurrency + 1 },
      validation: { logErrors: false, logOptionsErrors: false },
      ...(opts.queryHost === undefined ? {} : { YF_QUERY_HOST: opts.queryHost }),
    });
    // yahoo-finance2 keeps the crumb (and a resolved crumb promise that only
    // getCrumbClear resets) in module scope, shared by every client in the
    // process. A new source must not inherit another one's crumb: clear it.
    // The module state is reset synchronously; only the jar clearing awaits.
    getCrumbClear(this.jar).catch(() => undefined);
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
    this.stopSignal = signal;
    const symbols = [...new Set(this.symbols())];
    const batches: string[][] = [];
    for (let i = 0; i < symbols.length; i += this.batchSize) batches.push(symbols.slice(i, i + this.batchSize));
    this.pruneBreakers(batches);
    const started = this.clock.now();
    const results = await mapLimit(batches, this.concurrency, (batch) => this.pollBatch(batch, signal));
    this.metrics.observe('yahoo.poll_ms', this.clock.now() - started);
    const ticks = results.flat();
    this.metrics.inc('yahoo.symbols_polled', symbols.length);
    this.metrics.inc('yahoo.ticks', ticks.length);
    return ticks;
  }

  private async pollBatch(batch: string[], signal: AbortSignal): Promise<Tick[]> {
    const key = batchKey(batch);
    const breaker = this.breakers.get(key) ?? { consecutiveFailures: 0, openUntil: 0 };
    this.breakers.set(key, breaker);
    const now = this.clock.now();
    if (breaker.openUntil > now) {
      this.metrics.inc('yahoo.breaker_skipped');
      this.log.debug('batch skipped, circuit open', { batch: key, openForMs: breaker.openUntil - now });
      return [];
    }
    // Half-open after the cooldown: a single probe, no retries.
    const halfOpen = breaker.openUntil > 0;
    try {
      const raw = await this.fetchQuotes(batch, signal, halfOpen ? 0 : this.maxRetries);
      if (breaker.consecutiveFailures > 0 || halfOpen) this.log.info('batch recovered', { batch: key });
      breaker.consecutiveFailures = 0;
      breaker.openUntil = 0;
      return this.toTicks(batch, raw);
    } catch (err) {
      if (signal.aborted) return [];
      breaker.consecutiveFailures += 1;
      this.metrics.inc('yahoo.batch_failures');
      const fields = { batch: key, symbols: batch.length, consecutiveFailures: breaker.consecutiveFailures, ...errorForLog(err) };
      if (halfOpen || breaker.consecutiveFailures >= this.breakerThreshold) {
        breaker.openUntil = this.clock.now() + this.breakerCooldownMs;
        this.metrics.inc('yahoo.breaker_opened');
        this.log.error('batch failed, circuit opened', { ...fields, cooldownMs: this.breakerCooldownMs });
      } else {
        this.log.error('batch failed', fields);
      }
      return [];
    }
  }

  private async fetchQuotes(batch: string[], signal: AbortSignal, maxRetries: number): Promise<unknown[]> {
    let ownGate = -1;
    for (let attempt = 0; ; attempt++) {
      // A 429 is about us, not about one batch: every batch holds back until
      // the backoff of the batch that was told off has passed (that batch
      // itself has just slept it).
      const gate = this.rateLimitedUntil - this.clock.now();
      if (gate > 0 && this.rateLimitedUntil !== ownGate) {
        this.metrics.inc('yahoo.rate_limit_waits');
        await this.clock.sleep(gate, signal);
        if (signal.aborted) throw new Error('aborted');
      }
      const generation = this.crumbGeneration;
      const started = this.clock.now();
      try {
        this.metrics.inc('yahoo.requests');
        const raw: unknown = await this.yf.quote(batch, { return: 'array' }, { validateResult: false });
        this.metrics.observe('yahoo.request_ms', this.clock.now() - started);
        if (!Array.isArray(raw)) throw new YahooMalformedResponseError('quote result is not an array', { url: 'quote' });
        return raw as unknown[];
      } catch (err) {
        if (signal.aborted) throw err;
        const e = this.translate(err);
        if (e instanceof YahooCrumbError) await this.resetCrumb(generation);
        if (!e.retryable || attempt >= maxRetries) throw e;
        const delay = Math.min(
          this.backoff.maxMs,
          Math.max(backoffDelay(attempt, this.backoff, this.random), e instanceof YahooHttpError ? (e.retryAfterMs ?? 0) : 0),
        );
        this.metrics.inc('yahoo.retries');
        if (e instanceof YahooHttpError && e.details.status === 429 && this.clock.now() + delay > this.rateLimitedUntil) {
          this.rateLimitedUntil = this.clock.now() + delay;
          ownGate = this.rateLimitedUntil;
        }
        this.log.warn('quote request failed, retrying', { batch: batchKey(batch), attempt: attempt + 1, delayMs: delay, ...e.toLog() });
        await this.clock.sleep(delay, signal);
        if (signal.aborted) throw e;
      }
    }
  }

  /** Only clear once per crumb generation when several batches fail together. */
  private async resetCrumb(generation: number): Promise<void> {
    if (generation !== this.crumbGeneration) return this.crumbReset;
    this.crumbGeneration += 1;
    this.metrics.inc('yahoo.crumb_resets');
    this.log.warn('resetting Yahoo cookie and crumb');
    this.crumbReset = getCrumbClear(this.jar);
    return this.crumbReset;
  }

  private translate(err: unknown): YahooError {
    if (err instanceof YahooError) return err;
    const message = err instanceof Error ? err.message : String(err);
    // The library's own failures in the consent/cookie/crumb dance are plain
    // Errors ("No set-cookie header present…", "Could not find crumb…").
    if (/crumb|cookie|consent/i.test(message)) {
      return new YahooCrumbError('Yahoo cookie/crumb handshake failed', { url: 'handshake', bodyExcerpt: excerpt(message) }, { cause: err });
    }
    return new YahooMalformedResponseError('Yahoo request failed', { url: 'quote', bodyExcerpt: excerpt(message) }, { cause: err });
  }

  private toTicks(requested: string[], raw: unknown[]): Tick[] {
    const producedAt = this.clock.now();
    const ticks: Tick[] = [];
    const returned = new Set<string>();
    for (const entry of raw) {
      const parsed = YahooQuoteSchema.safeParse(entry);
      if (!parsed.success) {
        this.drop(entry, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
        continue;
      }
      const q = parsed.data;
      returned.add(q.symbol);
      const ts = typeof q.regularMarketTime === 'number' ? q.regularMarketTime * 1000 : q.regularMarketTime.getTime();
      const last = this.lastSeen.get(q.symbol);
      if (last !== undefined && ts <= last.ts) {
        this.metrics.inc('yahoo.unchanged');
        continue;
      }
      const volume = this.tickVolume(q.regularMarketVolume, last?.cumVolume);
      const marketState = mapMarketState(q.marketState);
      if (q.marketState !== undefined && marketState === undefined) this.metrics.inc('yahoo.unknown_market_state');
      const tick = TickSchema.safeParse({
        v: TICK_SCHEMA_VERSION,
        symbol: q.symbol,
        ts,
        price: q.regularMarketPrice,
        volume,
        previousClose: q.regularMarketPreviousClose,
        source: 'yahoo',
        producedAt,
        ...(marketState === undefined ? {} : { marketState }),
      });
      if (!tick.success) {
        this.drop(entry, tick.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
        continue;
      }
      this.lastSeen.set(q.symbol, { ts, cumVolume: q.regularMarketVolume });
      ticks.push(tick.data);
    }
    const missing = requested.filter((s) => !returned.has(s));
    if (missing.length > 0) {
      this.metrics.inc('yahoo.missing_symbols', missing.length);
      this.log.debug('symbols not returned by Yahoo', { missing: missing.slice(0, 20), count: missing.length });
    }
    return ticks;
  }

  private tickVolume(cumulative: number | undefined, previous: number | undefined): number {
    if (cumulative === undefined) return 0;
    if (this.volumeMode === 'cumulative') return cumulative;
    if (previous === undefined) return 0;
    // A smaller cumulative volume means a new session started.
    return cumulative >= previous ? cumulative - previous : cumulative;
  }

  private drop(entry: unknown, reason: string): void {
    this.metrics.inc('yahoo.dropped');
    const symbol = typeof entry === 'object' && entry !== null && 'symbol' in entry ? String(entry.symbol) : undefined;
    if (this.metrics.refuse(reason) <= REFUSALS_LOGGED_PER_REASON) this.log.warn('quote refused', { symbol, reason });
  }

  private pruneBreakers(batches: string[][]): void {
    const keys = new Set(batches.map(batchKey));
    for (const key of this.breakers.keys()) if (!keys.has(key)) this.breakers.delete(key);
  }

  /**
   * The fetch handed to yahoo-finance2: refuses non-Yahoo hosts, applies the
   * timeout, and turns HTTP failures into typed errors with secrets removed.
   */
  private async guardedFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    if (url.protocol !== 'https:' || !/(^|\.)yahoo\.com$/.test(url.hostname)) throw new UnexpectedHostError(url.host);
    const kind = classifyUrl(url);
    const details: SafeHttpDetails = { url: safeUrl(url) };
    const timeout = AbortSignal.timeout(this.requestTimeoutMs);
    const signal = this.stopSignal === undefined ? timeout : AbortSignal.any([timeout, this.stopSignal]);
    let res: Response;
    let text: string | undefined;
    try {
      res = await this.fetchImpl(input, { ...init, signal });
      // Read the quote body inside the timeout too: a stalled body is a timeout.
      if (kind === 'quote' || !res.ok) text = await res.text();
    } catch (err) {
      if (this.stopSignal?.aborted === true) throw err;
      throw new YahooTimeoutError(details, { cause: err });
    }
    const status = res.status;
    const withBody = { ...details, status, ...(text === undefined ? {} : { bodyExcerpt: excerpt(text) }) };
    if (status === 429 || status >= 500) {
      const after = retryAfterMs(res.headers.get('retry-after'));
      throw new YahooHttpError(withBody, after === undefined ? undefined : { retryAfterMs: after });
    }
    if (kind === 'crumb') {
      if (status !== 200) throw new YahooCrumbError(`crumb request answered HTTP ${status}`, withBody);
      return res;
    }
    if (kind === 'cookie') {
      // 3xx (consent redirect) and even 404 with Set-Cookie are normal here;
      // the library decides whether it got a cookie. Body already consumed
      // only when !ok, so rebuild it for the library in that case.
      return text === undefined ? res : new Response(text, { status, statusText: res.statusText, headers: res.headers });
    }
    if (status === 401 || status === 403) throw new YahooCrumbError(`Yahoo rejected the crumb (HTTP ${status})`, withBody);
    if (!res.ok) throw new YahooHttpError(withBody);
    let json: unknown;
    try {
      json = JSON.parse(text ?? '');
    } catch (err) {
      throw new YahooMalformedResponseError('quote body is not JSON', withBody, { cause: err });
    }
    const envelope = QuoteEnvelopeSchema.safeParse(json);
    if (!envelope.success) throw new YahooMalformedResponseError('quote body has no quoteResponse.result array', withBody);
    if (envelope.data.quoteResponse.error !== null && envelope.data.quoteResponse.error !== undefined) {
      throw new YahooMalformedResponseError('quote body carries an error', { ...withBody, bodyExcerpt: excerpt(JSON.stringify(envelope.data.quoteResponse.error)) });
    }
    return new Response(text, { status, statusText: res.statusText, headers: res.headers });
  }
}

function batchKey(batch: readonly string[]): string {
  return `${batch[0] ?? ''}+${batch.length}`;
}

/** Run `fn` over `items` with at most `limit` in flight, keeping order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
