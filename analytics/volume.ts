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
  private avg: number | null = null;
  private ratio: number | null = null;

  constructor(readonly period = 20) {
    this.sma = new SMA(period);
  }

  get requiredInputs(): number {
    return this.period + 1;
  }

  get isStable(): boolean {
    return this.avg !== null;
  }

  /** Average of the `period` volumes before the latest update. */
  get average(): number | null {
    return this.avg;
  }

  update(volume: number): number | null {
    const avg = this.sma.getResult();
    this.avg = avg;
    this.ratio = avg !== null && avg > 0 ? volume / avg : null;
    this.sma.update(volume);
    return this.ratio;
  }

  getResult(): number | null {
    return this.ratio;
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
