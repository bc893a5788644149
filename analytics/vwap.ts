import type { IndicatorBase } from './indicator';
import { sumError } from './numeric';
import { readFinite, readInt, readObject } from './snapshot';
import { place } from './storage';

export interface VwapState {
  /** UTC day number (epoch ms / 86,400,000) of the current session; -1 before the first tick. */
  day: number;
  pv: number;
  pvComp: number;
  v: number;
  vComp: number;
}

export const MS_PER_DAY = 86_400_000;

/**
 * Session VWAP = Σ price·volume / Σ volume since the session began.
 *
 * A session is a UTC calendar day of the tick's own `ts`. That is the lake's
 * `dt` partition too, so "today's VWAP" and "today's rows" agree. It is not
 * the exchange's trading day: a US session (09:30–16:00 New York) always sits
 * inside one UTC day, so regular hours are exact; pre-market before 00:00 UTC
 * does not exist for US listings, and post-market after 20:00 New York (00:00
 * UTC in winter) would start the next session early, which we accept. Markets
 * whose day crosses 00:00 UTC (Tokyo, Sydney) would be split; a session key
 * from the exchange calendar is the fix if we ever list them.
 *
 * Null until the session has seen non-zero volume (indices such as ^GSPC
 * report none). Both sums are compensated: a session can hold 10^5 ticks.
 *
 * Layout in its slots: pv, pvComp, v, vComp.
 */
export class SessionVWAP implements IndicatorBase<number, VwapState> {
  static slots(): number {
    return 4;
  }

  private readonly f: Float64Array;
  private readonly o: number;
  private day = -1;

  readonly requiredInputs = 1;

  constructor(storage?: Float64Array, offset = 0) {
    const block = place(this, SessionVWAP.slots(), storage, offset, 'SessionVWAP');
    this.f = block.f;
    this.o = block.offset;
  }

  get isStable(): boolean {
    return this.getResult() !== null;
  }

  /** `day` is the UTC day number of the tick (Math.floor(ts / MS_PER_DAY)); see vwapDay. */
  updateDay(price: number, volume: number, day: number): number | null {
    const f = this.f;
    const o = this.o;
    if (day !== this.day) {
      this.day = day;
      f[o] = 0;
      f[o + 1] = 0;
      f[o + 2] = 0;
      f[o + 3] = 0;
    }
    const x = price * volume;
    let s = f[o] as number;
    let t = s + x;
    const pvComp = (f[o + 1] as number) + sumError(s, x, t);
    const pv = t;
    s = f[o + 2] as number;
    t = s + volume;
    const vComp = (f[o + 3] as number) + sumError(s, volume, t);
    const v = t;
    f[o] = pv;
    f[o + 1] = pvComp;
    f[o + 2] = v;
    f[o + 3] = vComp;
    const vol = v + vComp;
    return vol > 0 ? (pv + pvComp) / vol : null;
  }

  update(price: number, volume: number, tsMs: number): number | null {
    return this.updateDay(price, volume, Math.floor(tsMs / MS_PER_DAY));
  }

  getResult(): number | null {
    const f = this.f;
    const o = this.o;
    const v = (f[o + 2] as number) + (f[o + 3] as number);
    return v > 0 ? ((f[o] as number) + (f[o + 1] as number)) / v : null;
  }

  getState(): VwapState {
    const f = this.f;
    const o = this.o;
    return { day: this.day, pv: f[o] as number, pvComp: f[o + 1] as number, v: f[o + 2] as number, vComp: f[o + 3] as number };
  }

  restoreState(state: unknown, path = 'vwap'): void {
    const o = readObject(state, path);
    const day = readInt(o, 'day', path, -1, 10_000_000);
    const pv = readFinite(o, 'pv', path);
    const pvComp = readFinite(o, 'pvComp', path);
    const v = readFinite(o, 'v', path);
    const vComp = readFinite(o, 'vComp', path);
    this.day = day;
    this.f[this.o] = pv;
    this.f[this.o + 1] = pvComp;
    this.f[this.o + 2] = v;
    this.f[this.o + 3] = vComp;
  }

  static fromState(state: unknown, path = 'vwap'): SessionVWAP {
    const vw = new SessionVWAP();
    vw.restoreState(state, path);
    return vw;
  }
}
