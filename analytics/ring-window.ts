import { CorruptSnapshotError } from './errors';
import { assertPeriod } from './indicator';
import { sumError } from './numeric';
import { readFinite, readFiniteArray, readInt, readObject } from './snapshot';
import { place } from './storage';

/** What every ring window's snapshot holds; subclasses add their own fields. */
export interface RingWindowState {
  period: number;
  /** Raw ring contents, index 0 = slot 0 (not oldest-first); length = inputs seen, capped at period. */
  buf: number[];
  pos: number;
  sum: number;
  comp: number;
}

/**
 * The last `period` inputs in a ring buffer and their compensated (Neumaier)
 * running sum, updated in O(1): the window that SMA and Bollinger bands
 * share. A plain running sum would drift; trading-signals re-sums its window
 * on every update (O(period)).
 *
 * Layout in its slots: ring[0..period), sum, comp, then `extraSlots` of the
 * subclass's own (Bollinger keeps its sum of squared deviations there).
 */
export abstract class RingWindow {
  protected readonly f: Float64Array;
  protected readonly o: number;
  /** Where the sum is; the compensation term follows it, then the extra slots. */
  protected readonly sumAt: number;
  protected pos = 0;
  protected count = 0;

  protected constructor(
    readonly period: number,
    extraSlots: number,
    name: string,
    storage: Float64Array | undefined,
    offset: number,
  ) {
    assertPeriod(period, name);
    const block = place(this, period + 2 + extraSlots, storage, offset, name);
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

  /** The window's mean; meaningful once stable. */
  protected get mean(): number {
    return ((this.f[this.sumAt] as number) + (this.f[this.sumAt + 1] as number)) / this.period;
  }

  /**
   * Adds `x` and, once the window is full, drops its oldest input (the one
   * in slot `pos`: read it before sliding if you need it). Returns nothing:
   * a returned "dropped input or NaN" made every caller pay for a value only
   * Bollinger reads (measured with bench:core's full set).
   */
  protected slide(x: number): void {
    const f = this.f;
    const p = this.period;
    const pos = this.pos;
    const at = this.sumAt;
    const slot = this.o + pos;
    let sum = f[at] as number;
    let t = sum + x;
    let comp = (f[at + 1] as number) + sumError(sum, x, t);
    sum = t;
    if (this.count >= p) {
      const old = f[slot] as number;
      t = sum - old;
      comp += sumError(sum, -old, t);
      sum = t;
    } else {
      this.count++;
    }
    f[at] = sum;
    f[at + 1] = comp;
    f[slot] = x;
    this.pos = pos + 1 === p ? 0 : pos + 1;
  }

  protected ringState(): RingWindowState {
    return {
      period: this.period,
      buf: Array.from(this.f.subarray(this.o, this.o + this.count)),
      pos: this.pos,
      sum: this.f[this.sumAt] as number,
      comp: this.f[this.sumAt + 1] as number,
    };
  }

  /**
   * Validates the ring part of a snapshot without touching this window, so
   * a snapshot that fails a later check leaves the instance as it was.
   */
  protected readRingState(state: unknown, path: string): RingWindowState & { o: Record<string, unknown> } {
    const o = readObject(state, path);
    expectPeriod(o, path, this.period);
    const { buf, pos } = readRing(o, path, this.period);
    return { o, period: this.period, buf, pos, sum: readFinite(o, 'sum', path), comp: readFinite(o, 'comp', path) };
  }

  protected loadRing(r: RingWindowState): void {
    this.f.set(r.buf, this.o);
    this.count = r.buf.length;
    this.pos = r.pos;
    this.f[this.sumAt] = r.sum;
    this.f[this.sumAt + 1] = r.comp;
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
