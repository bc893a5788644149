import { CorruptSnapshotError } from './errors';
import type { Indicator } from './indicator';
import { assertPeriod } from './indicator';
import { sumError } from './numeric';
import { readFinite, readFiniteArray, readInt, readObject } from './snapshot';

export interface SmaState {
  period: number;
  /** Raw ring contents, index 0 = slot 0 (not oldest-first); length = inputs seen, capped at period. */
  buf: number[];
  pos: number;
  sum: number;
  comp: number;
}

/**
 * Simple moving average in O(1) per update: a Float64Array ring and a
 * compensated running sum. trading-signals re-sums its window on every update
 * (O(period)); a plain running sum would be O(1) but drifts.
 */
export class SMA implements Indicator<number, SmaState> {
  private readonly buf: Float64Array;
  private pos = 0;
  private count = 0;
  private sum = 0;
  private comp = 0;

  constructor(readonly period: number) {
    assertPeriod(period, 'SMA');
    this.buf = new Float64Array(period);
  }

  get requiredInputs(): number {
    return this.period;
  }

  get isStable(): boolean {
    return this.count >= this.period;
  }

  update(x: number): number | null {
    const p = this.period;
    const pos = this.pos;
    let sum = this.sum;
    let t = sum + x;
    let comp = this.comp + sumError(sum, x, t);
    sum = t;
    if (this.count >= p) {
      const old = -(this.buf[pos] as number);
      t = sum + old;
      comp += sumError(sum, old, t);
      sum = t;
    } else {
      this.count++;
    }
    this.sum = sum;
    this.comp = comp;
    this.buf[pos] = x;
    this.pos = pos + 1 === p ? 0 : pos + 1;
    return this.count >= p ? (sum + comp) / p : null;
  }

  getResult(): number | null {
    return this.count >= this.period ? (this.sum + this.comp) / this.period : null;
  }

  getState(): SmaState {
    return {
      period: this.period,
      buf: Array.from(this.buf.subarray(0, this.count)),
      pos: this.pos,
      sum: this.sum,
      comp: this.comp,
    };
  }

  static fromState(state: unknown, path = 'sma'): SMA {
    const o = readObject(state, path);
    const period = readInt(o, 'period', path, 1, 10_000);
    const sma = new SMA(period);
    restoreRing(o, path, period, sma.buf, (count, pos) => {
      sma.count = count;
      sma.pos = pos;
    });
    sma.sum = readFinite(o, 'sum', path);
    sma.comp = readFinite(o, 'comp', path);
    return sma;
  }
}

/** Shared by every ring-buffer indicator: checks that `buf` and `pos` agree. */
export function restoreRing(
  o: Record<string, unknown>,
  path: string,
  period: number,
  into: Float64Array,
  set: (count: number, pos: number) => void,
): void {
  const buf = readFiniteArray(o, 'buf', path, period);
  const pos = readInt(o, 'pos', path, 0, period - 1);
  if (buf.length < period && pos !== buf.length) throw new CorruptSnapshotError(`${path}.pos`, `ring not yet full (${buf.length}/${period}) but pos is ${pos}`);
  into.set(buf);
  set(buf.length, pos);
}
