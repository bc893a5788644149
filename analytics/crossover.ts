import type { Signal } from '../shared/enriched';
import { CorruptSnapshotError } from './errors';
import type { IndicatorBase } from './indicator';
import { assertPeriod } from './indicator';
import { sumError } from './numeric';
import { readFinite, readInt, readObject } from './snapshot';
import { expectPeriod, readRing } from './ring-window';
import { place } from './storage';

/** Which side of the long SMA the short one is on: 1 above, -1 below, 0 not yet known. */
export type CrossSide = -1 | 0 | 1;

/**
 * The crossover regime after one more pair of averages, with hysteresis: the
 * side changes only once `short` is beyond `long` by more than
 * `long * gapFraction`, so a flat market inside the gap cannot flap. Inside
 * the gap (or at exact equality with no gap) the previous side stands.
 * A BUY/SELL is a change from a known side to the other one; the first side
 * seen only sets the regime. The analyzer and SmaCrossover both decide here.
 */
export function crossSide(side: CrossSide, short: number, long: number, gapFraction: number): CrossSide {
  const gap = long * gapFraction;
  const diff = short - long;
  return diff > gap ? 1 : diff < -gap ? -1 : side;
}

export interface SmaCrossoverState {
  shortPeriod: number;
  longPeriod: number;
  /** Raw ring of the long window, index 0 = slot 0; length = inputs seen, capped at longPeriod. */
  buf: number[];
  pos: number;
  sumShort: number;
  compShort: number;
  sumLong: number;
  compLong: number;
  side: CrossSide;
}

export interface SmaCrossoverResult {
  short: number;
  long: number;
  side: CrossSide;
}

/**
 * SMA-short and SMA-long of one series plus the crossover signal, as one
 * indicator. The short window is always the newest `shortPeriod` values of
 * the long one, so both read one ring: the value leaving the short window is
 * `shortPeriod` slots behind the write position. That is one ring write per
 * tick instead of two, and 24 numbers of state (for 5/20) instead of 29.
 *
 * Each average is the same compensated running sum as `SMA`, with the same
 * operations in the same order, so `short`/`long` are bit-identical to
 * `new SMA(shortPeriod)`/`new SMA(longPeriod)` fed the same prices (tested),
 * and the signals equal the analyzer's rule (`crossSide`) applied to them.
 *
 * Layout in its slots: sumShort, compShort, sumLong, compLong, ring[0..longPeriod).
 */
export class SmaCrossover implements IndicatorBase<SmaCrossoverResult, SmaCrossoverState> {
  static slots(longPeriod: number): number {
    return longPeriod + 4;
  }

  private readonly f: Float64Array;
  private readonly o: number;
  private readonly gapFraction: number;
  private pos = 0;
  private count = 0;
  private sideNow: CrossSide = 0;

  constructor(
    readonly shortPeriod = 5,
    readonly longPeriod = 20,
    /** Minimum gap, in % of the long SMA, for a side change (the analyzer's `crossoverMinGapPct`). */
    readonly gapPct = 0,
    storage?: Float64Array,
    offset = 0,
  ) {
    assertPeriod(shortPeriod, 'SmaCrossover short');
    assertPeriod(longPeriod, 'SmaCrossover long');
    if (shortPeriod >= longPeriod) throw new RangeError(`SmaCrossover short period must be below the long one, got ${shortPeriod} and ${longPeriod}`);
    if (!Number.isFinite(gapPct) || gapPct < 0) throw new RangeError(`SmaCrossover gap must be a non-negative percentage, got ${gapPct}`);
    this.gapFraction = gapPct / 100;
    const block = place(this, SmaCrossover.slots(longPeriod), storage, offset, 'SmaCrossover');
    this.f = block.f;
    this.o = block.offset;
  }

  get requiredInputs(): number {
    return this.longPeriod;
  }

  get isStable(): boolean {
    return this.count >= this.longPeriod;
  }

  get side(): CrossSide {
    return this.sideNow;
  }

  /** SMA-short, null until `shortPeriod` inputs. */
  get short(): number | null {
    return this.count >= this.shortPeriod ? ((this.f[this.o] as number) + (this.f[this.o + 1] as number)) / this.shortPeriod : null;
  }

  /** SMA-long, null until `longPeriod` inputs. */
  get long(): number | null {
    return this.count >= this.longPeriod ? ((this.f[this.o + 2] as number) + (this.f[this.o + 3] as number)) / this.longPeriod : null;
  }

  /** Feed one price; the signal it fires, if any. Never fires before both windows are full. */
  update(x: number): Signal | null {
    const f = this.f;
    const o = this.o;
    const sp = this.shortPeriod;
    const lp = this.longPeriod;
    const pos = this.pos;
    // The values leaving each window. While a window is still filling, its
    // slot has never been written and holds +0, and subtracting 0 (with its
    // error term, 0) leaves sum and comp exactly as they were: the same bits
    // as SMA, which skips the subtraction then. One branch-free path for
    // warm-up and steady state keeps this small enough for V8 to inline
    // wherever it is called, whatever it saw first (with a separate warm-up
    // branch the optimised code depended on the order of calls, 20-105 ms).
    const oldShort = -(f[o + 4 + (pos >= sp ? pos - sp : pos - sp + lp)] as number);
    const oldLong = -(f[o + 4 + pos] as number);
    let s = f[o] as number;
    let t = s + x;
    let c = (f[o + 1] as number) + sumError(s, x, t);
    s = t;
    t = s + oldShort;
    c += sumError(s, oldShort, t);
    s = t;
    let l = f[o + 2] as number;
    let u = l + x;
    let d = (f[o + 3] as number) + sumError(l, x, u);
    l = u;
    u = l + oldLong;
    d += sumError(l, oldLong, u);
    l = u;
    f[o] = s;
    f[o + 1] = c;
    f[o + 2] = l;
    f[o + 3] = d;
    f[o + 4 + pos] = x;
    this.pos = pos + 1 === lp ? 0 : pos + 1;
    if (this.count < lp && ++this.count < lp) return null;
    const prev = this.sideNow;
    const next = crossSide(prev, (s + c) / sp, (l + d) / lp, this.gapFraction);
    if (next === prev) return null;
    this.sideNow = next;
    return prev === 0 ? null : next === 1 ? 'BUY' : 'SELL';
  }

  getResult(): SmaCrossoverResult | null {
    const short = this.short;
    const long = this.long;
    return short === null || long === null ? null : { short, long, side: this.sideNow };
  }

  getState(): SmaCrossoverState {
    const f = this.f;
    const o = this.o;
    return {
      shortPeriod: this.shortPeriod,
      longPeriod: this.longPeriod,
      buf: Array.from(f.subarray(o + 4, o + 4 + this.count)),
      pos: this.pos,
      sumShort: f[o] as number,
      compShort: f[o + 1] as number,
      sumLong: f[o + 2] as number,
      compLong: f[o + 3] as number,
      side: this.sideNow,
    };
  }

  /** Overwrite this instance's state with a snapshot of a crossover of the same periods. */
  restoreState(state: unknown, path = 'crossover'): void {
    const o = readObject(state, path);
    expectPeriod(o, path, this.shortPeriod, 'shortPeriod');
    expectPeriod(o, path, this.longPeriod, 'longPeriod');
    const r = readRing(o, path, this.longPeriod);
    const sums = [readFinite(o, 'sumShort', path), readFinite(o, 'compShort', path), readFinite(o, 'sumLong', path), readFinite(o, 'compLong', path)];
    const side = readInt(o, 'side', path, -1, 1) as CrossSide;
    if (side !== 0 && r.buf.length < this.longPeriod) throw new CorruptSnapshotError(`${path}.side`, `a side (${side}) before the long window is full (${r.buf.length}/${this.longPeriod})`);
    this.f.set(sums, this.o);
    this.f.fill(0, this.o + 4, this.o + 4 + this.longPeriod);
    this.f.set(r.buf, this.o + 4);
    this.count = r.buf.length;
    this.pos = r.pos;
    this.sideNow = side;
  }

  static fromState(state: unknown, gapPct = 0, path = 'crossover'): SmaCrossover {
    const o = readObject(state, path);
    const shortPeriod = readInt(o, 'shortPeriod', path, 1, 9_999);
    const longPeriod = readInt(o, 'longPeriod', path, 2, 10_000);
    if (shortPeriod >= longPeriod) throw new CorruptSnapshotError(`${path}.shortPeriod`, `expected below longPeriod (${longPeriod}), got ${shortPeriod}`);
    const c = new SmaCrossover(shortPeriod, longPeriod, gapPct);
    c.restoreState(state, path);
    return c;
  }
}
