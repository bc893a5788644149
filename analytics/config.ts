import { ANOMALY_THRESHOLD_PCT } from '../shared/enriched';
import { InvalidConfigError } from './errors';

/**
 * Tunables of the per-symbol analysis. The indicator periods are not here on
 * purpose: the lake's column names (sma5, sma20, ema12, rsi14) state them, and
 * a configurable period would make those names lie.
 */
export interface AnalysisConfig {
  /** ANOMALY when |change_pct| is strictly above this, in percent. */
  readonly anomalyThresholdPct: number;
  /** VOLUME_SPIKE when volume_ratio is strictly above this. */
  readonly volumeSpikeRatio: number;
  /**
   * Crossover hysteresis, in percent of SMA-20: SMA-5 must get more than this
   * far beyond SMA-20 to count as being on the other side. 0 means a plain
   * cross. It keeps a flat market, where the two averages weave around each
   * other by fractions of a cent, from flapping BUY/SELL on every tick.
   */
  readonly crossoverMinGapPct: number;
}

export const DEFAULT_ANALYSIS_CONFIG: AnalysisConfig = Object.freeze({
  anomalyThresholdPct: ANOMALY_THRESHOLD_PCT,
  volumeSpikeRatio: 3,
  crossoverMinGapPct: 0.05,
});

/** Defaults overlaid with `overrides`, validated and frozen. */
export function analysisConfig(overrides: Partial<AnalysisConfig> = {}): AnalysisConfig {
  const c = { ...DEFAULT_ANALYSIS_CONFIG, ...overrides };
  check(c.anomalyThresholdPct, 'anomalyThresholdPct', 0);
  check(c.volumeSpikeRatio, 'volumeSpikeRatio', 0);
  check(c.crossoverMinGapPct, 'crossoverMinGapPct', 0);
  return Object.freeze(c);
}

function check(x: number, name: string, min: number): void {
  if (typeof x !== 'number' || !Number.isFinite(x) || x < min) throw new InvalidConfigError(`${name} must be a finite number >= ${min}, got ${String(x)}`);
}
