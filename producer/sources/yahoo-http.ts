import YahooFinance from 'yahoo-finance2';
import { ExtendedCookieJar } from 'yahoo-finance2/lib/cookieJar';
import { getCrumbClear } from 'yahoo-finance2/lib/getCrumb';
import { z } from 'zod';
import type { Logger } from '../../shared/logger';
import {
  UnexpectedHostError,
  YahooCrumbError,
  YahooError,
  YahooHttpError,
  YahooMalformedResponseError,
  YahooTimeoutError,
  redactSecrets,
  type SafeHttpDetails,
} from '../errors';
import type { ProducerMetrics } from '../metrics';

/**
 * The HTTP edge of the Yahoo source: one yahoo-finance2 client over an
 * injected `fetch`, and nothing else. No retries, no mapping, no polling:
 * one call is one attempt, and every failure comes out as a typed YahooError
 * with secrets removed (resilience lives in yahoo-resilience.ts).
 *
 * The library is used for what it is good at (cookie/consent/crumb dance,
 * URL building); HTTP status handling happens in our `fetch` wrapper, because
 * the library prints the full URL (crumb included) with console.error on any
 * non-2xx and throws untyped errors. Throwing typed errors from inside fetch
 * means that code path never runs.
 */
export interface YahooHttpOptions {
  readonly logger: Logger;
  readonly metrics: ProducerMetrics;
  readonly requestTimeoutMs: number;
  /** Quote requests the caller keeps in flight at once. */
  readonly concurrency: number;
  /** Injected for tests and the bench; defaults to globalThis.fetch. */
  readonly fetch?: typeof fetch;
  /** Query host for quotes; the library's default is query2. */
  readonly queryHost?: string;
}

/** The envelope of `/v7/finance/quote`, checked at the HTTP edge. */
const QuoteEnvelopeSchema = z.object({
  quoteResponse: z.object({
    result: z.array(z.unknown()),
    error: z.unknown().nullable().optional(),
  }),
});

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

export class YahooHttpClient {
  private readonly log: Logger;
  private readonly metrics: ProducerMetrics;
  private readonly requestTimeoutMs: number;
  private readonly fetchImpl: typeof fetch;
  private readonly jar = new ExtendedCookieJar();
  private readonly yf: InstanceType<typeof YahooFinance>;
  private generation = 0;
  private crumbReset: Promise<void> | undefined;
  /** Set by the source for each poll: aborting it ends requests in flight. */
  stopSignal: AbortSignal | undefined;

  constructor(opts: YahooHttpOptions) {
    this.log = opts.logger;
    this.metrics = opts.metrics;
    this.requestTimeoutMs = opts.requestTimeoutMs;
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
      queue: { concurrency: opts.concurrency + 1 },
      validation: { logErrors: false, logOptionsErrors: false },
      ...(opts.queryHost === undefined ? {} : { YF_QUERY_HOST: opts.queryHost }),
    });
    // yahoo-finance2 keeps the crumb (and a resolved crumb promise that only
    // getCrumbClear resets) in module scope, shared by every client in the
    // process. A new source must not inherit another one's crumb: clear it.
    // The module state is reset synchronously; only the jar clearing awaits.
    getCrumbClear(this.jar).catch(() => undefined);
  }

  /** Bumped by each crumb reset; read it before a request to pass to resetCrumb. */
  get crumbGeneration(): number {
    return this.generation;
  }

  /** One quote request for `batch`: the raw entries of `quoteResponse.result`. */
  async quote(batch: readonly string[]): Promise<unknown[]> {
    const raw: unknown = await this.yf.quote([...batch], { return: 'array' }, { validateResult: false });
    if (!Array.isArray(raw)) throw new YahooMalformedResponseError('quote result is not an array', { url: 'quote' });
    return raw as unknown[];
  }

  /** Only clear once per crumb generation when several batches fail together. */
  async resetCrumb(generation: number): Promise<void> {
    if (generation !== this.generation) return this.crumbReset;
    this.generation += 1;
    this.metrics.inc('yahoo.crumb_resets');
    this.log.warn('resetting Yahoo cookie and crumb');
    this.crumbReset = getCrumbClear(this.jar);
    return this.crumbReset;
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

/** Any failure of a request as a YahooError (the library's own are untyped). */
export function translateYahooError(err: unknown): YahooError {
  if (err instanceof YahooError) return err;
  const message = err instanceof Error ? err.message : String(err);
  // The library's own failures in the consent/cookie/crumb dance are plain
  // Errors ("No set-cookie header present…", "Could not find crumb…").
  if (/crumb|cookie|consent/i.test(message)) {
    return new YahooCrumbError('Yahoo cookie/crumb handshake failed', { url: 'handshake', bodyExcerpt: excerpt(message) }, { cause: err });
  }
  return new YahooMalformedResponseError('Yahoo request failed', { url: 'quote', bodyExcerpt: excerpt(message) }, { cause: err });
}
