import type { Indicator } from './indicator';
import { readObject } from './snapshot';
import type { SmaState } from './sma';
import { SMA } from './sma';

export type VolumeRatioState = SmaState;

/**
 * Rolling volume average and the ratio of the current volume to it.
 *
 * The average is over the `period` ticks *before* the current one. Including
 * the current tick would let a spike dilute its own yardstick (a 10× bar
 * inside a 20-bar mean reads as only ~6.9×), so the ratio, and the
 * `volume_avg` column with it, need period + 1 ticks. A zero average (indices
 * report no volume) gives a null ratio rather than Infinity.
 */
export class VolumeRatio implements Indicator<number, VolumeRatioState> {
  private sma: SMA;
  // NaN for "none" rather than null: a field that holds either null or a
  // double is stored as a pointer to a fresh heap number on every update,
  // which the long-lived analyzer then drags through every GC.
  private avg = Number.NaN;
  private ratio = Number.NaN;

  constructor(readonly period = 20) {
    this.sma = new SMA(period);
  }

  get requiredInputs(): number {
    return this.period + 1;
  }

  get isStable(): boolean {
    return this.avg === this.avg;
  }

  /** Average of the `period` volumes before the latest update. */
  get average(): number | null {
    return this.avg === this.avg ? this.avg : null;
  }

  update(volume: number): number | null {
    const avg = this.sma.getResult();
    this.avg = avg ?? Number.NaN;
    this.ratio = avg !== null && avg > 0 ? volume / avg : Number.NaN;
    this.sma.update(volume);
    return this.ratio === this.ratio ? this.ratio : null;
  }

  getResult(): number | null {
    return this.ratio === this.ratio ? this.ratio : null;
  }

  /** Only the window is saved: `average` and the ratio of the *last* update are
   *  outputs, not inputs to the next one. */
  getState(): VolumeRatioState {
    return this.sma.getState();
  }

  static fromState(state: unknown, path = 'volume'): VolumeRatio {
    readObject(state, path);
    const sma = SMA.fromState(state, path);
    const vr = new VolumeRatio(sma.period);
    vr.sma = sma;
    return vr;
  }
}
