import { BollingerBands } from './bollinger';
import { EMA } from './ema';
import { RSI } from './rsi';
import { SMA } from './sma';
import { SessionVWAP } from './vwap';
import { VolumeRatio } from './volume';

const SMA5_AT = 0;
const BB_AT = SMA5_AT + SMA.slots(5);
const EMA_AT = BB_AT + BollingerBands.slots(20);
const RSI_AT = EMA_AT + EMA.slots();
const VWAP_AT = RSI_AT + RSI.slots();
const VOL_AT = VWAP_AT + SessionVWAP.slots();

/**
 * The outputs of the last update of any set, NaN during each one's warm-up
 * (read them through orNull, numeric.ts). One scratch array for all sets: an update's
 * outputs are read before the next update, and the process is one thread.
 * Not fields: a number field that can hold null or NaN makes V8 allocate a
 * heap number on every store (measured: the analyzer 30-65 % slower).
 */
const OUT = new Float64Array(8);
const SMA5 = 0;
const SMA20 = 1;
const BB_UPPER = 2;
const BB_LOWER = 3;
const EMA12 = 4;
const RSI14 = 5;
const VWAP = 6;
const VOLUME_RATIO = 7;

/**
 * Every indicator one symbol's row carries, updated together: SMA-5, the
 * SMA-20 (read from Bollinger's ring, whose middle band is the same mean of
 * the same 20 prices), Bollinger (20, 2), EMA-12, RSI-14, the session VWAP
 * and the 20-tick volume average and ratio. The analyzer builds its row from
 * the outputs; bench:core times this same set against trading-signals'.
 *
 * Outputs are fields, not a returned object: an object per tick would be an
 * allocation on the hot path.
 */
export class IndicatorSet {
  static slots(): number {
    return VOL_AT + VolumeRatio.slots(20);
  }

  readonly sma5: SMA;
  readonly bb: BollingerBands;
  readonly ema12: EMA;
  readonly rsi14: RSI;
  readonly vwap: SessionVWAP;
  readonly vol: VolumeRatio;

  /** Lays the indicators out in `f` from `offset` (IndicatorSet.slots() numbers). */
  constructor(f: Float64Array, offset: number) {
    this.sma5 = new SMA(5, f, offset + SMA5_AT);
    this.bb = new BollingerBands(20, 2, f, offset + BB_AT);
    this.ema12 = new EMA(12, f, offset + EMA_AT);
    this.rsi14 = new RSI(14, f, offset + RSI_AT);
    this.vwap = new SessionVWAP(f, offset + VWAP_AT);
    this.vol = new VolumeRatio(20, f, offset + VOL_AT);
  }

  /** `session` names the VWAP's session (a trading day): it restarts when that changes. */
  update(price: number, volume: number, session: string): void {
    const out = OUT;
    out[SMA5] = this.sma5.step(price);
    const bb = this.bb;
    if (bb.push(price)) {
      const middle = bb.middle;
      const w = bb.k * bb.stdDev;
      out[SMA20] = middle;
      out[BB_UPPER] = middle + w;
      out[BB_LOWER] = middle - w;
    } else {
      out[SMA20] = out[BB_UPPER] = out[BB_LOWER] = NaN;
    }
    out[EMA12] = this.ema12.step(price);
    out[RSI14] = this.rsi14.step(price);
    out[VWAP] = this.vwap.stepSession(price, volume, session);
    out[VOLUME_RATIO] = this.vol.step(volume);
  }

  // The outputs of the last update (of any set: see OUT).
  get sma5Value(): number {
    return OUT[SMA5] as number;
  }
  get sma20(): number {
    return OUT[SMA20] as number;
  }
  get bbUpper(): number {
    return OUT[BB_UPPER] as number;
  }
  get bbLower(): number {
    return OUT[BB_LOWER] as number;
  }
  get ema12Value(): number {
    return OUT[EMA12] as number;
  }
  get rsi14Value(): number {
    return OUT[RSI14] as number;
  }
  get vwapValue(): number {
    return OUT[VWAP] as number;
  }
  get volumeRatio(): number {
    return OUT[VOLUME_RATIO] as number;
  }

  /** The volume average after the last update. */
  get volumeAvg(): number | null {
    return this.vol.average;
  }
}

