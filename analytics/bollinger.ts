import type { Indicator } from './indicator';
import { readFinite, readInt, readObject } from './snapshot';
import { RingWindow, type RingWindowState } from './ring-window';
import { CorruptSnapshotError } from './errors';

export interface BollingerBandsResult {
  upper: number;
  middle: number;
  lower: number;
}

export interface BollingerState extends RingWindowState {
  k: number;
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
 * Layout in its slots: ring[0..period), sum, comp (the ring window's,
 * ring-window.ts), m2.
 */
export class BollingerBands extends RingWindow implements Indicator<BollingerBandsResult, BollingerState> {
  static slots(period: number): number {
    return period + 3;
  }

  constructor(
    period = 20,
    readonly k = 2,
    storage?: Float64Array,
    offset = 0,
  ) {
    super(period, 1, 'Bollinger', storage, offset);
    if (!Number.isFinite(k) || k <= 0) throw new RangeError(`Bollinger k must be a positive number, got ${k}`);
  }

  /** Non-allocating update for hot paths; read the bands with the getters. */
  push(x: number): boolean {
    const p = this.period;
    const m2At = this.sumAt + 2;
    if (this.count >= p) {
      const f = this.f;
      const old = f[this.o + this.pos] as number; // the input this slide drops
      const meanBefore = this.mean;
      this.slide(x);
      // The ring wrapped: recompute exactly, so rounding never outlives a window.
      f[m2At] = this.pos === 0 ? this.exactM2() : (f[m2At] as number) + (x - old) * (x - this.mean + old - meanBefore);
      return true;
    }
    this.slide(x);
    if (this.count === p) this.f[m2At] = this.exactM2();
    return this.count >= p;
  }

  private exactM2(): number {
    const p = this.period;
    const f = this.f;
    const o = this.o;
    const mean = this.mean;
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
    return this.mean;
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
    const r = this.ringState();
    // the field order of snapshots written before the ring window was shared
    return { period: r.period, k: this.k, buf: r.buf, pos: r.pos, sum: r.sum, comp: r.comp, m2: this.f[this.sumAt + 2] as number };
  }

  restoreState(state: unknown, path = 'bb'): void {
    const r = this.readRingState(state, path);
    const k = readFinite(r.o, 'k', path);
    if (k !== this.k) throw new CorruptSnapshotError(`${path}.k`, `expected ${this.k}, got ${k}`);
    const m2 = readFinite(r.o, 'm2', path);
    this.loadRing(r);
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
