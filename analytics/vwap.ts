import type { IndicatorBase } from './indicator';
import { sumError } from './numeric';
import { readFinite, readInt, readObject } from './snapshot';

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
 * report none).
 */
export class SessionVWAP implements IndicatorBase<number, VwapState> {
  private day = -1;
  private pv = 0;
  private pvComp = 0;
  private v = 0;
  private vComp = 0;

  readonly requiredInputs = 1;

  get isStable(): boolean {
    return this.v + this.vComp > 0;
  }

  update(price: number, volume: number, tsMs: number): number | null {
    const day = Math.floor(tsMs / MS_PER_DAY);
    if (day !== this.day) {
      this.day = day;
      this.pv = 0;
      this.pvComp = 0;
      this.v = 0;
      this.vComp = 0;
    }
    const x = price * volume;
    let t = this.pv + x;
    this.pvComp += sumError(this.pv, x, t);
    this.pv = t;
    t = this.v + volume;
    this.vComp += sumError(this.v, volume, t);
    this.v = t;
    return this.getResult();
  }

  getResult(): number | null {
    const v = this.v + this.vComp;
    return v > 0 ? (this.pv + this.pvComp) / v : null;
  }

  getState(): VwapState {
    return { day: this.day, pv: this.pv, pvComp: this.pvComp, v: this.v, vComp: this.vComp };
  }

  static fromState(state: unknown, path = 'vwap'): SessionVWAP {
    const o = readObject(state, path);
    const vw = new SessionVWAP();
    vw.day = readInt(o, 'day', path, -1, 10_000_000);
    vw.pv = readFinite(o, 'pv', path);
    vw.pvComp = readFinite(o, 'pvComp', path);
    vw.v = readFinite(o, 'v', path);
    vw.vComp = readFinite(o, 'vComp', path);
    return vw;
  }
}
