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
  const parsed = TickSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    return { ok: false, reason: `invalid tick: ${issues}` };
  }
  return { ok: true, tick: parsed.data };
}

/** Encode for PutRecords. Validates too: the producer must never emit what
 *  the consumer would dead-letter. */
export function encodeTick(tick: Tick): Buffer {
  return Buffer.from(JSON.stringify(TickSchema.parse(tick)));
}
