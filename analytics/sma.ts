import type { Indicator } from './indicator';
import { orNull } from './numeric';
import { readInt, readObject } from './snapshot';
import { RingWindow, type RingWindowState } from './ring-window';

export type SmaState = RingWindowState;

/**
 * Simple moving average in O(1) per update over a ring window (ring-window.ts:
 * the ring buffer and its compensated running sum).
 *
 * Layout in its slots: ring[0..period), sum, comp.
 */
export class SMA extends RingWindow implements Indicator<number, SmaState> {
  static slots(period: number): number {
    return period + 2;
  }

  constructor(period: number, storage?: Float64Array, offset = 0) {
    super(period, 0, 'SMA', storage, offset);
  }

  /** The hot path's update: the new average, NaN during warm-up (numeric.ts, orNull). */
  step(x: number): number {
    this.slide(x);
    return this.value;
  }

  /** The average, NaN during warm-up. */
  get value(): number {
    return this.count >= this.period ? this.mean : NaN;
  }

  update(x: number): number | null {
    return orNull(this.step(x));
  }

  getResult(): number | null {
    return orNull(this.value);
  }

  getState(): SmaState {
    return this.ringState();
  }

  /** Overwrite this instance's state with a snapshot of an SMA of the same period. */
  restoreState(state: unknown, path = 'sma'): void {
    this.loadRing(this.readRingState(state, path));
  }

  static fromState(state: unknown, path = 'sma'): SMA {
    const sma = new SMA(readInt(readObject(state, path), 'period', path, 1, 10_000));
    sma.restoreState(state, path);
    return sma;
  }
}
