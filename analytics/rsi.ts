import type { Indicator } from './indicator';
import { assertPeriod } from './indicator';
import { readFinite, readFiniteOrNull, readInt, readObject } from './snapshot';
import { CorruptSnapshotError } from './errors';

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
 */
export class RSI implements Indicator<number, RsiState> {
  private prev = 0;
  private hasPrev = false;
  private n = 0;
  private gain = 0;
  private loss = 0;

  constructor(readonly period: number) {
    assertPeriod(period, 'RSI');
  }

  get requiredInputs(): number {
    return this.period + 1;
  }

  get isStable(): boolean {
    return this.n >= this.period;
  }

  update(x: number): number | null {
    if (!this.hasPrev) {
      this.hasPrev = true;
      this.prev = x;
      return null;
    }
    const d = x - this.prev;
    this.prev = x;
    const g = d > 0 ? d : 0;
    const l = d > 0 ? 0 : -d;
    const p = this.period;
    if (this.n >= p) {
      this.gain += (g - this.gain) / p;
      this.loss += (l - this.loss) / p;
    } else {
      this.gain += g;
      this.loss += l;
      if (++this.n === p) {
        this.gain /= p;
        this.loss /= p;
      } else {
        return null;
      }
    }
    return this.loss === 0 ? 100 : 100 - 100 / (1 + this.gain / this.loss);
  }

  getResult(): number | null {
    if (this.n < this.period) return null;
    return this.loss === 0 ? 100 : 100 - 100 / (1 + this.gain / this.loss);
  }

  getState(): RsiState {
    return { period: this.period, prev: this.hasPrev ? this.prev : null, n: this.n, gain: this.gain, loss: this.loss };
  }

  static fromState(state: unknown, path = 'rsi'): RSI {
    const o = readObject(state, path);
    const period = readInt(o, 'period', path, 1, 10_000);
    const rsi = new RSI(period);
    const prev = readFiniteOrNull(o, 'prev', path);
    rsi.hasPrev = prev !== null;
    rsi.prev = prev ?? 0;
    rsi.n = readInt(o, 'n', path, 0, period);
    if (prev === null && rsi.n !== 0) throw new CorruptSnapshotError(`${path}.prev`, 'null although changes were counted');
    rsi.gain = readFinite(o, 'gain', path);
    rsi.loss = readFinite(o, 'loss', path);
    if (rsi.gain < 0 || rsi.loss < 0) throw new CorruptSnapshotError(path, 'negative average gain or loss');
    return rsi;
  }
}
