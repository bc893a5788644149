import { z } from 'zod';
import { TickSchema, TICK_SCHEMA_VERSION, type MarketState, type Tick } from '../../shared/tick';

/**
 * Yahoo quote → tick, as pure functions: no I/O, no clock (the caller passes
 * `producedAt`), no state (the caller passes what it remembers of the
 * symbol's previous quote and keeps the memory returned).
 */

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
 * quote of that symbol (Yahoo reports a cumulative session volume), which is
 * what a volume-spike detector needs; the first quote of a symbol seen by
 * this process carries 0. `cumulative`: Yahoo's number as is.
 */
export type VolumeMode = 'interval' | 'cumulative';

/** What the source remembers of the last quote it sent for a symbol. */
export interface QuoteMemory {
  /** `regularMarketTime` in epoch ms */
  readonly ts: number;
  readonly cumVolume: number | undefined;
}

export type ParsedQuote = { ok: true; quote: YahooQuote } | { ok: false; symbol: string | undefined; reason: string };

export type QuoteMapping =
  | { kind: 'tick'; tick: Tick; memory: QuoteMemory; unknownMarketState: boolean }
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

export function quoteToTick(q: YahooQuote, previous: QuoteMemory | undefined, producedAt: number, volumeMode: VolumeMode = 'interval'): QuoteMapping {
  const ts = typeof q.regularMarketTime === 'number' ? q.regularMarketTime * 1000 : q.regularMarketTime.getTime();
  if (previous !== undefined && ts <= previous.ts) return { kind: 'unchanged' };
  const volume = tickVolume(q.regularMarketVolume, previous?.cumVolume, volumeMode);
  const marketState = mapMarketState(q.marketState);
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
  if (!tick.success) return { kind: 'refused', reason: issues(tick.error) };
  return {
    kind: 'tick',
    tick: tick.data,
    memory: { ts, cumVolume: q.regularMarketVolume },
    unknownMarketState: q.marketState !== undefined && marketState === undefined,
  };
}

function tickVolume(cumulative: number | undefined, previous: number | undefined, mode: VolumeMode): number {
  if (cumulative === undefined) return 0;
  if (mode === 'cumulative') return cumulative;
  if (previous === undefined) return 0;
  // A smaller cumulative volume means a new session started.
  return cumulative >= previous ? cumulative - previous : cumulative;
}
