import type { Indicator } from './indicator';
import { assertPeriod } from './indicator';
import { sumError } from './numeric';
import { readFinite, readInt, readObject } from './snapshot';
import { expectPeriod, readRing } from './sma';
import { place } from './storage';
import { CorruptSnapshotError } from './errors';

export interface BollingerBandsResult {
  upper: number;
  middle: number;
  lower: number;
}

export interface BollingerState {
  period: number;
  k: number;
  buf: number[];
  pos: number;
  sum: number;
  comp: number;
  /** Sum of squared deviations from the mean over the window. */
  m2: number;
}

/**
 * Bollinger bands with the population standard deviation (as Bollinger and
 * trading-signals define them). The middle band is an SMA over the same
 * ring, so the analyzer reads its SMA-20 from here instead of keeping a
 * second 20-slot window (smaller state, one less buffer write per tick).
 *
 * The sum of squared deviations is updated in O(1) with the sliding-window
 * Welford step, and recomputed exactly from the ring every time the ring
 * wraps: amortized O(1), and its rounding error can never build up over more
 * than one window. The naive E[x²] − mean² would cancel catastrophically for
 * a $600,000 share moving by cents.
 *
 * Layout in its slots: ring[0..period), sum, comp, m2.
 */
export class BollingerBands implements Indicator<BollingerBandsResult, BollingerState> {
  static slots(period: number): number {
    return period + 3;
  }

  private readonly f: Float64Array;
  private readonly o: number;
  private readonly sumAt: number;
  private pos = 0;
  private count = 0;

  constructor(
    readonly period = 20,
    readonly k = 2,
    storage?: Float64Array,
    offset = 0,
  ) {
    assertPeriod(period, 'Bollinger');
    if (!Number.isFinite(k) || k <= 0) throw new RangeError(`Bollinger k must be a positive number, got ${k}`);
    const block = place(this, BollingerBands.slots(period), storage, offset, 'Bollinger');
    this.f = block.f;
    this.o = block.offset;
    this.sumAt = this.o + period;
  }

  get requiredInputs(): number {
    return this.period;
  }

  get isStable(): boolean {
    return this.count >= this.period;
  }

  /** Non-allocating update for hot paths; read the bands with the getters. */
  push(x: number): boolean {
    const f = this.f;
    const p = this.period;
    const pos = this.pos;
    const at = this.sumAt;
    const slot = this.o + pos;
    const sum0 = f[at] as number;
    const comp0 = f[at + 1] as number;
    let t = sum0 + x;
    let comp = comp0 + sumError(sum0, x, t);
    let sum = t;
    if (this.count >= p) {
      const old = f[slot] as number;
      t = sum - old;
      comp += sumError(sum, -old, t);
      sum = t;
      f[at] = sum;
      f[at + 1] = comp;
      f[slot] = x;
      if (pos + 1 === p) {
        this.pos = 0;
        f[at + 2] = this.exactM2();
      } else {
        this.pos = pos + 1;
        f[at + 2] = (f[at + 2] as number) + (x - old) * (x - (sum + comp) / p + old - (sum0 + comp0) / p);
      }
      return true;
    }
    f[at] = sum;
    f[at + 1] = comp;
    f[slot] = x;
    this.pos = pos + 1 === p ? 0 : pos + 1;
    if (++this.count === p) f[at + 2] = this.exactM2();
    return this.count >= p;
  }

  private exactM2(): number {
    const p = this.period;
    const f = this.f;
    const o = this.o;
    const mean = ((f[this.sumAt] as number) + (f[this.sumAt + 1] as number)) / p;
    let m2 = 0;
    for (let i = 0; i < p; i++) {
      const d = (f[o + i] as number) - mean;
      m2 += d * d;
    }
    return m2;
  }

  update(x: number): BollingerBandsResult | null {
    return this.push(x) ? this.getResult() : null;
  }

  /** The middle band (the window's mean); meaningful once stable. */
  get middle(): number {
    return ((this.f[this.sumAt] as number) + (this.f[this.sumAt + 1] as number)) / this.period;
  }

  get stdDev(): number {
    const m2 = this.f[this.sumAt + 2] as number;
    // The O(1) update can round a zero variance to a hair below zero.
    return Math.sqrt((m2 > 0 ? m2 : 0) / this.period);
  }

  getResult(): BollingerBandsResult | null {
    if (this.count < this.period) return null;
    const middle = this.middle;
    const w = this.k * this.stdDev;
    return { upper: middle + w, middle, lower: middle - w };
  }

  getState(): BollingerState {
    const f = this.f;
    return {
      period: this.period,
      k: this.k,
      buf: Array.from(f.subarray(this.o, this.o + this.count)),
      pos: this.pos,
      sum: f[this.sumAt] as number,
      comp: f[this.sumAt + 1] as number,
      m2: f[this.sumAt + 2] as number,
    };
  }

  restoreState(state: unknown, path = 'bb'): void {
    const o = readObject(state, path);
    expectPeriod(o, path, this.period);
    const k = readFinite(o, 'k', path);
    if (k !== this.k) throw new CorruptSnapshotError(`${path}.k`, `expected ${this.k}, got ${k}`);
    const r = readRing(o, path, this.period);
    const sum = readFinite(o, 'sum', path);
    const comp = readFinite(o, 'comp', path);
    const m2 = readFinite(o, 'm2', path);
    this.f.set(r.buf, this.o);
    this.count = r.buf.length;
    this.pos = r.pos;
    this.f[this.sumAt] = sum;
    this.f[this.sumAt + 1] = comp;
    this.f[this.sumAt + 2] = m2;
  }

  static fromState(state: unknown, path = 'bb'): BollingerBands {
    const o = readObject(state, path);
    const period = readInt(o, 'period', path, 1, 10_000);
    const k = readFinite(o, 'k', path);
    let bb: BollingerBands;
    try {
      bb = new BollingerBands(period, k);
    } catch (err) {
      throw new CorruptSnapshotError(path, (err as Error).message);
    }
    bb.restoreState(state, path);
    return bb;
  }
}
