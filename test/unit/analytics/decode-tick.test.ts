import fc from 'fast-check';
import type { DecodeResult, Tick } from '../../../shared/tick';
import { MARKET_STATES, TICK_SCHEMA_VERSION, TICK_SOURCES, TickSchema, decodeTick, encodeTick } from '../../../shared/tick';

/** The decoder as it was before the fast path: zod decides everything. */
function referenceDecode(text: string): DecodeResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `invalid JSON: ${(err as Error).message}` };
  }
  if (typeof json === 'object' && json !== null && 'v' in json && json.v !== TICK_SCHEMA_VERSION) {
    return { ok: false, reason: `unknown schema version: ${JSON.stringify(json.v)}` };
  }
  const parsed = TickSchema.safeParse(json);
  if (!parsed.success) {
    return { ok: false, reason: `invalid tick: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}` };
  }
  return { ok: true, tick: parsed.data };
}

const validTick: fc.Arbitrary<Tick> = fc.record(
  {
    v: fc.constant(TICK_SCHEMA_VERSION),
    symbol: fc.stringMatching(/^[A-Z0-9.^=-]{1,20}$/),
    ts: fc.integer({ min: 1, max: 2 ** 45 }),
    price: fc.double({ min: Number.MIN_VALUE, max: 1e9, noNaN: true }),
    volume: fc.oneof(fc.double({ min: 0, max: 1e12, noNaN: true }), fc.nat()),
    previousClose: fc.double({ min: Number.MIN_VALUE, max: 1e9, noNaN: true }),
    source: fc.constantFrom(...TICK_SOURCES),
    producedAt: fc.integer({ min: 1, max: 2 ** 45 }),
    marketState: fc.constantFrom(...MARKET_STATES),
  },
  { requiredKeys: ['v', 'symbol', 'ts', 'price', 'volume', 'previousClose', 'source', 'producedAt'] },
);

const KEYS = ['v', 'symbol', 'ts', 'price', 'volume', 'previousClose', 'source', 'producedAt', 'marketState', 'extra', '__proto__'];
const oddValue = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom(0, -1, 1.5, 2 ** 53, 2 ** 60, -0, 1e308, '', 'aapl', 'A'.repeat(21), 'A B', 'REGULAR', 'yahoo', null, true, [], {}),
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
    ['an extra key', '{"v":1,"symbol":"A","ts":1,"price":1,"volume":0,"previousClose":1,"source":"yahoo","producedAt":1,"x":1}'],
    ['a __proto__ key', '{"v":1,"symbol":"A","ts":1,"price":1,"volume":0,"previousClose":1,"source":"yahoo","producedAt":1,"__proto__":{}}'],
    ['marketState null', '{"v":1,"symbol":"A","ts":1,"price":1,"volume":0,"previousClose":1,"source":"yahoo","producedAt":1,"marketState":null}'],
    ['an unsafe integer ts', '{"v":1,"symbol":"A","ts":18014398509481984,"price":1,"volume":0,"previousClose":1,"source":"yahoo","producedAt":1}'],
    ['a negative zero volume', '{"v":1,"symbol":"A","ts":1,"price":1,"volume":-0,"previousClose":1,"source":"yahoo","producedAt":1}'],
    ['a zero price', '{"v":1,"symbol":"A","ts":1,"price":0,"volume":0,"previousClose":1,"source":"yahoo","producedAt":1}'],
    ['a lowercase symbol', '{"v":1,"symbol":"aapl","ts":1,"price":1,"volume":0,"previousClose":1,"source":"yahoo","producedAt":1}'],
    ['an array', '[1,2]'],
    ['a version 2', '{"v":2}'],
    ['broken JSON', '{"v":1,'],
  ])('%s decodes exactly as zod says', (_name, text) => {
    expect(decodeTick(text)).toEqual(referenceDecode(text));
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
