import { z } from 'zod';
import { TICK_BOUNDS, TickSchema, TICK_SCHEMA_VERSION, type MarketState, type Tick } from '../../shared/tick';
import { isTimeZone, tradingDay } from '../../shared/trading-day';

/**
 * Yahoo quote → tick, as pure functions: no I/O, no clock (the caller passes
 * `producedAt`), no state (the caller passes what it remembers of the
 * symbol's previous quote and keeps the memory returned).
 */

/**
 * The subset of a Yahoo v7 quote we rely on. Everything else Yahoo sends is
 * ignored. `regularMarketTime` is epoch seconds on the wire; yahoo-finance2
 * may already have coerced it to a Date, so both are accepted.
 *
 * Only a price and its time are required. Real responses carry a price with
 * `regularMarketPreviousClose: 0` (OTC listings such as AFRAF) or with none
 * (a first trading day, e.g. APS.AX); such a quote still becomes a tick,
 * without a previous close (tick v2). Prices are passed on exactly as sent:
 * London quotes in pence (`currency: "GBp"`, e.g. OCDO.L at 2621.46) stay in
 * pence, since a tick has no currency and a symbol's history must keep one
 * unit.
 */
const YahooQuoteSchema = z.object({
  symbol: z.string().min(1),
  quoteType: z.string().optional(),
  regularMarketPrice: z.number().finite().positive(),
  regularMarketTime: z.union([z.number().int().positive(), z.date()]),
  regularMarketPreviousClose: z.number().optional(),
  regularMarketVolume: z.number().finite().nonnegative().optional(),
  marketState: z.string().optional(),
  exchangeTimezoneName: z.string().optional(),
});

export type YahooQuote = z.infer<typeof YahooQuoteSchema>;

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

/**
 * `interval` (default): tick volume is the volume traded since the previous
 * quote of that symbol, which is what a volume-spike detector and VWAP need
 * (see intervalVolume for the rule); the first quote of a symbol seen by
 * this process carries 0. `cumulative`: Yahoo's number as is.
 */
export type VolumeMode = 'interval' | 'cumulative';

/**
 * Quote types whose `regularMarketVolume` is not a trading day's running
 * total, so no interval volume can be derived from it. These markets trade
 * around the clock:
 * - CRYPTOCURRENCY: the number is a rolling 24-hour volume (it equals
 *   `volume24Hr` in every recorded BTC-USD quote). The difference of two
 *   readings is the volume of the interval minus the volume of the same
 *   interval a day earlier: not a volume, often negative, and clamping it at
 *   0 would only hide half of it. Fed to VWAP or the spike detector it would
 *   weigh prices by yesterday's activity.
 * - CURRENCY: Yahoo reports 0 (every recorded EURUSD=X quote).
 * - FUTURE: a Globex session runs ~23 hours and starts the evening before
 *   its trading day (18:00 New York for GC=F), which the quote does not say;
 *   neither the exchange date nor "the total went down" finds the session
 *   start reliably.
 * Their ticks carry volume 0: VWAP and the volume ratio stay null for them
 * (as for indices), which says "unknown" instead of a made-up number.
 */
const NO_SESSION_VOLUME: ReadonlySet<string> = new Set(['CRYPTOCURRENCY', 'CURRENCY', 'FUTURE']);

/** What the source remembers of the last quote it sent for a symbol. */
export interface QuoteMemory {
  /** `regularMarketTime` in epoch ms */
  readonly ts: number;
  readonly cumVolume: number | undefined;
  /** trading day of `ts` (shared/trading-day.ts) */
  readonly day: number;
}

export type ParsedQuote = { ok: true; quote: YahooQuote } | { ok: false; symbol: string | undefined; reason: string };

export type QuoteMapping =
  | { kind: 'tick'; tick: Tick; memory: QuoteMemory; unknownMarketState: boolean; unknownTimeZone: boolean }
  /** regularMarketTime has not moved since the quote remembered */
  | { kind: 'unchanged' }
  | { kind: 'refused'; reason: string };

function issues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
}

/** One entry of `quoteResponse.result`, checked. */
export function parseQuote(entry: unknown): ParsedQuote {
  const parsed = YahooQuoteSchema.safeParse(entry);
  if (parsed.success) return { ok: true, quote: parsed.data };
  const symbol = typeof entry === 'object' && entry !== null && 'symbol' in entry ? String(entry.symbol) : undefined;
  return { ok: false, symbol, reason: issues(parsed.error) };
}

/** A previous close a change can be computed against: Yahoo sends 0 or nothing when it has none. */
function usablePreviousClose(x: number | undefined): number | undefined {
  return x !== undefined && x >= TICK_BOUNDS.priceMin && x <= TICK_BOUNDS.priceMax ? x : undefined;
}

export function quoteToTick(q: YahooQuote, previous: QuoteMemory | undefined, producedAt: number, volumeMode: VolumeMode = 'interval'): QuoteMapping {
  const ts = typeof q.regularMarketTime === 'number' ? q.regularMarketTime * 1000 : q.regularMarketTime.getTime();
  if (previous !== undefined && ts <= previous.ts) return { kind: 'unchanged' };
  const tz = q.exchangeTimezoneName !== undefined && isTimeZone(q.exchangeTimezoneName) ? q.exchangeTimezoneName : undefined;
  const day = tradingDay(ts, tz);
  const cumVolume = q.quoteType !== undefined && NO_SESSION_VOLUME.has(q.quoteType) ? undefined : q.regularMarketVolume;
  const volume =
    volumeMode === 'cumulative' ? (q.regularMarketVolume ?? 0) : intervalVolume(cumVolume, previous, day);
  const marketState = mapMarketState(q.marketState);
  const previousClose = usablePreviousClose(q.regularMarketPreviousClose);
  const tick = TickSchema.safeParse({
    v: TICK_SCHEMA_VERSION,
    symbol: q.symbol,
    ts,
    price: q.regularMarketPrice,
    volume,
    ...(previousClose === undefined ? {} : { previousClose }),
    source: 'yahoo',
    producedAt,
    ...(marketState === undefined ? {} : { marketState }),
    ...(tz === undefined ? {} : { tz }),
  });
  if (!tick.success) return { kind: 'refused', reason: issues(tick.error) };
  return {
    kind: 'tick',
    tick: tick.data,
    memory: { ts, cumVolume, day },
    unknownMarketState: q.marketState !== undefined && marketState === undefined,
    unknownTimeZone: q.exchangeTimezoneName !== undefined && tz === undefined,
  };
}

/**
 * The volume traded since the previous quote, from Yahoo's running total of
 * the exchange's trading day:
 * - a new trading day (the exchange-local date of `regularMarketTime`
 *   moved): the whole total, all of it traded since the last quote, which
 *   was on an earlier day. Not "the total got smaller", which misses a new
 *   day whose total has already passed yesterday's last reading and then
 *   reports the difference.
 * - the same day: the increase. A total that went down (Yahoo revises it:
 *   two AMZN readings of one minute, 1,135,723 then 1,135,659) is 0, not a
 *   new day's worth.
 * - no total (24-hour markets, funds), or no earlier total today: 0.
 */
function intervalVolume(cumulative: number | undefined, previous: QuoteMemory | undefined, day: number): number {
  if (cumulative === undefined || previous === undefined) return 0;
  if (day !== previous.day) return cumulative;
  if (previous.cumVolume === undefined) return 0;
  return cumulative > previous.cumVolume ? cumulative - previous.cumVolume : 0;
}
