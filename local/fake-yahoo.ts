/**
 * A fake Yahoo Finance speaking the real wire format, for an injected `fetch`:
 * Yahoo is out of reach locally, so the Yahoo source's tests and
 * `npm run bench:producer` talk to this stand-in instead.
 *
 * It serves the three URLs yahoo-finance2 3.15 calls: the cookie page
 * (https://finance.yahoo.com/quote/AAPL, answered with Set-Cookie), the crumb
 * endpoint (https://query1.finance.yahoo.com/v1/test/getcrumb, plain text) and
 * the quote endpoint (https://query{1,2}.finance.yahoo.com/v7/finance/quote,
 * `{"quoteResponse":{"result":[…],"error":null}}`), and enforces the
 * handshake: a quote without the cookie or with a stale crumb gets Yahoo's
 * 401 "Invalid Crumb". Any other URL is recorded as a violation and rejected,
 * so a test can prove nothing else was contacted.
 */
export type RequestKind = 'cookie' | 'crumb' | 'quote';

export interface RecordedRequest {
  kind: RequestKind;
  url: URL;
  symbols: string[];
}

export interface FakeQuote {
  price: number;
  /** epoch seconds, as Yahoo sends it */
  time: number;
  volume: number;
  previousClose: number;
  marketState: string;
}

type Override = (req: RecordedRequest) => Response | Promise<Response>;

const COOKIE_URL = 'https://finance.yahoo.com/quote/AAPL';
const CRUMB_URL = 'https://query1.finance.yahoo.com/v1/test/getcrumb';

/** One quote entry shaped like Yahoo's v7 response (a representative subset). */
export function yahooQuoteJson(symbol: string, q: FakeQuote): Record<string, unknown> {
  return {
    language: 'en-US',
    region: 'US',
    quoteType: 'EQUITY',
    typeDisp: 'Equity',
    quoteSourceName: 'Nasdaq Real Time Price',
    triggerable: true,
    customPriceAlertConfidence: 'HIGH',
    currency: 'USD',
    marketState: q.marketState,
    regularMarketChangePercent: ((q.price - q.previousClose) / q.previousClose) * 100,
    regularMarketPrice: q.price,
    exchange: 'NMS',
    shortName: `${symbol} Inc.`,
    longName: `${symbol} Incorporated`,
    messageBoardId: `finmb_${symbol}`,
    exchangeTimezoneName: 'America/New_York',
    exchangeTimezoneShortName: 'EST',
    gmtOffSetMilliseconds: -18000000,
    market: 'us_market',
    esgPopulated: false,
    regularMarketChange: q.price - q.previousClose,
    regularMarketTime: q.time,
    regularMarketDayHigh: q.price * 1.01,
    regularMarketDayRange: `${q.price * 0.99} - ${q.price * 1.01}`,
    regularMarketDayLow: q.price * 0.99,
    regularMarketVolume: q.volume,
    regularMarketPreviousClose: q.previousClose,
    bid: q.price - 0.01,
    ask: q.price + 0.01,
    fullExchangeName: 'NasdaqGS',
    financialCurrency: 'USD',
    regularMarketOpen: q.previousClose,
    sourceInterval: 15,
    exchangeDataDelayedBy: 0,
    tradeable: false,
    cryptoTradeable: false,
    hasPrePostMarketData: true,
    firstTradeDateMilliseconds: 345479400000,
    priceHint: 2,
    symbol,
  };
}

export class FakeYahoo {
  readonly requests: RecordedRequest[] = [];
  readonly violations: string[] = [];
  readonly quotes = new Map<string, FakeQuote>();
  /** Rotating it makes every crumb issued before invalid (server-side expiry). */
  crumb = 'Zq8xK2.fakeCrumb';
  readonly cookieValue = 'd=AQABBFakeCookieValue&S=AQAAAsecret';
  private readonly overrides: Record<RequestKind, Override[]> = { cookie: [], crumb: [], quote: [] };

  constructor(symbols: readonly string[] = [], baseTime = 1_764_000_000) {
    symbols.forEach((s, i) => {
      this.quotes.set(s, { price: 100 + i, time: baseTime, volume: 1_000 + i, previousClose: 99 + i, marketState: 'REGULAR' });
    });
  }

  /** The next request of that kind gets this response instead. */
  enqueue(kind: RequestKind, response: Override): void {
    this.overrides[kind].push(response);
  }

  /** Move every listed symbol's regularMarketTime forward. */
  advance(symbols: Iterable<string>, seconds = 30): void {
    for (const s of symbols) {
      const q = this.quotes.get(s);
      if (q !== undefined) {
        q.time += seconds;
        q.price += 0.25;
        q.volume += 500;
      }
    }
  }

  count(kind: RequestKind): number {
    return this.requests.filter((r) => r.kind === kind).length;
  }

  readonly fetch: typeof fetch = async (input, init) => {
    const href = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const url = new URL(href);
    const kind = this.kindOf(url);
    if (kind === undefined) {
      this.violations.push(href);
      throw new TypeError(`fake Yahoo: unexpected request to ${href}`);
    }
    const symbols = kind === 'quote' ? (url.searchParams.get('symbols') ?? '').split(',').filter(Boolean) : [];
    const req: RecordedRequest = { kind, url, symbols };
    this.requests.push(req);
    // Honour aborts like a real fetch would.
    if (init?.signal?.aborted === true) throw new DOMException('aborted', 'AbortError');
    const override = this.overrides[kind].shift();
    if (override !== undefined) return override(req);
    const cookie = new Headers(init?.headers).get('cookie') ?? '';
    switch (kind) {
      case 'cookie':
        return sameRealmSetCookie(
          new Response('<!doctype html><html><body>Yahoo Finance</body></html>', {
            status: 200,
            headers: [
              ['content-type', 'text/html; charset=utf-8'],
              ['set-cookie', `A3=${this.cookieValue}; Expires=Thu, 26 Nov 2099 00:00:00 GMT; Max-Age=31557600; Domain=.yahoo.com; Path=/; SameSite=None; Secure; HttpOnly`],
            ],
          }),
        );
      case 'crumb':
        if (!cookie.includes(`A3=${this.cookieValue}`)) return new Response('Unauthorized', { status: 401 });
        return new Response(this.crumb, { status: 200, headers: { 'content-type': 'text/plain;charset=utf-8' } });
      case 'quote': {
        if (url.searchParams.get('crumb') !== this.crumb || !cookie.includes(`A3=${this.cookieValue}`)) {
          return jsonResponse(401, { finance: { result: null, error: { code: 'Unauthorized', description: 'Invalid Crumb' } } });
        }
        return this.quoteResponse(symbols);
      }
    }
  };

  quoteResponse(symbols: readonly string[]): Response {
    const result = symbols.flatMap((s) => {
      const q = this.quotes.get(s);
      return q === undefined ? [] : [yahooQuoteJson(s, q)];
    });
    return jsonResponse(200, { quoteResponse: { result, error: null } });
  }

  private kindOf(url: URL): RequestKind | undefined {
    const plain = `${url.protocol}//${url.host}${url.pathname}`;
    if (plain === COOKIE_URL) return 'cookie';
    if (plain === CRUMB_URL) return 'crumb';
    if (/^https:\/\/query[12]\.finance\.yahoo\.com\/v7\/finance\/quote$/.test(plain)) return 'quote';
    return undefined;
  }
}

/**
 * Jest runs tests in a vm context, while Node's fetch classes live in the main
 * realm: `headers.getSetCookie()` returns a main-realm Array, and
 * yahoo-finance2's `value instanceof Array` check is false for it inside
 * Jest, so it would silently ignore the cookie. Outside Jest (production, the
 * bench) this does not arise; here we re-create the array in the test realm.
 */
function sameRealmSetCookie(res: Response): Response {
  const headers = res.headers;
  const original = headers.getSetCookie.bind(headers);
  Object.defineProperty(headers, 'getSetCookie', { value: () => [...original()] });
  return res;
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json;charset=utf-8', ...headers } });
}

export function symbolUniverse(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `S${String(i).padStart(4, '0')}`);
}
