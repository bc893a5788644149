import { YahooSource, type YahooSourceOptions } from '../../../producer/sources/yahoo';
import type { Tick } from '../../../shared/tick';
import { FakeYahoo, jsonResponse, symbolUniverse, yahooQuoteJson } from '../../../local/fake-yahoo';
import { FakeClock, captureLogs, flushLogs, type CapturedLogs } from './helpers';

interface Harness {
  yahoo: FakeYahoo;
  source: YahooSource;
  clock: FakeClock;
  logs: CapturedLogs;
  signal: AbortSignal;
}

function harness(n: number, opts: Partial<YahooSourceOptions> = {}): Harness {
  const symbols = symbolUniverse(n);
  const yahoo = new FakeYahoo(symbols);
  const clock = new FakeClock();
  const logs = captureLogs();
  const source = new YahooSource({
    symbols,
    logger: logs.logger,
    fetch: yahoo.fetch,
    clock,
    random: () => 0.5,
    backoff: { baseMs: 1_000, maxMs: 30_000 },
    ...opts,
  });
  return { yahoo, source, clock, logs, signal: new AbortController().signal };
}

function keys(ticks: readonly Tick[]): string[] {
  return ticks.map((t) => `${t.symbol}@${t.ts}`);
}

const consoleSpies: jest.SpyInstance[] = [];
beforeEach(() => {
  for (const m of ['log', 'error', 'warn', 'info', 'debug', 'dir'] as const) {
    consoleSpies.push(jest.spyOn(console, m).mockImplementation(() => undefined).mockName(`console.${m}`));
  }
});
afterEach(() => {
  // yahoo-finance2 prints URLs (with the crumb) through console on failures;
  // nothing may reach the console, only our JSON logger.
  const used = consoleSpies.filter((s) => s.mock.calls.length > 0).map((s) => s.getMockName());
  consoleSpies.splice(0).forEach((s) => s.mockRestore());
  if (used.length > 0) throw new Error(`console was written to: ${used.join(', ')}`);
});

describe('YahooSource', () => {
  it('polls a 250-symbol universe with exactly 3 quote requests per poll, handshaking once', async () => {
    const h = harness(250);
    const first = await h.source.poll(h.signal);
    expect(h.yahoo.count('quote')).toBe(3);
    expect(h.yahoo.requests.filter((r) => r.kind === 'quote').map((r) => r.symbols.length)).toEqual([100, 100, 50]);
    expect(h.yahoo.count('cookie')).toBe(1);
    expect(h.yahoo.count('crumb')).toBe(1);
    expect(first).toHaveLength(250);
    expect(new Set(first.map((t) => t.symbol)).size).toBe(250);

    h.yahoo.advance(symbolUniverse(250));
    const second = await h.source.poll(h.signal);
    expect(h.yahoo.count('quote')).toBe(6);
    expect(h.yahoo.count('crumb')).toBe(1);
    expect(second).toHaveLength(250);
    expect(h.yahoo.violations).toEqual([]);
  });

  it('maps a Yahoo quote to a valid tick (ms timestamps, market state, interval volume)', async () => {
    const h = harness(1);
    const [t1] = await h.source.poll(h.signal);
    expect(t1).toEqual({
      v: 2,
      symbol: 'S0000',
      ts: 1_764_000_000_000,
      price: 100,
      volume: 0,
      previousClose: 99,
      source: 'yahoo',
      producedAt: h.clock.now(),
      marketState: 'REGULAR',
      tz: 'America/New_York',
    });
    h.yahoo.advance(['S0000']);
    const q = h.yahoo.quotes.get('S0000');
    if (q) q.marketState = 'POSTPOST';
    const [t2] = await h.source.poll(h.signal);
    expect(t2?.volume).toBe(500);
    expect(t2?.marketState).toBe('POST');
  });

  it('backs off on 429 and then succeeds, without duplicate ticks', async () => {
    const h = harness(250);
    h.yahoo.enqueue('quote', () => new Response('Edge: Too Many Requests', { status: 429, headers: { 'content-type': 'text/html' } }));
    const ticks = await h.source.poll(h.signal);

    expect(h.yahoo.count('quote')).toBe(4);
    expect(ticks).toHaveLength(250);
    expect(new Set(keys(ticks)).size).toBe(250);
    // random()=0.5 → base + 0.5 * (min(max, base*2^0) - base) = 1000 ms
    expect(h.clock.sleeps).toEqual([1_000]);
    expect(h.source.metrics.get('yahoo.retries')).toBe(1);
    await flushLogs();
    const retry = h.logs.lines().find((l) => l.message === 'quote request failed, retrying');
    expect(retry).toMatchObject({ level: 'warn', status: 429, error: 'YahooHttpError', delayMs: 1_000 });
    expect(String(retry?.url)).not.toContain('crumb');

    const again = await h.source.poll(h.signal);
    expect(again).toEqual([]);
  });

  it('holds every batch back after a 429, not only the one that got it', async () => {
    // Time stands still while sleeping, so a batch that starts during another
    // batch's backoff sees the remaining wait.
    const frozen = new FakeClock();
    frozen.sleep = (ms: number) => {
      frozen.sleeps.push(ms);
      return new Promise<void>((r) => setImmediate(r));
    };
    const h = harness(400, { clock: frozen, concurrency: 2 });
    h.yahoo.enqueue('quote', () => new Response('', { status: 429, headers: { 'retry-after': '20' } }));
    expect(await h.source.poll(h.signal)).toHaveLength(400);
    // the told-off batch backs off 20 s; the two batches started after it wait too
    expect(frozen.sleeps.filter((ms) => ms >= 19_000)).toHaveLength(3);
    expect(h.source.metrics.get('yahoo.rate_limit_waits')).toBe(2);
  });

  it('honours Retry-After on 429 when it is longer than the backoff', async () => {
    const h = harness(10);
    h.yahoo.enqueue('quote', () => new Response('', { status: 429, headers: { 'retry-after': '7' } }));
    const ticks = await h.source.poll(h.signal);
    expect(ticks).toHaveLength(10);
    expect(h.clock.sleeps).toEqual([7_000]);
  });

  it('retries 5xx and network timeouts with growing backoff', async () => {
    const h = harness(5);
    h.yahoo.enqueue('quote', () => new Response('upstream', { status: 502 }));
    h.yahoo.enqueue('quote', () => Promise.reject(new DOMException('The operation was aborted due to timeout', 'TimeoutError')));
    const ticks = await h.source.poll(h.signal);
    expect(ticks).toHaveLength(5);

    expect(h.clock.sleeps).toEqual([1_000, 1_500]);
    await flushLogs();
    expect(h.logs.lines().filter((l) => l.message === 'quote request failed, retrying').map((l) => l.error)).toEqual([
      'YahooHttpError',
      'YahooTimeoutError',
    ]);
  });

  it('recovers from a crumb endpoint failure by redoing the cookie and crumb handshake', async () => {
    const h = harness(20);
    h.yahoo.enqueue('crumb', () => new Response('Unauthorized', { status: 401 }));
    const ticks = await h.source.poll(h.signal);
    expect(ticks).toHaveLength(20);
    expect(h.yahoo.count('crumb')).toBe(2);
    expect(h.yahoo.count('cookie')).toBe(2);
    expect(h.source.metrics.get('yahoo.crumb_resets')).toBe(1);
  });

  it('recovers when Yahoo invalidates the crumb between polls (401 Invalid Crumb)', async () => {
    const h = harness(150);
    expect(await h.source.poll(h.signal)).toHaveLength(150);
    h.yahoo.crumb = 'Rotated.crumb9';
    h.yahoo.advance(symbolUniverse(150));
    const ticks = await h.source.poll(h.signal);
    expect(ticks).toHaveLength(150);
    expect(new Set(keys(ticks)).size).toBe(150);
    // Two batches fail together; the jar is cleared once, not twice.
    expect(h.source.metrics.get('yahoo.crumb_resets')).toBe(1);
    const quotes = h.yahoo.requests.filter((r) => r.kind === 'quote');
    expect(quotes.slice(-2).every((r) => r.url.searchParams.get('crumb') === 'Rotated.crumb9')).toBe(true);
  });

  it('logs a malformed body as an error, does not crash, and the next poll works', async () => {
    const h = harness(250);
    h.yahoo.enqueue('quote', () => new Response('<!doctype html><html>Will be right back…</html>', { status: 200, headers: { 'content-type': 'text/html' } }));
    const first = await h.source.poll(h.signal);
    // the malformed batch is lost for this poll only; the other two carry on
    expect(first).toHaveLength(150);
    await flushLogs();
    const err = h.logs.lines().find((l) => l.level === 'error');
    expect(err).toMatchObject({ message: 'batch failed', error: 'YahooMalformedResponseError', status: 200, symbols: 100 });
    expect(String(err?.bodyExcerpt)).toContain('Will be right back');

    const second = await h.source.poll(h.signal);
    expect(second).toHaveLength(100);
    expect(new Set([...first, ...second].map((t) => t.symbol)).size).toBe(250);
  });

  it('treats a JSON body without quoteResponse.result as malformed', async () => {
    const h = harness(3);
    h.yahoo.enqueue('quote', () => jsonResponse(200, { finance: { result: [] } }));
    expect(await h.source.poll(h.signal)).toEqual([]);
    expect(await h.source.poll(h.signal)).toHaveLength(3);
  });

  it('does not re-send a quote whose regularMarketTime has not changed', async () => {
    const h = harness(10);
    expect(await h.source.poll(h.signal)).toHaveLength(10);
    expect(await h.source.poll(h.signal)).toEqual([]);
    h.yahoo.advance(['S0003', 'S0007']);
    const third = await h.source.poll(h.signal);
    expect(third.map((t) => t.symbol)).toEqual(['S0003', 'S0007']);
    expect(h.source.metrics.get('yahoo.unchanged')).toBe(18);
  });

  it('drops invalid quote entries with a reason and counts them', async () => {
    const h = harness(0, { symbols: ['AAPL', 'MSFT', 'BAD'] });
    const good = { price: 190, time: 1_764_000_000, volume: 10, previousClose: 189, marketState: 'REGULAR' };
    h.yahoo.enqueue('quote', () =>
      jsonResponse(200, {
        quoteResponse: {
          result: [
            yahooQuoteJson('AAPL', good),
            { ...yahooQuoteJson('MSFT', good), regularMarketPrice: null },
            yahooQuoteJson('bad symbol', good),
          ],
          error: null,
        },
      }),
    );
    const ticks = await h.source.poll(h.signal);
    expect(ticks.map((t) => t.symbol)).toEqual(['AAPL']);
    expect(h.source.metrics.get('yahoo.dropped')).toBe(2);
    expect(h.source.metrics.refusals().total).toBe(2);
    await flushLogs();
    const dropped = h.logs.lines().filter((l) => l.message === 'quote refused');
    expect(dropped.map((l) => l.symbol)).toEqual(['MSFT', 'bad symbol']);
    expect(dropped.every((l) => typeof l.reason === 'string' && l.reason.length > 0)).toBe(true);
  });

  it('opens a per-batch circuit after repeated failures while other batches carry on', async () => {
    const h = harness(200, { maxRetries: 1, breakerThreshold: 2, breakerCooldownMs: 60_000 });
    // Only the batch starting at S0000 fails, every time.
    const failing = (): void => {
      h.yahoo.enqueue('quote', (req) => (req.symbols[0] === 'S0000' ? new Response('', { status: 503 }) : h.yahoo.quoteResponse(req.symbols)));
    };
    for (let i = 0; i < 3; i++) failing(); // 2 attempts of the failing batch + 1 of the other
    expect(await h.source.poll(h.signal)).toHaveLength(100);
    h.yahoo.advance(symbolUniverse(200));
    for (let i = 0; i < 3; i++) failing(); // 2 attempts of the failing batch + 1 of the other
    expect(await h.source.poll(h.signal)).toHaveLength(100);
    expect(h.source.metrics.get('yahoo.breaker_opened')).toBe(1);

    h.yahoo.advance(symbolUniverse(200));
    const before = h.yahoo.count('quote');
    expect(await h.source.poll(h.signal)).toHaveLength(100);
    expect(h.yahoo.count('quote') - before).toBe(1);
    expect(h.source.metrics.get('yahoo.breaker_skipped')).toBe(1);

    h.clock.t += 60_001;
    h.yahoo.advance(symbolUniverse(200));
    expect(await h.source.poll(h.signal)).toHaveLength(200);
    await flushLogs();
    expect(h.logs.lines().some((l) => l.message === 'batch recovered')).toBe(true);
  });

  it('never writes the crumb or cookie into a log line', async () => {
    const h = harness(120);
    h.yahoo.enqueue('quote', () => new Response('', { status: 429 }));
    await h.source.poll(h.signal);
    h.yahoo.crumb = 'Second.crumbX';
    h.yahoo.advance(symbolUniverse(120));
    await h.source.poll(h.signal);
    await flushLogs();
    const raw = h.logs.raw();
    expect(raw.length).toBeGreaterThan(0);
    for (const secret of ['Zq8xK2.fakeCrumb', 'Second.crumbX', h.yahoo.cookieValue, 'AQABBFake']) expect(raw).not.toContain(secret);
  });

  it('yields per poll from ticks() and waits for the rest of the interval', async () => {
    const h = harness(5, { pollIntervalMs: 30_000 });
    const ac = new AbortController();
    const seen: number[] = [];
    for await (const batch of h.source.ticks(ac.signal)) {
      seen.push(batch.length);
      h.yahoo.advance(symbolUniverse(5));
      if (seen.length === 3) ac.abort();
    }
    expect(seen).toEqual([5, 5, 5]);
    expect(h.clock.sleeps).toEqual([30_000, 30_000, 30_000]);
  });

  it('keeps at most `concurrency` quote requests in flight', async () => {
    const h = harness(1_000, { concurrency: 2 });
    let inFlight = 0;
    let peak = 0;
    const inner = h.yahoo.fetch;
    const slowed: typeof fetch = async (input, init) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      try {
        await new Promise((r) => setTimeout(r, 2));
        return await inner(input, init);
      } finally {
        inFlight--;
      }
    };
    const source = new YahooSource({ symbols: symbolUniverse(1_000), logger: h.logs.logger, fetch: slowed, clock: h.clock, concurrency: 2 });
    expect(await source.poll(h.signal)).toHaveLength(1_000);
    expect(h.yahoo.count('quote')).toBe(10);
    expect(peak).toBeLessThanOrEqual(2);
  });

  it('times out a hung request and retries it', async () => {
    const h = harness(3, { requestTimeoutMs: 50 });
    // The first quote request never answers; only the abort signal ends it.
    h.yahoo.enqueue('quote', () => new Promise<Response>(() => undefined));
    const inner = h.yahoo.fetch;
    const abortable: typeof fetch = (input, init) =>
      new Promise<Response>((resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason as Error), { once: true });
        inner(input, init).then(resolve, reject);
      });
    const source = new YahooSource({ symbols: symbolUniverse(3), logger: h.logs.logger, fetch: abortable, clock: h.clock, requestTimeoutMs: 50, random: () => 0 });
    expect(await source.poll(h.signal)).toHaveLength(3);
    expect(source.metrics.get('yahoo.retries')).toBe(1);
    await flushLogs();
    expect(h.logs.lines().find((l) => l.message === 'quote request failed, retrying')).toMatchObject({ error: 'YahooTimeoutError' });
  });

  it('refuses hosts other than Yahoo', async () => {
    const logs = captureLogs();
    const calls: string[] = [];
    const source = new YahooSource({
      symbols: ['AAPL'],
      logger: logs.logger,
      clock: new FakeClock(),
      maxRetries: 0,
      queryHost: 'evil.example.com',
      fetch: (input) => {
        calls.push(input instanceof Request ? input.url : input.toString());
        return Promise.reject(new Error('must not be called'));
      },
    });
    // The cookie page is on finance.yahoo.com and passes; the quote host is refused.
    await source.poll(new AbortController().signal);
    expect(calls.every((c) => new URL(c).hostname.endsWith('yahoo.com'))).toBe(true);
  });
});
