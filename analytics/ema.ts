import type { Indicator } from './indicator';
import { assertPeriod } from './indicator';
import { readFiniteOrNull, readInt, readObject } from './snapshot';
import { CorruptSnapshotError } from './errors';
import { expectPeriod } from './ring-window';
import { orNull } from './numeric';
import { place } from './storage';

export interface EmaState {
  period: number;
  /** Inputs seen, capped at period (only stability depends on it). */
  n: number;
  value: number | null;
}

/**
 * Exponential moving average, k = 2 / (period + 1).
 *
 * Seeded with the first input (not with the SMA of the first `period`
 * inputs), exactly as trading-signals and pandas `ewm(adjust=False)` do, and
 * reported only once `period` inputs have been seen. The two seedings differ
 * by (1-k)^n, about 0.2 % of the seed gap after 3×12 inputs, so matching the
 * reference's choice is what makes a 1e-9 comparison meaningful.
 *
 * Layout in its slots: value.
 */
export class EMA implements Indicator<number, EmaState> {
  static slots(): number {
    return 1;
  }

  private readonly k: number;
  private readonly f: Float64Array;
  private readonly o: number;
  private n = 0;

  constructor(
    readonly period: number,
    storage?: Float64Array,
    offset = 0,
  ) {
    assertPeriod(period, 'EMA');
    this.k = 2 / (period + 1);
    const block = place(this, EMA.slots(), storage, offset, 'EMA');
    this.f = block.f;
    this.o = block.offset;
  }

  get requiredInputs(): number {
    return this.period;
  }

  get isStable(): boolean {
    return this.n >= this.period;
  }

  /** The hot path's update: the new value, NaN during warm-up (numeric.ts, orNull). */
  step(x: number): number {
    const f = this.f;
    const o = this.o;
    let value: number;
    if (this.n === 0) value = x;
    else {
      value = f[o] as number;
      value += this.k * (x - value);
    }
    f[o] = value;
    if (this.n < this.period) this.n++;
    return this.n >= this.period ? value : NaN;
  }

  update(x: number): number | null {
    return orNull(this.step(x));
  }

  getResult(): number | null {
    return this.n >= this.period ? (this.f[this.o] as number) : null;
  }

  getState(): EmaState {
    return { period: this.period, n: this.n, value: this.n === 0 ? null : (this.f[this.o] as number) };
  }

  restoreState(state: unknown, path = 'ema'): void {
    const o = readObject(state, path);
    expectPeriod(o, path, this.period);
    const n = readInt(o, 'n', path, 0, this.period);
    const value = readFiniteOrNull(o, 'value', path);
    if ((value === null) !== (n === 0)) throw new CorruptSnapshotError(`${path}.value`, 'must be null exactly when n is 0');
    this.n = n;
    this.f[this.o] = value ?? 0;
  }

  static fromState(state: unknown, path = 'ema'): EMA {
    const ema = new EMA(readInt(readObject(state, path), 'period', path, 1, 10_000));
    ema.restoreState(state, path);
    return ema;
  }
}
