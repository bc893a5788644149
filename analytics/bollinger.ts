import type { Indicator } from './indicator';
import { assertPeriod } from './indicator';
import { sumError } from './numeric';
import { readFinite, readInt, readObject } from './snapshot';
import { restoreRing } from './sma';
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
 * second 20-slot window (half the state, one less buffer write per tick).
 *
 * The sum of squared deviations is updated in O(1) with the sliding-window
 * Welford step, and recomputed exactly from the ring every time the ring
 * wraps: amortized O(1), and its rounding error can never build up over more
 * than one window. The naive E[x²] − mean² would cancel catastrophically for
 * a $600,000 share moving by cents.
 */
export class BollingerBands implements Indicator<BollingerBandsResult, BollingerState> {
  private readonly buf: Float64Array;
  private pos = 0;
  private count = 0;
  private sum = 0;
  private comp = 0;
  private m2 = 0;

  constructor(
    readonly period = 20,
    readonly k = 2,
  ) {
    assertPeriod(period, 'Bollinger');
    if (!Number.isFinite(k) || k <= 0) throw new RangeError(`Bollinger k must be a positive number, got ${k}`);
    this.buf = new Float64Array(period);
  }

  get requiredInputs(): number {
    return this.period;
  }

  get isStable(): boolean {
    return this.count >= this.period;
  }

  /** Non-allocating update for hot paths; read the bands with the getters. */
  push(x: number): boolean {
    const p = this.period;
    const pos = this.pos;
    const buf = this.buf;
    let sum = this.sum;
    let t = sum + x;
    let comp = this.comp + sumError(sum, x, t);
    sum = t;
    if (this.count >= p) {
      const old = buf[pos] as number;
      const oldMean = (this.sum + this.comp) / p;
      t = sum - old;
      comp += sumError(sum, -old, t);
      this.sum = t;
      this.comp = comp;
      buf[pos] = x;
      if (pos + 1 === p) {
        this.pos = 0;
        this.m2 = this.exactM2();
      } else {
        this.pos = pos + 1;
        this.m2 += (x - old) * (x - (t + comp) / p + old - oldMean);
      }
      return true;
    }
    this.sum = sum;
    this.comp = comp;
    buf[pos] = x;
    this.pos = pos + 1 === p ? 0 : pos + 1;
    if (++this.count === p) this.m2 = this.exactM2();
    return this.count >= p;
  }

  private exactM2(): number {
    const p = this.period;
    const mean = (this.sum + this.comp) / p;
    const buf = this.buf;
    let m2 = 0;
    for (let i = 0; i < p; i++) {
      const d = (buf[i] as number) - mean;
      m2 += d * d;
    }
    return m2;
  }

  update(x: number): BollingerBandsResult | null {
    return this.push(x) ? this.getResult() : null;
  }

  get middle(): number {
    return (this.sum + this.comp) / this.period;
  }

  get stdDev(): number {
    return Math.sqrt((this.m2 > 0 ? this.m2 : 0) / this.period);
  }

  get upper(): number {
    return this.middle + this.k * this.stdDev;
  }

  get lower(): number {
    return this.middle - this.k * this.stdDev;
  }

  getResult(): BollingerBandsResult | null {
    if (this.count < this.period) return null;
    const middle = this.middle;
    const w = this.k * this.stdDev;
    return { upper: middle + w, middle, lower: middle - w };
  }

  getState(): BollingerState {
    return {
      period: this.period,
      k: this.k,
      buf: Array.from(this.buf.subarray(0, this.count)),
      pos: this.pos,
      sum: this.sum,
      comp: this.comp,
      m2: this.m2,
    };
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
    restoreRing(o, path, period, bb.buf, (count, pos) => {
      bb.count = count;
      bb.pos = pos;
    });
    bb.sum = readFinite(o, 'sum', path);
    bb.comp = readFinite(o, 'comp', path);
    bb.m2 = readFinite(o, 'm2', path);
    return bb;
  }
}
