import { z } from 'zod';

/**
 * The Kinesis payload. Versioned so a consumer can reject what it does not
 * understand (dead letter) instead of guessing. `ts` is the quote's own time
 * in epoch milliseconds: it orders ticks per symbol and makes replays
 * idempotent, so it must come from the source, never from the wall clock.
 */
export const TICK_SCHEMA_VERSION = 1 as const;

export const MARKET_STATES = ['PRE', 'REGULAR', 'POST', 'CLOSED'] as const;
export type MarketState = (typeof MARKET_STATES)[number];

export const TICK_SOURCES = ['yahoo', 'replay', 'synthetic'] as const;
export type TickSource = (typeof TICK_SOURCES)[number];

const finitePositive = z.number().finite().positive();

export const TickSchema = z.strictObject({
  v: z.literal(TICK_SCHEMA_VERSION),
  symbol: z.string().regex(/^[A-Z0-9.^=-]{1,20}$/, 'symbol must be 1-20 of A-Z 0-9 . ^ = -'),
  ts: z.number().int().positive(),
  price: finitePositive,
  volume: z.number().finite().nonnegative(),
  previousClose: finitePositive,
  source: z.enum(TICK_SOURCES),
  producedAt: z.number().int().positive(),
  marketState: z.enum(MARKET_STATES).optional(),
});

export type Tick = z.infer<typeof TickSchema>;

/** Kinesis allows 1 MiB per record; a tick is ~200 bytes, so anything near
 *  this is not a tick and is rejected before JSON.parse spends time on it. */
export const MAX_TICK_BYTES = 16 * 1024;

export type DecodeResult = { ok: true; tick: Tick } | { ok: false; reason: string };

/** Decode one record's bytes. Never throws: a bad record is data (a dead
 *  letter with a reason), not an exception that stalls a shard. */
export function decodeTick(bytes: Uint8Array | string): DecodeResult {
  const size = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.byteLength;
  if (size > MAX_TICK_BYTES) return { ok: false, reason: `payload too large: ${size} bytes > ${MAX_TICK_BYTES}` };
  let json: unknown;
  try {
    json = JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (err) {
    return { ok: false, reason: `invalid JSON: ${(err as Error).message}` };
  }
  if (typeof json === 'object' && json !== null && 'v' in json && json.v !== TICK_SCHEMA_VERSION) {
    return { ok: false, reason: `unknown schema version: ${JSON.stringify(json.v)}` };
  }
  const fast = fastValidTick(json);
  if (fast !== undefined) return { ok: true, tick: fast };
  const parsed = TickSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    return { ok: false, reason: `invalid tick: ${issues}` };
  }
  return { ok: true, tick: parsed.data };
}

const SOURCE_SET: ReadonlySet<unknown> = new Set(TICK_SOURCES);
const MARKET_STATE_SET: ReadonlySet<unknown> = new Set(MARKET_STATES);
const REQUIRED_KEYS = 8;

/**
 * A hand-written check that accepts a strict subset of what TickSchema
 * accepts, for the hot path: zod's safeParse costs about as much as the
 * JSON.parse before it, and the consumer decodes every record. Anything it
 * does not accept goes through TickSchema, which stays the single source of
 * truth for what is valid and for the reasons given; a unit test checks the
 * two agree. The parsed object is fresh from JSON.parse and owned by no one,
 * so it is returned as is instead of copied.
 */
function fastValidTick(json: unknown): Tick | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const o = json as Record<string, unknown>;
  const { v, symbol, ts, price, volume, previousClose, source, producedAt, marketState } = o;
  if (v !== TICK_SCHEMA_VERSION) return undefined;
  if (typeof symbol !== 'string' || symbol.length < 1 || symbol.length > 20) return undefined;
  for (let i = 0; i < symbol.length; i++) {
    const c = symbol.charCodeAt(i);
    // A-Z 0-9 . ^ = -, as in the schema's regex
    if (!((c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 46 || c === 94 || c === 61 || c === 45)) return undefined;
  }
  if (typeof ts !== 'number' || !Number.isSafeInteger(ts) || ts <= 0) return undefined;
  if (typeof producedAt !== 'number' || !Number.isSafeInteger(producedAt) || producedAt <= 0) return undefined;
  if (typeof price !== 'number' || !(price > 0 && price < Infinity)) return undefined;
  if (typeof previousClose !== 'number' || !(previousClose > 0 && previousClose < Infinity)) return undefined;
  if (typeof volume !== 'number' || !(volume >= 0 && volume < Infinity)) return undefined;
  if (!SOURCE_SET.has(source)) return undefined;
  if (marketState !== undefined && !MARKET_STATE_SET.has(marketState)) return undefined;
  // Strict object: with every known key present, the key count proves there is no other.
  let keys = 0;
  for (const k in o) if (Object.prototype.hasOwnProperty.call(o, k)) keys++;
  if (keys !== REQUIRED_KEYS + (marketState === undefined ? 0 : 1)) return undefined;
  return o as Tick;
}

/** Encode for PutRecords. Validates too: the producer must never emit what
 *  the consumer would dead-letter. */
export function encodeTick(tick: Tick): Buffer {
  return Buffer.from(JSON.stringify(TickSchema.parse(tick)));
}
