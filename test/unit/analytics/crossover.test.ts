import fc from 'fast-check';
import { SMA as TsSMA } from 'trading-signals';
import { CorruptSnapshotError, SMA, SmaCrossover, SymbolAnalyzer, analysisConfig, crossSide } from '../../../analytics';
import type { CrossSide, Signal, SmaCrossoverState } from '../../../analytics';
import { randomWalk, tick } from './factories';

/** Two plain SMAs and the analyzer's rule: what SmaCrossover must equal, bit for bit. */
function composed(prices: readonly number[], gapPct: number): { short: (number | null)[]; long: (number | null)[]; signals: (Signal | null)[] } {
  const s = new SMA(5);
  const l = new SMA(20);
  let side: CrossSide = 0;
  const out = { short: [] as (number | null)[], long: [] as (number | null)[], signals: [] as (Signal | null)[] };
  for (const p of prices) {
    const a = s.update(p);
    const b = l.update(p);
    let signal: Signal | null = null;
    if (a !== null && b !== null) {
      const next = crossSide(side, a, b, gapPct / 100);
      if (side !== 0 && next !== side) signal = next === 1 ? 'BUY' : 'SELL';
      side = next;
    }
    out.short.push(a);
    out.long.push(b);
    out.signals.push(signal);
  }
  return out;
}

function feed(c: SmaCrossover, prices: readonly number[]): { short: (number | null)[]; long: (number | null)[]; signals: (Signal | null)[] } {
  const out = { short: [] as (number | null)[], long: [] as (number | null)[], signals: [] as (Signal | null)[] };
  for (const p of prices) {
    out.signals.push(c.update(p));
    out.short.push(c.short);
    out.long.push(c.long);
  }
  return out;
}

describe('SmaCrossover', () => {
  const prices = randomWalk(100_000, 77, 100, 0.004);

  it.each([0, 0.05])('equals SMA(5), SMA(20) and the analyzer rule bit for bit over 100,000 ticks (gap %p percent)', (gapPct) => {
    const want = composed(prices, gapPct);
    const got = feed(new SmaCrossover(5, 20, gapPct), prices);
    // toEqual compares numbers with Object.is: one ulp of difference fails.
    expect(got.short).toEqual(want.short);
    expect(got.long).toEqual(want.long);
    expect(got.signals).toEqual(want.signals);
    const fired = got.signals.filter((s) => s !== null).length;
    expect(fired).toBeGreaterThan(100);
  });

  it('agrees with trading-signals SMA(5)/SMA(20) to 1e-9', () => {
    const c = new SmaCrossover();
    const ts5 = new TsSMA(5);
    const ts20 = new TsSMA(20);
    let worst = 0;
    for (const p of prices) {
      c.update(p);
      const a = ts5.update(p, false);
      const b = ts20.update(p, false);
      expect(c.short === null).toBe(a === null);
      expect(c.long === null).toBe(b === null);
      if (a !== null && c.short !== null) worst = Math.max(worst, Math.abs(c.short - a) / a);
      if (b !== null && c.long !== null) worst = Math.max(worst, Math.abs(c.long - b) / b);
    }
    expect(worst).toBeLessThanOrEqual(1e-9);
  });

  it('fires nothing before both windows are full, then alternates BUY/SELL', () => {
    const c = new SmaCrossover();
    // A zig-zag that crosses constantly from the first tick on.
    const zig = Array.from({ length: 400 }, (_, i) => 100 + 10 * Math.sin(i / 3));
    const signals = zig.map((p) => c.update(p));
    expect(signals.slice(0, 20).every((s) => s === null)).toBe(true);
    const fired = signals.filter((s): s is Signal => s !== null);
    expect(fired.length).toBeGreaterThan(10);
    for (let i = 1; i < fired.length; i++) expect(fired[i]).not.toBe(fired[i - 1]);
    expect(c.isStable).toBe(true);
    expect(c.getResult()).toEqual({ short: c.short, long: c.long, side: c.side });
  });

  it('a gap keeps a flat market from flapping; no gap does not', () => {
    const flat = Array.from({ length: 2_000 }, (_, i) => 100 + (i % 2 === 0 ? 0.001 : -0.001) * ((i % 7) + 1));
    const count = (gapPct: number): number => feed(new SmaCrossover(5, 20, gapPct), flat).signals.filter((s) => s !== null).length;
    expect(count(0)).toBeGreaterThan(50);
    expect(count(0.05)).toBe(0);
  });

  it('snapshot → JSON → restore at random points continues bit-identically (also mid-warm-up)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -0.03, max: 0.03, noNaN: true }), { minLength: 1, maxLength: 120 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        fc.constantFrom(0, 0.05),
        (rets, cutSeeds, gapPct) => {
          let p = 50;
          const path = rets.map((r) => (p *= 1 + r));
          const want = feed(new SmaCrossover(5, 20, gapPct), path);
          const cuts = new Set(cutSeeds.map((x) => x % path.length));
          let c = new SmaCrossover(5, 20, gapPct);
          const got = { short: [] as (number | null)[], long: [] as (number | null)[], signals: [] as (Signal | null)[] };
          path.forEach((x, i) => {
            if (cuts.has(i)) c = SmaCrossover.fromState(JSON.parse(JSON.stringify(c.getState())), gapPct);
            got.signals.push(c.update(x));
            got.short.push(c.short);
            got.long.push(c.long);
          });
          expect(got).toEqual(want);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('restoring into an instance that held other numbers leaves none of them behind', () => {
    const donor = new SmaCrossover();
    for (const p of [10, 11, 12]) donor.update(p);
    const busy = new SmaCrossover();
    for (const p of prices.slice(0, 50)) busy.update(p);
    busy.restoreState(donor.getState());
    const fresh = SmaCrossover.fromState(donor.getState());
    const rest = prices.slice(50, 100);
    expect(feed(busy, rest)).toEqual(feed(fresh, rest));
  });

  it('rejects corrupt snapshots, naming the field', () => {
    const c = new SmaCrossover();
    for (const p of prices.slice(0, 30)) c.update(p);
    const good = c.getState();
    const bad = (over: Partial<Record<keyof SmaCrossoverState, unknown>>): unknown => ({ ...good, ...over });
    expect(() => SmaCrossover.fromState(bad({ longPeriod: 5 }))).toThrow(/crossover.shortPeriod/);
    expect(() => SmaCrossover.fromState(bad({ sumLong: 'x' }))).toThrow(/crossover.sumLong/);
    expect(() => SmaCrossover.fromState(bad({ side: 2 }))).toThrow(/crossover.side/);
    expect(() => SmaCrossover.fromState(bad({ buf: [1, 2, 3], pos: 3, side: 1 }))).toThrow(/crossover.side.*before the long window is full/);
    expect(() => SmaCrossover.fromState(bad({ buf: [1, 2, 3], pos: 1, side: 0 }))).toThrow(/crossover.pos/);
    expect(() => new SmaCrossover().restoreState(bad({ shortPeriod: 4 }))).toThrow(CorruptSnapshotError);
    expect(() => SmaCrossover.fromState(null)).toThrow(CorruptSnapshotError);
  });

  it('rejects bad periods and gaps', () => {
    expect(() => new SmaCrossover(20, 5)).toThrow(/below the long one/);
    expect(() => new SmaCrossover(5, 5)).toThrow(/below the long one/);
    expect(() => new SmaCrossover(0, 20)).toThrow(/period/);
    expect(() => new SmaCrossover(5, 20, -1)).toThrow(/gap/);
    expect(() => new SmaCrossover(5, 20, Number.NaN)).toThrow(/gap/);
  });

  it('lives in a caller slice without touching its neighbours', () => {
    const storage = new Float64Array(SmaCrossover.slots(20) + 4).fill(7);
    const c = new SmaCrossover(5, 20, 0, storage, 2);
    const alone = new SmaCrossover();
    for (const p of prices.slice(0, 60)) expect(c.update(p)).toBe(alone.update(p));
    expect(c.getState()).toEqual(alone.getState());
    expect([storage[0], storage[1], storage[storage.length - 2], storage[storage.length - 1]]).toEqual([7, 7, 7, 7]);
    expect(() => new SmaCrossover(5, 20, 0, new Float64Array(10), 0)).toThrow(RangeError);
  });

  it("gives the analyzer's signals on the analyzer's prices", () => {
    const config = analysisConfig({ crossoverMinGapPct: 0.05 });
    const a = new SymbolAnalyzer('AAPL', config);
    const c = new SmaCrossover(5, 20, config.crossoverMinGapPct);
    prices.slice(0, 5_000).forEach((p, i) => {
      const r = a.analyze(tick({ ts: i + 1, price: p }));
      const s = c.update(p);
      expect(r.kind === 'applied' ? r.row.signal : 'dup').toBe(s);
    });
  });
});
