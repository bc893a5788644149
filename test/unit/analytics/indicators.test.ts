import { BollingerBands, EMA, RSI, SMA, SessionVWAP, VolumeRatio } from '../../../analytics';
import type { Indicator } from '../../../analytics';
import { sumError } from '../../../analytics/numeric';
import { randomWalk, rng } from './factories';

describe('SMA never drifts', () => {
  it('stays within a few ulps of the exact window mean over 10,000,000 updates, where a plain running sum does not', () => {
    const rand = rng(99);
    const period = 20;
    const sma = new SMA(period);
    const window = new Float64Array(period);
    let naive = 0;
    let worstOurs = 0;
    let worstNaive = 0;
    const started = Date.now();
    for (let i = 0; i < 10_000_000; i++) {
      // Ordinary prices with a rare enormous print (a bad tick, or a share
      // quoted in the wrong unit): every plain running sum keeps the rounding
      // error of that print after it has left the window.
      const x = i % 1_000_003 === 500_000 ? 1e12 + rand() : 100 + rand();
      const old = window[i % period] as number;
      window[i % period] = x;
      naive += x - (i >= period ? old : 0);
      const ours = sma.update(x);
      if (i % 99_991 === 0 && i >= period) {
        // Fresh two-pass reference over the 20 values actually in the window.
        let exact = 0;
        for (const v of window) exact += v;
        exact /= period;
        worstOurs = Math.max(worstOurs, Math.abs((ours as number) - exact) / exact);
        worstNaive = Math.max(worstNaive, Math.abs(naive / period - exact) / exact);
      }
    }
    const elapsedMs = Date.now() - started;
    expect(worstOurs).toBeLessThanOrEqual(4 * Number.EPSILON);
    // Proves the input is hard enough that the guarantee above means something.
    expect(worstNaive).toBeGreaterThan(1e-9);
    expect(elapsedMs).toBeLessThan(10_000);
  });

  it('sumError recovers small terms next to huge ones', () => {
    let sum = 0;
    let comp = 0;
    for (const x of [1e16, 1, 1, -1e16]) {
      const t = sum + x;
      comp += sumError(sum, x, t);
      sum = t;
    }
    expect([sum, comp, sum + comp]).toEqual([0, 2, 2]);
  });
});

describe('indicator contract', () => {
  const cases: [string, () => Indicator<unknown, unknown>, number][] = [
    ['SMA(5)', () => new SMA(5), 5],
    ['EMA(12)', () => new EMA(12), 12],
    ['RSI(14)', () => new RSI(14), 15],
    ['Bollinger(20,2)', () => new BollingerBands(20, 2), 20],
    ['VolumeRatio(20)', () => new VolumeRatio(20), 21],
  ];

  it.each(cases)('%s is null for exactly requiredInputs - 1 inputs, then stable', (_name, make, required) => {
    const ind = make();
    expect(ind.requiredInputs).toBe(required);
    const xs = randomWalk(required + 5, 3);
    xs.forEach((x, i) => {
      const r = ind.update(x);
      expect({ i, isNull: r === null, stable: ind.isStable }).toEqual({ i, isNull: i < required - 1, stable: i >= required - 1 });
      expect(ind.getResult()).toEqual(r);
    });
  });

  it.each(cases)('%s: fromState(JSON round trip) continues bit-identically from any point', (_name, make) => {
    const xs = randomWalk(300, 11);
    for (const cut of [0, 1, 4, 13, 19, 20, 21, 57, 299]) {
      const a = make();
      const b = make();
      for (let i = 0; i < cut; i++) {
        a.update(xs[i] as number);
        b.update(xs[i] as number);
      }
      const ctor = b.constructor as unknown as { fromState(s: unknown): Indicator<unknown, unknown> };
      const restored = ctor.fromState(JSON.parse(JSON.stringify(b.getState())));
      const fromA: unknown[] = [];
      const fromR: unknown[] = [];
      for (let i = cut; i < xs.length; i++) {
        fromA.push(a.update(xs[i] as number));
        fromR.push(restored.update(xs[i] as number));
      }
      expect(fromR).toEqual(fromA);
      expect(restored.getState()).toEqual(a.getState());
    }
  });

  it('indicators packed into one shared Float64Array behave exactly like standalone ones', () => {
    const xs = randomWalk(500, 21);
    const f = new Float64Array(3 + SMA.slots(5) + BollingerBands.slots(20) + EMA.slots() + RSI.slots() + VolumeRatio.slots(20) + 3);
    f.fill(Number.NaN); // untouched guard slots must stay NaN
    let at = 3;
    const packed = [new SMA(5, f, at), new BollingerBands(20, 2, f, (at += SMA.slots(5))), new EMA(12, f, (at += BollingerBands.slots(20))), new RSI(14, f, (at += EMA.slots())), new VolumeRatio(20, f, (at += RSI.slots()))];
    const alone = [new SMA(5), new BollingerBands(20, 2), new EMA(12), new RSI(14), new VolumeRatio(20)];
    const a: unknown[] = [];
    const b: unknown[] = [];
    for (const x of xs) {
      a.push(packed.map((ind) => ind.update(x)));
      b.push(alone.map((ind) => ind.update(x)));
    }
    expect(a).toEqual(b);
    expect(packed.map((p) => p.getState())).toEqual(alone.map((p) => p.getState()));
    expect([f[0], f[1], f[2], f[f.length - 3], f[f.length - 1]]).toEqual([NaN, NaN, NaN, NaN, NaN]);
    expect(() => new SMA(5, new Float64Array(6), 0)).toThrow(RangeError);
    expect(() => new EMA(5, f, f.length)).toThrow(RangeError);
  });

  it('rejects nonsense periods', () => {
    expect(() => new SMA(0)).toThrow(RangeError);
    expect(() => new EMA(1.5)).toThrow(RangeError);
    expect(() => new BollingerBands(20, -1)).toThrow(RangeError);
  });
});

describe('hand-computed values', () => {
  it('SMA and Bollinger on a small series', () => {
    const bb = new BollingerBands(4, 2);
    const sma = new SMA(4);
    for (const x of [2, 4, 4, 4]) {
      bb.update(x);
      sma.update(x);
    }
    // mean 3.5, population variance (2.25 + 3 × 0.25) / 4 = 0.75
    expect(sma.getResult()).toBe(3.5);
    expect(bb.getResult()).toEqual({ middle: 3.5, upper: 3.5 + 2 * Math.sqrt(0.75), lower: 3.5 - 2 * Math.sqrt(0.75) });
    bb.update(5); // window 4 4 4 5: mean 4.25, variance 0.1875
    const r = bb.getResult();
    expect(r?.middle).toBe(4.25);
    expect(r?.upper).toBeCloseTo(4.25 + 2 * Math.sqrt(0.1875), 14);
  });

  it('RSI: all gains reads 100, all losses 0, Wilder smoothing after the seed', () => {
    const up = new RSI(3);
    for (const x of [1, 2, 3, 4]) up.update(x);
    expect(up.getResult()).toBe(100);
    const down = new RSI(3);
    for (const x of [4, 3, 2, 1]) down.update(x);
    expect(down.getResult()).toBe(0);
    const mixed = new RSI(2);
    // changes +2, -1 → avg gain 1, avg loss 0.5 → RS 2 → 66.67
    for (const x of [10, 12, 11]) mixed.update(x);
    expect(mixed.getResult()).toBeCloseTo(100 - 100 / 3, 12);
    // next change +1: gain (1 + 1)/2 = 1, loss (0.5 + 0)/2 = 0.25 → RS 4 → 80
    expect(mixed.update(12)).toBeCloseTo(80, 12);
  });

  it('EMA seeds with the first input and then weighs 2/(n+1)', () => {
    const ema = new EMA(3);
    expect(ema.update(10)).toBeNull();
    expect(ema.update(20)).toBeNull();
    expect(ema.update(20)).toBe(17.5); // 10 → 15 → 17.5
  });

  it('session VWAP resets at the UTC day boundary and ignores zero volume', () => {
    const day = Date.UTC(2024, 0, 2);
    const vw = new SessionVWAP();
    expect(vw.update(10, 0, day + 1000)).toBeNull();
    expect(vw.update(10, 100, day + 2000)).toBe(10);
    expect(vw.update(20, 300, day + 3000)).toBe(17.5);
    expect(vw.update(30, 100, day + 86_400_000 - 1)).toBe(20);
    expect(vw.update(50, 10, day + 86_400_000)).toBe(50);
  });

  it('volume ratio compares with the average of the ticks before', () => {
    const vr = new VolumeRatio(3);
    for (const v of [100, 200, 300]) expect(vr.update(v)).toBeNull();
    expect(vr.update(1000)).toBe(5);
    expect(vr.average).toBe(200);
    expect(vr.update(500)).toBe(1); // avg of 200, 300, 1000
    const zero = new VolumeRatio(2);
    for (const v of [0, 0, 0]) zero.update(v);
    expect(zero.getResult()).toBeNull();
    expect(zero.average).toBe(0);
  });
});
