import { z } from 'zod';

import { isTimeZone } from './trading-day';

/**
 * The Kinesis payload. Versioned so a consumer can reject what it does not
 * understand (dead letter) instead of guessing. `ts` is the quote's own time
 * in epoch milliseconds: it orders ticks per symbol and makes replays
 * idempotent, so it must come from the source, never from the wall clock.
 *
 * v2 (what producers write) differs from v1 in two optional fields:
 * - `previousClose` may be absent: Yahoo quotes a price with no usable
 *   previous close for OTC listings (it reports 0) and on a first trading
 *   day (it reports none). v1 had to drop such a quote.
 * - `tz`, the exchange's IANA time zone: the tick's trading day is the date
 *   of `ts` there (shared/trading-day.ts). Without it, the UTC date.
 * Consumers read both versions, so they must be rolled out before producers.
 */
export const TICK_SCHEMA_VERSION = 2 as const;
/** What a consumer accepts. */
export const TICK_SCHEMA_VERSIONS: readonly number[] = [1, TICK_SCHEMA_VERSION];

export const MARKET_STATES = ['PRE', 'REGULAR', 'POST', 'CLOSED'] as const;
export type MarketState = (typeof MARKET_STATES)[number];

export const TICK_SOURCES = ['yahoo', 'replay', 'synthetic'] as const;
export type TickSource = (typeof TICK_SOURCES)[number];

/**
 * Bounds of every numeric field: what every sink and formatter can hold, so a
 * valid tick can always be stored and printed. Fixed numbers, not relative to
 * the wall clock, so a replay decides the same way every time it runs.
 *
 * - Times: 2000-01-01T00:00Z (inclusive) to 2100-01-01T00:00Z (exclusive).
 *   `Date#toISOString` works far beyond both ends (it fails past 8.64e15 ms);
 *   the lower end is where the Glue table's `dt` partition projection starts
 *   (infra/stack.ts reads these constants), so every stored tick is visible
 *   to Athena. Daily bars from before 2000 are not what this pipeline is for.
 * - Prices: 1e-9 (sub-micro-cent crypto tokens) to 1e12 (any quote currency
 *   on Yahoo). Both ends are far inside DynamoDB's number range
 *   (magnitudes 1e-130 to 1e125) and leave every computed column (change %,
 *   SMAs, bands, VWAP) inside it too: the widest ratio, 1e12 / 1e-9 × 100,
 *   is 1e23.
 * - Volume: 0, or 1e-9 to 1e15 units per tick (more than a day's volume of
 *   the most traded crypto token in its smallest unit). Not just any small
 *   number: 5e-324 is a double DynamoDB cannot store, and a volume average
 *   of it would make the volume ratio infinite. So VWAP's sums of
 *   price × volume stay within 1e-18..1e27 per tick, and the volume ratio
 *   below 1e25.
 */
export const TICK_BOUNDS = {
  tsMin: Date.UTC(2000, 0, 1),
  /** exclusive */
  tsMax: Date.UTC(2100, 0, 1),
  priceMin: 1e-9,
  priceMax: 1e12,
  /** the smallest non-zero volume */
  volumeMin: 1e-9,
  volumeMax: 1e15,
} as const;

const { tsMin, tsMax, priceMin, priceMax, volumeMin, volumeMax } = TICK_BOUNDS;
const isoDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const time = z
  .number()
  .int()
  .min(tsMin, `must be at or after ${isoDay(tsMin)} (epoch ms ${tsMin})`)
  .lt(tsMax, `must be before ${isoDay(tsMax)} (epoch ms ${tsMax})`);
const price = z.number().min(priceMin, `must be at least ${priceMin}`).max(priceMax, `must be at most ${priceMax}`);

/** What a symbol may be, everywhere: Yahoo's tickers (BRK-B, ^GSPC, EURUSD=X, BTC-USD, 7203.T) fit. */
export const SYMBOL_RE = /^[A-Z0-9.^=-]{1,20}$/;
/** {@link SYMBOL_RE} in words, for error messages. */
export const SYMBOL_RULE = '1-20 of A-Z 0-9 . ^ = -';
/** A ticker as every part of the pipeline accepts it (the tick, the config readers). */
export const SymbolSchema = z.string().regex(SYMBOL_RE, `symbol must be ${SYMBOL_RULE}`);

const timeZone = z.string().max(64, 'must be at most 64 characters').refine(isTimeZone, 'must be an IANA time zone');

// In contract order (previousClose between volume and source), which is the
// order zod reports problems in: a dead letter's reason lists them so.
const head = {
  symbol: SymbolSchema,
  ts: time,
  price,
  volume: z
    .number()
    .min(0, 'must be at least 0')
    .max(volumeMax, `must be at most ${volumeMax}`)
    .refine((v) => v === 0 || v >= volumeMin, `must be 0 or at least ${volumeMin}`),
};
const tail = {
  source: z.enum(TICK_SOURCES),
  producedAt: time,
  marketState: z.enum(MARKET_STATES).optional(),
};

const TickV1Schema = z.strictObject({ v: z.literal(1), ...head, previousClose: price, ...tail });
const TickV2Schema = z.strictObject({ v: z.literal(2), ...head, previousClose: price.optional(), ...tail, tz: timeZone.optional() });

export const TickSchema = z.discriminatedUnion('v', [TickV1Schema, TickV2Schema]);

/**
 * A decoded tick of either version. One type rather than the union, so code
 * reads `tick.tz` without asking the version first: on a v1 tick it is
 * simply absent. `previousClose` is optional for both in the type; the
 * schema still requires it on v1.
 */
export interface Tick {
  v: 1 | 2;
  symbol: string;
  ts: number;
  price: number;
  volume: number;
  previousClose?: number;
  source: TickSource;
  producedAt: number;
  marketState?: MarketState;
  /** IANA time zone of the exchange (v2); absent means UTC. */
  tz?: string;
}

// Compile-time proof that whatever the schema accepts is a Tick.
/** @public: exported only because tsc's noUnusedLocals would refuse an unread local; knip skips @public. */
export const _schemaFitsTick: z.infer<typeof TickSchema> extends Tick ? true : never = true;

/** Kinesis allows 1 MiB per record; a tick is ~200 bytes, so anything near
 *  this is not a tick and is rejected before JSON.parse spends time on it. */
const MAX_TICK_BYTES = 16 * 1024;

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
  return validateTick(json);
}

/** Validates one parsed tick object: the fast path, then the schema for the reason. */
function validateTick(json: unknown): DecodeResult {
  if (typeof json === 'object' && json !== null && 'v' in json && !TICK_SCHEMA_VERSIONS.includes(json.v as number)) {
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
const REQUIRED_KEYS = 7;

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
  const { v, symbol, ts, price, volume, previousClose, source, producedAt, marketState, tz } = o;
  if (v !== 1 && v !== 2) return undefined;
  if (typeof symbol !== 'string' || symbol.length < 1 || symbol.length > 20) return undefined;
  for (let i = 0; i < symbol.length; i++) {
    const c = symbol.charCodeAt(i);
    // A-Z 0-9 . ^ = -, as in the schema's regex
    if (!((c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 46 || c === 94 || c === 61 || c === 45)) return undefined;
  }
  // Comparisons are false for NaN, so each range check also refuses it.
  if (typeof ts !== 'number' || !Number.isInteger(ts) || !(ts >= tsMin && ts < tsMax)) return undefined;
  if (typeof producedAt !== 'number' || !Number.isInteger(producedAt) || !(producedAt >= tsMin && producedAt < tsMax)) return undefined;
  if (typeof price !== 'number' || !(price >= priceMin && price <= priceMax)) return undefined;
  if (previousClose === undefined ? v === 1 : typeof previousClose !== 'number' || !(previousClose >= priceMin && previousClose <= priceMax)) return undefined;
  if (typeof volume !== 'number' || !(volume === 0 || (volume >= volumeMin && volume <= volumeMax))) return undefined;
  if (!SOURCE_SET.has(source)) return undefined;
  if (marketState !== undefined && !MARKET_STATE_SET.has(marketState)) return undefined;
  if (tz !== undefined && (v !== 2 || typeof tz !== 'string' || !isTimeZone(tz))) return undefined;
  // Strict object: with every known key present, the key count proves there is no other.
  let keys = 0;
  for (const k in o) if (Object.prototype.hasOwnProperty.call(o, k)) keys++;
  const optional = (previousClose === undefined ? 0 : 1) + (marketState === undefined ? 0 : 1) + (tz === undefined ? 0 : 1);
  if (keys !== REQUIRED_KEYS + optional) return undefined;
  return o as unknown as Tick;
}

/** Why `ts` is outside the tick contract's time window (as tickProblem
 *  words it), or undefined: readers of time-ordered files refuse such a row
 *  before its time can count in their order check. */
export function timeProblem(ts: number): string | undefined {
  const r = time.safeParse(ts);
  return r.success ? undefined : `ts: ${r.error.issues.map((i) => i.message).join('; ')}`;
}

/** Why a tick is invalid, as `field: message; …` (no values, so it can be a
 *  counter key), or undefined when it is valid. */
export function tickProblem(tick: unknown): string | undefined {
  const r = TickSchema.safeParse(tick);
  return r.success ? undefined : r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

/** Encode for PutRecords. Validates too: the producer must never emit what
 *  the consumer would dead-letter. */
export function encodeTick(tick: Tick): Buffer {
  return Buffer.from(JSON.stringify(TickSchema.parse(tick)));
}

/**
 * Aggregated records (the KPL's idea, in JSON): several ticks of ONE symbol,
 * in ts order, in one Kinesis record `{"v":1,"ticks":[tick, tick, …]}`. The
 * envelope has its own version (still 1); each tick inside carries its own.
 *
 * Why: per-symbol order forces the writer to keep at most one unacknowledged
 * record per symbol (a partly failed PutRecords must not let a later tick of
 * the symbol overtake a retried earlier one). With one tick per record that
 * caps a symbol at one tick per round trip, which makes a single-symbol
 * backfill crawl. A record succeeds or fails as a whole, so packing a
 * symbol's backlog into one record keeps the order and lifts the cap.
 */
export const MAX_TICKS_PER_RECORD = 1000;
/** Kinesis' own limit on a record's data. */
export const MAX_RECORD_BYTES = 1024 * 1024;
const AGG_PREFIX = '{"v":1,"ticks":[';
const AGG_PREFIX_BYTES = Buffer.from(AGG_PREFIX);
const AGG_SUFFIX_BYTES = Buffer.from(']}');
const COMMA = Buffer.from(',');

export type DecodeRecordResult = { ok: true; ticks: Tick[] } | { ok: false; reason: string };

/** Joins already encoded ticks (encodeTick output, one symbol, ts order) into one record. */
export function encodeTickBatch(encoded: readonly Buffer[]): Buffer {
  if (encoded.length === 1) return encoded[0]!;
  const parts: Buffer[] = [AGG_PREFIX_BYTES];
  encoded.forEach((b, i) => {
    if (i > 0) parts.push(COMMA);
    parts.push(b);
  });
  parts.push(AGG_SUFFIX_BYTES);
  return Buffer.concat(parts);
}

/** Bytes an aggregate of these encoded sizes takes. */
export function tickBatchSize(count: number, encodedBytes: number): number {
  return count === 1 ? encodedBytes : AGG_PREFIX_BYTES.byteLength + encodedBytes + (count - 1) + AGG_SUFFIX_BYTES.byteLength;
}

/**
 * Decode a Kinesis record: a single tick or an aggregate. Never throws. An
 * aggregate is accepted whole or rejected whole (one dead letter carrying
 * the reason), and must hold one symbol in strictly increasing ts.
 */
export function decodeRecord(bytes: Uint8Array): DecodeRecordResult {
  const size = bytes.byteLength;
  const isAggregate = size > AGG_PREFIX_BYTES.byteLength && Buffer.from(bytes.buffer, bytes.byteOffset, AGG_PREFIX_BYTES.byteLength).equals(AGG_PREFIX_BYTES);
  if (!isAggregate) {
    const r = decodeTick(bytes);
    return r.ok ? { ok: true, ticks: [r.tick] } : r;
  }
  if (size > MAX_RECORD_BYTES) return { ok: false, reason: `payload too large: ${size} bytes > ${MAX_RECORD_BYTES}` };
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, size).toString('utf8'));
  } catch (err) {
    return { ok: false, reason: `invalid JSON: ${(err as Error).message}` };
  }
  const o = json as { v?: unknown; ticks?: unknown };
  const keys = Object.keys(o);
  if (keys.length !== 2 || !Array.isArray(o.ticks)) return { ok: false, reason: 'invalid aggregate: expected exactly {"v":1,"ticks":[…]}' };
  const list = o.ticks as unknown[];
  if (list.length === 0 || list.length > MAX_TICKS_PER_RECORD) return { ok: false, reason: `invalid aggregate: ${list.length} ticks, expected 1..${MAX_TICKS_PER_RECORD}` };
  const ticks: Tick[] = new Array<Tick>(list.length);
  for (let i = 0; i < list.length; i++) {
    const r = validateTick(list[i]);
    if (!r.ok) return { ok: false, reason: `invalid aggregate: ticks[${i}]: ${r.reason}` };
    if (i > 0 && (r.tick.symbol !== ticks[0]!.symbol || r.tick.ts <= ticks[i - 1]!.ts)) {
      return { ok: false, reason: `invalid aggregate: ticks[${i}] is not the same symbol in increasing ts order` };
    }
    ticks[i] = r.tick;
  }
  return { ok: true, ticks };
}
