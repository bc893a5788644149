import type { Indicator } from './indicator';
import { readInt, readObject } from './snapshot';
import type { SmaState } from './sma';
import { SMA } from './sma';
import { orNull } from './numeric';
import { place } from './storage';

export type VolumeRatioState = SmaState;

/**
 * Rolling volume average and the ratio of the current volume to it.
 *
 * The average is over the `period` ticks *before* the current one. Including
 * the current tick would let a spike dilute its own yardstick (a 10× bar
 * inside a 20-bar mean reads as only ~6.9×), so the ratio, and the
 * `volume_avg` column with it, need period + 1 ticks. A zero average (indices
 * report no volume) gives a null ratio rather than Infinity.
 *
 * Layout in its slots: the SMA's, then the last average and ratio (NaN for
 * none). Those two are outputs of the last update, not inputs to the next,
 * so they are not part of the state.
 */
export class VolumeRatio implements Indicator<number, VolumeRatioState> {
  static slots(period: number): number {
    return SMA.slots(period) + 2;
  }

  private readonly sma: SMA;
  private readonly f: Float64Array;
  private readonly out: number;

  constructor(
    readonly period = 20,
    storage?: Float64Array,
    offset = 0,
  ) {
    const block = place(this, VolumeRatio.slots(period), storage, offset, 'VolumeRatio');
    this.f = block.f;
    const o = block.offset;
    this.sma = new SMA(period, this.f, o);
    this.out = o + SMA.slots(period);
    this.f[this.out] = Number.NaN;
    this.f[this.out + 1] = Number.NaN;
  }

  get requiredInputs(): number {
    return this.period + 1;
  }

  get isStable(): boolean {
    return this.average !== null;
  }

  /** Average of the `period` volumes before the latest update. */
  get average(): number | null {
    const avg = this.f[this.out] as number;
    return avg === avg ? avg : null;
  }

  update(volume: number): number | null {
    return orNull(this.step(volume));
  }

  /** The hot path's update: the ratio, NaN while there is no positive average before it (numeric.ts, orNull). */
  step(volume: number): number {
    const avg = this.sma.value;
    // NaN > 0 is false: no average yet, no ratio
    const ratio = avg > 0 ? volume / avg : NaN;
    this.f[this.out] = avg;
    this.f[this.out + 1] = ratio;
    this.sma.step(volume);
    return ratio;
  }

  getResult(): number | null {
    const ratio = this.f[this.out + 1] as number;
    return ratio === ratio ? ratio : null;
  }

  getState(): VolumeRatioState {
    return this.sma.getState();
  }

  restoreState(state: unknown, path = 'volume'): void {
    this.sma.restoreState(state, path);
    this.f[this.out] = Number.NaN;
    this.f[this.out + 1] = Number.NaN;
  }

  static fromState(state: unknown, path = 'volume'): VolumeRatio {
    const vr = new VolumeRatio(readInt(readObject(state, path), 'period', path, 1, 10_000));
    vr.restoreState(state, path);
    return vr;
  }
}
