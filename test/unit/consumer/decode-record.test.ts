import { MAX_TICKS_PER_RECORD, decodeRecord, encodeTick, encodeTickBatch, tickBatchSize, type Tick } from '../../../shared/tick';

/** inside the tick contract's time window */
const T0 = Date.UTC(2024, 0, 2);
const t = (symbol: string, i: number): Tick => ({ v: 1, symbol, ts: T0 + i, price: 10 + i, volume: 5, previousClose: 10, source: 'replay', producedAt: T0 });

describe('decodeRecord', () => {
  it('decodes a single tick as a list of one', () => {
    const r = decodeRecord(encodeTick(t('A', 0)));
    expect(r).toEqual({ ok: true, ticks: [t('A', 0)] });
  });

  it('round-trips an aggregate in order, and its size is what tickBatchSize says', () => {
    const ticks = Array.from({ length: 50 }, (_, i) => t('AB.C', i));
    const enc = ticks.map(encodeTick);
    const data = encodeTickBatch(enc);
    expect(data.byteLength).toBe(tickBatchSize(50, enc.reduce((n, b) => n + b.byteLength, 0)));
    expect(decodeRecord(data)).toEqual({ ok: true, ticks });
  });

  it.each([
    ['two symbols', [t('A', 0), t('B', 1)], /same symbol/],
    ['ts not increasing', [t('A', 1), t('A', 1)], /increasing ts/],
    ['ts going back', [t('A', 2), t('A', 1)], /increasing ts/],
  ])('rejects an aggregate with %s, naming the tick', (_name, ticks, reason) => {
    const r = decodeRecord(encodeTickBatch(ticks.map(encodeTick)));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(reason);
    expect(!r.ok && r.reason).toMatch(/ticks\[1\]/);
  });

  it('rejects an aggregate with an invalid tick, with the schema reason', () => {
    const bad = Buffer.from(JSON.stringify({ ...t('A', 1), price: -3 }));
    const r = decodeRecord(encodeTickBatch([encodeTick(t('A', 0)), bad]));
    expect(!r.ok && r.reason).toMatch(/ticks\[1\]: invalid tick: price/);
  });

  it('rejects extra keys, empty and oversized aggregates', () => {
    expect(decodeRecord(Buffer.from('{"v":1,"ticks":[],"x":1}')).ok).toBe(false);
    expect(decodeRecord(Buffer.from('{"v":1,"ticks":[]}')).ok).toBe(false);
    const many = Array.from({ length: MAX_TICKS_PER_RECORD + 1 }, (_, i) => encodeTick(t('A', i)));
    expect(decodeRecord(encodeTickBatch(many))).toEqual({ ok: false, reason: expect.stringMatching(/expected 1\.\.1000/) as unknown });
    expect(decodeRecord(Buffer.from('{"v":1,"ticks":[' + 'x'.repeat(1024 * 1024)))).toEqual({ ok: false, reason: expect.stringMatching(/too large/) as unknown });
  });

  it('still rejects a large non-aggregate payload as too large for a tick', () => {
    const r = decodeRecord(Buffer.from(JSON.stringify({ ...t('A', 0), pad: 'x'.repeat(900 * 1024) })));
    expect(!r.ok && r.reason).toMatch(/payload too large/);
  });
});
