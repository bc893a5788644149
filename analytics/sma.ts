import { CorruptSnapshotError } from './errors';
import type { Indicator } from './indicator';
import { assertPeriod } from './indicator';
import { sumError } from './numeric';
import { readFinite, readFiniteArray, readInt, readObject } from './snapshot';
import { place } from './storage';

export interface SmaState {
  period: number;
  /** Raw ring contents, index 0 = slot 0 (not oldest-first); length = inputs seen, capped at period. */
  buf: number[];
  pos: number;
  sum: number;
  comp: number;
}

/**
 * Simple moving average in O(1) per update: a ring buffer and a compensated
 * (Neumaier) running sum. trading-signals re-sums its window on every update
 * (O(period)); a plain running sum would be O(1) but drifts.
 *
 * Layout in its slots: ring[0..period), sum, comp.
 */
export class SMA implements Indicator<number, SmaState> {
  static slots(period: number): number {
    return period + 2;
  }

  private readonly f: Float64Array;
  private readonly o: number;
  private readonly sumAt: number;
  private pos = 0;
  private count = 0;

  constructor(
    readonly period: number,
    storage?: Float64Array,
    offset = 0,
  ) {
    assertPeriod(period, 'SMA');
    const block = place(this, SMA.slots(period), storage, offset, 'SMA');
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

  update(x: number): number | null {
    const f = this.f;
    const p = this.period;
    const pos = this.pos;
    const at = this.sumAt;
    let sum = f[at] as number;
    let t = sum + x;
    let comp = (f[at + 1] as number) + sumError(sum, x, t);
    sum = t;
    if (this.count >= p) {
      const old = -(f[this.o + pos] as number);
      t = sum + old;
      comp += sumError(sum, old, t);
      sum = t;
    } else {
      this.count++;
    }
    f[at] = sum;
    f[at + 1] = comp;
    f[this.o + pos] = x;
    this.pos = pos + 1 === p ? 0 : pos + 1;
    return this.count >= p ? (sum + comp) / p : null;
  }

  getResult(): number | null {
    return this.count >= this.period ? ((this.f[this.sumAt] as number) + (this.f[this.sumAt + 1] as number)) / this.period : null;
  }

  getState(): SmaState {
    return {
      period: this.period,
      buf: Array.from(this.f.subarray(this.o, this.o + this.count)),
      pos: this.pos,
      sum: this.f[this.sumAt] as number,
      comp: this.f[this.sumAt + 1] as number,
    };
  }

  /** Overwrite this instance's state with a snapshot of an SMA of the same period. */
  restoreState(state: unknown, path = 'sma'): void {
    const o = readObject(state, path);
    expectPeriod(o, path, this.period);
    const r = readRing(o, path, this.period);
    const sum = readFinite(o, 'sum', path);
    const comp = readFinite(o, 'comp', path);
    this.f.set(r.buf, this.o);
    this.count = r.buf.length;
    this.pos = r.pos;
    this.f[this.sumAt] = sum;
    this.f[this.sumAt + 1] = comp;
  }

  static fromState(state: unknown, path = 'sma'): SMA {
    const sma = new SMA(readInt(readObject(state, path), 'period', path, 1, 10_000));
    sma.restoreState(state, path);
    return sma;
  }
}

/** A snapshot of another period is not this indicator's: its slots would not even fit. */
export function expectPeriod(o: Record<string, unknown>, path: string, period: number, key = 'period'): void {
  if (o[key] !== period) throw new CorruptSnapshotError(`${path}.${key}`, `expected ${period}, got ${JSON.stringify(o[key])}`);
}

/** Shared by every ring-buffer indicator: checks that `buf` and `pos` agree. */
export function readRing(o: Record<string, unknown>, path: string, period: number): { buf: number[]; pos: number } {
  const buf = readFiniteArray(o, 'buf', path, period);
  const pos = readInt(o, 'pos', path, 0, period - 1);
  if (buf.length < period && pos !== buf.length) throw new CorruptSnapshotError(`${path}.pos`, `ring not yet full (${buf.length}/${period}) but pos is ${pos}`);
  return { buf, pos };
}
