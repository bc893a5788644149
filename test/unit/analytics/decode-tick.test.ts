import fc from 'fast-check';
import type { DecodeResult, Tick } from '../../../shared/tick';
import { MARKET_STATES, TICK_BOUNDS, TICK_SCHEMA_VERSIONS, TICK_SOURCES, TickSchema, decodeTick, encodeTick } from '../../../shared/tick';

const B = TICK_BOUNDS;
/** The next double above / below x: the first value past a bound. */
const up = (x: number): number => x + Math.abs(x) * Number.EPSILON;
const down = (x: number): number => x - Math.abs(x) * Number.EPSILON;

/** The decoder as it was before the fast path: zod decides everything. */
function referenceDecode(text: string): DecodeResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `invalid JSON: ${(err as Error).message}` };
  }
  if (typeof json === 'object' && json !== null && 'v' in json && !TICK_SCHEMA_VERSIONS.includes(json.v as number)) {
    return { ok: false, reason: `unknown schema version: ${JSON.stringify(json.v)}` };
  }
  const parsed = TickSchema.safeParse(json);
  if (!parsed.success) {
    return { ok: false, reason: `invalid tick: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}` };
  }
  return { ok: true, tick: parsed.data };
}

const TIME_ZONES = ['UTC', 'America/New_York', 'Europe/London', 'Asia/Jakarta', 'Australia/Sydney', 'Europe/Rome'];
const fields = {
    symbol: fc.stringMatching(/^[A-Z0-9.^=-]{1,20}$/),
    // Each numeric field over its whole valid range, its ends included.
    ts: fc.oneof(fc.integer({ min: B.tsMin, max: B.tsMax - 1 }), fc.constantFrom(B.tsMin, B.tsMax - 1)),
    price: fc.oneof(fc.double({ min: B.priceMin, max: B.priceMax, noNaN: true }), fc.constantFrom(B.priceMin, B.priceMax)),
    volume: fc.oneof(fc.double({ min: B.volumeMin, max: B.volumeMax, noNaN: true }), fc.nat(), fc.constantFrom(0, B.volumeMin, B.volumeMax)),
    previousClose: fc.oneof(fc.double({ min: B.priceMin, max: B.priceMax, noNaN: true }), fc.constantFrom(B.priceMin, B.priceMax)),
    source: fc.constantFrom(...TICK_SOURCES),
    producedAt: fc.integer({ min: B.tsMin, max: B.tsMax - 1 }),
    marketState: fc.constantFrom(...MARKET_STATES),
};
const required = ['v', 'symbol', 'ts', 'price', 'volume', 'source', 'producedAt'] as const;
/** v1 (previousClose required, no tz) and v2 (both optional): consumers read both. */
const validTick: fc.Arbitrary<Tick> = fc.oneof(
  fc.record({ v: fc.constant(1 as const), ...fields }, { requiredKeys: [...required, 'previousClose'] }),
  fc.record({ v: fc.constant(2 as const), ...fields, tz: fc.constantFrom(...TIME_ZONES) }, { requiredKeys: [...required] }),
);

const KEYS = ['v', 'symbol', 'ts', 'price', 'volume', 'previousClose', 'source', 'producedAt', 'marketState', 'tz', 'extra', '__proto__'];
const oddValue = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom(0, -1, 1, 2, 3, 1.5, 2 ** 53, 2 ** 60, -0, 1e308, '', 'aapl', 'A'.repeat(21), 'A B', 'REGULAR', 'yahoo', null, true, [], {}),
  fc.constantFrom('UTC', 'America/New_York', 'Nowhere/Atlantis', 'Europe/' + 'X'.repeat(70)),
  // every bound, and the first value past it
  fc.constantFrom(B.tsMin, B.tsMin - 1, B.tsMax - 1, B.tsMax, 8.64e15 + 1, B.priceMin, down(B.priceMin), B.priceMax, up(B.priceMax), B.volumeMax, up(B.volumeMax), B.volumeMin, down(B.volumeMin), 5e-324, 1e126, 1e-131),
);

/** A valid tick with a few keys overwritten, deleted or added: near misses find the edge cases. */
const mutatedJson: fc.Arbitrary<string> = fc
  .tuple(validTick, fc.array(fc.tuple(fc.constantFrom(...KEYS), fc.option(oddValue, { nil: undefined })), { maxLength: 3 }))
  .map(([tick, edits]) => {
    const o: Record<string, unknown> = { ...tick };
    for (const [k, val] of edits) {
      if (val === undefined) delete o[k];
      else Object.defineProperty(o, k, { value: val, enumerable: true, writable: true, configurable: true });
    }
    return JSON.stringify(o);
  });

describe('decodeTick (fast path + zod)', () => {
  it('agrees with the zod-only decoder on valid ticks', () => {
    fc.assert(
      fc.property(validTick, (tick) => {
        const text = JSON.stringify(tick);
        expect(decodeTick(Buffer.from(text))).toEqual(referenceDecode(text));
        expect(decodeTick(text)).toEqual({ ok: true, tick });
      }),
      { numRuns: 500 },
    );
  });

  it('agrees with the zod-only decoder, reasons included, on near misses', () => {
    fc.assert(
      fc.property(mutatedJson, (text) => {
        expect(decodeTick(Buffer.from(text))).toEqual(referenceDecode(text));
      }),
      { numRuns: 2000 },
    );
  });

  it.each<[string, string]>([
    ['an extra key', '{"v":1,"symbol":"A","ts":1700000000000,"price":1,"volume":0,"previousClose":1,"source":"yahoo","producedAt":1700000000001,"x":1}'],
    ['a __proto__ key', '{"v":1,"symbol":"A","ts":1700000000000,"price":1,"volume":0,"previousClose":1,"source":"yahoo","producedAt":1700000000001,"__proto__":{}}'],
    ['marketState null', '{"v":1,"symbol":"A","ts":1700000000000,"price":1,"volume":0,"previousClose":1,"source":"yahoo","producedAt":1700000000001,"marketState":null}'],
    ['an unsafe integer ts', '{"v":1,"symbol":"A","ts":18014398509481984,"price":1,"volume":0,"previousClose":1,"source":"yahoo","producedAt":1700000000001}'],
    ['a negative zero volume', '{"v":1,"symbol":"A","ts":1700000000000,"price":1,"volume":-0,"previousClose":1,"source":"yahoo","producedAt":1700000000001}'],
    ['a zero price', '{"v":1,"symbol":"A","ts":1700000000000,"price":0,"volume":0,"previousClose":1,"source":"yahoo","producedAt":1700000000001}'],
    ['a lowercase symbol', '{"v":1,"symbol":"aapl","ts":1700000000000,"price":1,"volume":0,"previousClose":1,"source":"yahoo","producedAt":1700000000001}'],
    ['an array', '[1,2]'],
    ['an incomplete version 2', '{"v":2}'],
    ['a version 3', '{"v":3,"symbol":"A","ts":1700000000000,"price":1,"volume":0,"source":"yahoo","producedAt":1700000000001}'],
    ['v1 without previousClose', '{"v":1,"symbol":"A","ts":1700000000000,"price":1,"volume":0,"source":"yahoo","producedAt":1700000000001}'],
    ['v1 with a time zone', '{"v":1,"symbol":"A","ts":1700000000000,"price":1,"volume":0,"previousClose":1,"source":"yahoo","producedAt":1700000000001,"tz":"UTC"}'],
    ['v2 with an unknown time zone', '{"v":2,"symbol":"A","ts":1700000000000,"price":1,"volume":0,"source":"yahoo","producedAt":1700000000001,"tz":"Nowhere/Atlantis"}'],
    ['v2 with previousClose 0', '{"v":2,"symbol":"A","ts":1700000000000,"price":1,"volume":0,"previousClose":0,"source":"yahoo","producedAt":1700000000001}'],
    ['broken JSON', '{"v":1,'],
  ])('%s decodes exactly as zod says', (_name, text) => {
    expect(decodeTick(text)).toEqual(referenceDecode(text));
  });

  const at = (o: Partial<Record<keyof Tick, unknown>>): string =>
    JSON.stringify({ v: 1, symbol: 'A', ts: 1_700_000_000_000, price: 1, volume: 0, previousClose: 1, source: 'replay', producedAt: 1_700_000_000_001, ...o });

  it.each<[string, Partial<Record<keyof Tick, unknown>>]>([
    ['ts at its lower bound', { ts: B.tsMin }],
    ['ts just below its upper bound', { ts: B.tsMax - 1 }],
    ['producedAt at its lower bound', { producedAt: B.tsMin }],
    ['price at its lower bound', { price: B.priceMin }],
    ['price at its upper bound', { price: B.priceMax }],
    ['previousClose at both bounds', { previousClose: B.priceMin, price: B.priceMax }],
    ['volume at its upper bound', { volume: B.volumeMax }],
    ['the smallest non-zero volume', { volume: B.volumeMin }],
  ])('accepts %s', (_name, o) => {
    expect(decodeTick(at(o))).toMatchObject({ ok: true });
    expect(decodeTick(at(o))).toEqual(referenceDecode(at(o)));
  });

  it.each<[string, Partial<Record<keyof Tick, unknown>>, RegExp]>([
    ['ts just before 2000-01-01', { ts: B.tsMin - 1 }, /^invalid tick: ts: must be at or after 2000-01-01/],
    ['ts at 2100-01-01', { ts: B.tsMax }, /^invalid tick: ts: must be before 2100-01-01/],
    ['ts past what Date can print', { ts: 8.64e15 + 1 }, /^invalid tick: ts: must be before 2100-01-01/],
    ['producedAt at 2100-01-01', { producedAt: B.tsMax }, /^invalid tick: producedAt: must be before/],
    ['price just below its lower bound', { price: down(B.priceMin) }, /^invalid tick: price: must be at least 1e-9/],
    ['price just above its upper bound', { price: up(B.priceMax) }, /^invalid tick: price: must be at most 1000000000000/],
    ['price beyond DynamoDB (1e130)', { price: 1e130 }, /^invalid tick: price: must be at most/],
    ['previousClose below DynamoDB (1e-131)', { previousClose: 1e-131 }, /^invalid tick: previousClose: must be at least/],
    ['volume just above its upper bound', { volume: up(B.volumeMax) }, /^invalid tick: volume: must be at most 1000000000000000/],
    ['negative volume', { volume: -1 }, /^invalid tick: volume: must be at least 0/],
    ['a volume DynamoDB cannot store (5e-324)', { volume: 5e-324 }, /^invalid tick: volume: must be 0 or at least 1e-9/],
    ['a volume just below the smallest non-zero one', { volume: down(B.volumeMin) }, /^invalid tick: volume: must be 0 or at least 1e-9/],
  ])('refuses %s, naming the field and the bound', (_name, o, reason) => {
    const r = decodeTick(at(o));
    expect(r).toEqual(referenceDecode(at(o)));
    expect(r.ok ? 'accepted' : r.reason).toMatch(reason);
  });

  it('reads v1 and v2: v2 may leave out previousClose and name the exchange time zone, v1 may not', () => {
    const base = { symbol: 'AFRAF', ts: 1_739_563_200_000, price: 8.46, volume: 0, source: 'yahoo', producedAt: 1_739_563_201_000 };
    expect(decodeTick(JSON.stringify({ v: 1, ...base, previousClose: 8.41 }))).toMatchObject({ ok: true, tick: { v: 1, previousClose: 8.41 } });
    const v2 = decodeTick(JSON.stringify({ v: 2, ...base, tz: 'America/New_York' }));
    expect(v2).toEqual({ ok: true, tick: { v: 2, ...base, tz: 'America/New_York' } });
    expect(decodeTick(JSON.stringify({ v: 1, ...base }))).toEqual({ ok: false, reason: 'invalid tick: previousClose: Invalid input: expected number, received undefined' });
    expect(decodeTick(JSON.stringify({ v: 2, ...base, tz: 'Nowhere/Atlantis' }))).toEqual({ ok: false, reason: 'invalid tick: tz: must be an IANA time zone' });
    expect(decodeTick(JSON.stringify({ v: 3, ...base }))).toEqual({ ok: false, reason: 'unknown schema version: 3' });
  });

  it('never throws and rejects oversized payloads before parsing', () => {
    expect(decodeTick('x'.repeat(20_000))).toEqual({ ok: false, reason: 'payload too large: 20000 bytes > 16384' });
    expect(decodeTick(new Uint8Array([0xff, 0xfe]))).toMatchObject({ ok: false });
  });

  it('round-trips encodeTick', () => {
    const tick: Tick = { v: 1, symbol: 'BRK.A', ts: 1_717_421_400_000, price: 612_345.5, volume: 12, previousClose: 610_000, source: 'replay', producedAt: 1_717_421_400_250 };
    expect(decodeTick(encodeTick(tick))).toEqual({ ok: true, tick });
  });
});
