import type { IndicatorBase } from './indicator';
import { MS_PER_DAY, tradingDate } from '../shared/trading-day';
import { orNull, sumError } from './numeric';
import { dtOf } from '../shared/enriched';
import { CorruptSnapshotError } from './errors';
import { readFinite, readInt, readObject, readString } from './snapshot';
import { place } from './storage';

export interface VwapState {
  /**
   * The trading day the sums belong to, as its date (YYYY-MM-DD); '' before
   * the first tick. A key the caller gives rather than a number derived from
   * ts here: which day a tick trades on is a calendar rule (today the UTC
   * date, the exchange's day once ticks carry it), and the sums must roll
   * over exactly when that rule says so, before and after a restore.
   */
  session: string;
  pv: number;
  pvComp: number;
  v: number;
  vComp: number;
}

export { MS_PER_DAY };
const SESSION = /^(\d{4}-\d{2}-\d{2})?$/;

/**
 * A v1 snapshot's session, a UTC day number (-1 before the first tick), as
 * the v2 key: the date of that UTC day, which is what the v2 code computes
 * for the same ticks, so a restored VWAP keeps its sums.
 */
export function sessionOfV1Day(o: Record<string, unknown>, path: string): string {
  const day = readInt(o, 'day', path, -1, 10_000_000);
  return day < 0 ? '' : dtOf(day * MS_PER_DAY);
}

/**
 * Session VWAP = Σ price·volume / Σ volume since the session began.
 *
 * A session is the tick's trading day (shared/trading-day.ts, the rule the
 * Yahoo volume reset and the replay's previous close use too): the date of
 * its `ts` in the exchange's time zone (tick v2 `tz`), or the UTC date for a
 * tick without one, which is then also the row's `dt`. So Tokyo or Sydney
 * sessions, which cross 00:00 UTC, are not split, and US post-market after
 * 00:00 UTC stays in its day. A US listing's regular hours fall on the same
 * date either way, so sessions saved under the UTC rule carry over.
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
  private session = '';

  readonly requiredInputs = 1;

  constructor(storage?: Float64Array, offset = 0) {
    const block = place(this, SessionVWAP.slots(), storage, offset, 'SessionVWAP');
    this.f = block.f;
    this.o = block.offset;
  }

  get isStable(): boolean {
    return this.getResult() !== null;
  }

  /** `session` is the tick's trading day (see VwapState.session); a new one starts the sums over. */
  updateSession(price: number, volume: number, session: string): number | null {
    return orNull(this.stepSession(price, volume, session));
  }

  /** updateSession for the hot path: NaN until the session has seen volume (numeric.ts, orNull). */
  stepSession(price: number, volume: number, session: string): number {
    const f = this.f;
    const o = this.o;
    if (session !== this.session) {
      this.session = session;
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
    return vol > 0 ? (pv + pvComp) / vol : NaN;
  }

  /** With the trading-day rule: the date of ts in `timeZone`, UTC without one. */
  update(price: number, volume: number, tsMs: number, timeZone?: string): number | null {
    return this.updateSession(price, volume, tradingDate(tsMs, timeZone));
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
    return { session: this.session, pv: f[o] as number, pvComp: f[o + 1] as number, v: f[o + 2] as number, vComp: f[o + 3] as number };
  }

  restoreState(state: unknown, path = 'vwap'): void {
    const o = readObject(state, path);
    const session = readString(o, 'session', path);
    if (!SESSION.test(session)) throw new CorruptSnapshotError(`${path}.session`, `expected '' or a date YYYY-MM-DD, got ${JSON.stringify(session.slice(0, 40))}`);
    const pv = readFinite(o, 'pv', path);
    const pvComp = readFinite(o, 'pvComp', path);
    const v = readFinite(o, 'v', path);
    const vComp = readFinite(o, 'vComp', path);
    this.session = session;
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
