import type { Indicator } from './indicator';
import { assertPeriod } from './indicator';
import { readFiniteOrNull, readInt, readObject } from './snapshot';
import { CorruptSnapshotError } from './errors';

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
 */
export class EMA implements Indicator<number, EmaState> {
  private readonly k: number;
  private n = 0;
  private value = 0;

  constructor(readonly period: number) {
    assertPeriod(period, 'EMA');
    this.k = 2 / (period + 1);
  }

  get requiredInputs(): number {
    return this.period;
  }

  get isStable(): boolean {
    return this.n >= this.period;
  }

  update(x: number): number | null {
    if (this.n === 0) this.value = x;
    else this.value += this.k * (x - this.value);
    if (this.n < this.period) this.n++;
    return this.n >= this.period ? this.value : null;
  }

  getResult(): number | null {
    return this.n >= this.period ? this.value : null;
  }

  getState(): EmaState {
    return { period: this.period, n: this.n, value: this.n === 0 ? null : this.value };
  }

  static fromState(state: unknown, path = 'ema'): EMA {
    const o = readObject(state, path);
    const period = readInt(o, 'period', path, 1, 10_000);
    const ema = new EMA(period);
    ema.n = readInt(o, 'n', path, 0, period);
    const value = readFiniteOrNull(o, 'value', path);
    if ((value === null) !== (ema.n === 0)) throw new CorruptSnapshotError(`${path}.value`, 'must be null exactly when n is 0');
    ema.value = value ?? 0;
    return ema;
  }
}
