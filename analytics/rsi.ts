import type { Indicator } from './indicator';
import { assertPeriod } from './indicator';
import { readFinite, readFiniteOrNull, readInt, readObject } from './snapshot';
import { CorruptSnapshotError } from './errors';
import { expectPeriod } from './ring-window';
import { orNull } from './numeric';
import { place } from './storage';

export interface RsiState {
  period: number;
  prev: number | null;
  /** Price changes seen, capped at period. */
  n: number;
  /** Sums of gains/losses while n < period, Wilder averages after. */
  gain: number;
  loss: number;
}

/**
 * Wilder's RSI. The first average gain/loss is the simple mean of the first
 * `period` changes, then Wilder smoothing avg += (x - avg) / period; the
 * first value therefore needs period + 1 prices. This is the classic
 * definition and the one trading-signals (RSI over WSMA) implements; an
 * average loss of 0 reads 100, as there.
 *
 * Layout in its slots: prev, gain, loss.
 */
export class RSI implements Indicator<number, RsiState> {
  static slots(): number {
    return 3;
  }

  private readonly f: Float64Array;
  private readonly o: number;
  private hasPrev = false;
  private n = 0;

  constructor(
    readonly period: number,
    storage?: Float64Array,
    offset = 0,
  ) {
    assertPeriod(period, 'RSI');
    const block = place(this, RSI.slots(), storage, offset, 'RSI');
    this.f = block.f;
    this.o = block.offset;
  }

  get requiredInputs(): number {
    return this.period + 1;
  }

  get isStable(): boolean {
    return this.n >= this.period;
  }

  /** The hot path's update: the new RSI, NaN during warm-up (numeric.ts, orNull). */
  step(x: number): number {
    const f = this.f;
    const o = this.o;
    if (!this.hasPrev) {
      this.hasPrev = true;
      f[o] = x;
      return NaN;
    }
    const d = x - (f[o] as number);
    f[o] = x;
    const g = d > 0 ? d : 0;
    const l = d > 0 ? 0 : -d;
    const p = this.period;
    let gain = f[o + 1] as number;
    let loss = f[o + 2] as number;
    if (this.n >= p) {
      gain += (g - gain) / p;
      loss += (l - loss) / p;
    } else {
      gain += g;
      loss += l;
      if (++this.n === p) {
        gain /= p;
        loss /= p;
      }
    }
    f[o + 1] = gain;
    f[o + 2] = loss;
    if (this.n < p) return NaN;
    return loss === 0 ? 100 : 100 - 100 / (1 + gain / loss);
  }

  update(x: number): number | null {
    return orNull(this.step(x));
  }

  getResult(): number | null {
    if (this.n < this.period) return null;
    const gain = this.f[this.o + 1] as number;
    const loss = this.f[this.o + 2] as number;
    return loss === 0 ? 100 : 100 - 100 / (1 + gain / loss);
  }

  getState(): RsiState {
    const f = this.f;
    const o = this.o;
    return { period: this.period, prev: this.hasPrev ? (f[o] as number) : null, n: this.n, gain: f[o + 1] as number, loss: f[o + 2] as number };
  }

  restoreState(state: unknown, path = 'rsi'): void {
    const o = readObject(state, path);
    expectPeriod(o, path, this.period);
    const prev = readFiniteOrNull(o, 'prev', path);
    const n = readInt(o, 'n', path, 0, this.period);
    if (prev === null && n !== 0) throw new CorruptSnapshotError(`${path}.prev`, 'null although changes were counted');
    const gain = readFinite(o, 'gain', path);
    const loss = readFinite(o, 'loss', path);
    if (gain < 0 || loss < 0) throw new CorruptSnapshotError(path, 'negative average gain or loss');
    this.hasPrev = prev !== null;
    this.n = n;
    this.f[this.o] = prev ?? 0;
    this.f[this.o + 1] = gain;
    this.f[this.o + 2] = loss;
  }

  static fromState(state: unknown, path = 'rsi'): RSI {
    const rsi = new RSI(readInt(readObject(state, path), 'period', path, 1, 10_000));
    rsi.restoreState(state, path);
    return rsi;
  }
}
