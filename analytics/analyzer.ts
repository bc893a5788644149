import type { Tick } from '../shared/tick';
import type { EnrichedTick, Signal } from '../shared/enriched';
import { dtOf, storable } from '../shared/enriched';
import { dayDate, tradingDay } from '../shared/trading-day';
import type { Alert, AlertType } from './alerts';
import { alertId, alertMessage } from './alerts';
import type { AnalysisConfig } from './config';
import { DEFAULT_ANALYSIS_CONFIG } from './config';
import { CorruptSnapshotError, SymbolMismatchError } from './errors';
import { IndicatorSet } from './indicator-set';
import { orNull } from './numeric';
import { MS_PER_DAY } from './vwap';
import { readBool, readFiniteOrNull, readInt, readObject, readString } from './snapshot';
import { packState, unpackState, type SymbolSnapshot, type SymbolState } from './state-codec';
import type { CrossSide } from './crossover';
import { crossSide } from './crossover';
import { sharedSlab } from './storage';

export type { SymbolSnapshot, SymbolState } from './state-codec';

export type AnalyzeResult =
  | { readonly kind: 'applied'; readonly row: EnrichedTick; readonly alerts: readonly Alert[] }
  | { readonly kind: 'duplicate' };

/** The last ts and price come first in the block, then the indicators. */
const INDICATORS_AT = 2;
/** Numbers in one analyzer's block (its slab's block size). */
export const ANALYZER_STATE_SLOTS = INDICATORS_AT + IndicatorSet.slots();
// Every analyzer's block comes from one slab (storage.ts): 128 symbols share
// a 64 KiB chunk instead of each having an off-heap array. Measured over 100,000
// analyzers: 1,562 bytes of RSS each instead of 1,915; the full analysis
// runs at the same speed, being dominated by building the row.
const STATE_SLAB = sharedSlab(ANALYZER_STATE_SLOTS);

const DUPLICATE: AnalyzeResult = Object.freeze({ kind: 'duplicate' });
// Most ticks alert nobody: sharing one frozen empty list saves an allocation per tick.
const NO_ALERTS: readonly Alert[] = Object.freeze([]);

/**
 * The per-symbol analysis: one instance per symbol, fed that symbol's ticks
 * in order. Pure and synchronous; O(1) per tick.
 *
 * Semantics worth knowing (all deliberate):
 * - A tick whose ts is not newer than the last applied one is a duplicate or
 *   out of order (at-least-once delivery, replays after a lease move): it is
 *   counted in `duplicates` and changes nothing.
 * - BUY/SELL fire only when SMA-5 actually crosses SMA-20 by more than
 *   `crossoverMinGapPct`, never before both windows are full, and always
 *   alternate: the first side seen after warm-up only sets the regime.
 * - ANOMALY and VOLUME_SPIKE alerts fire on the tick that enters the
 *   condition, not on every tick that stays in it (the row's `anomaly` and
 *   `volume_spike` columns are per tick). A stock up 6 % all day is one alert.
 * - `duplicates` is a process-local metric, not part of the state: a
 *   duplicate must leave the snapshot byte-identical.
 */
export class SymbolAnalyzer {
  // All of this symbol's numbers in one block of a shared slab (storage.ts):
  // last ts and price in slots b and b+1, then each indicator's slots.
  private readonly f: Float64Array;
  private readonly b: number;
  private readonly ind: IndicatorSet;
  private hasLast = false;
  private side: CrossSide = 0;
  private anomalyActive = false;
  private spikeActive = false;
  private duplicateCount = 0;
  private readonly gapFraction: number;
  // dtOf() costs a Date and an ISO string; the day changes once a day.
  private dtDay = -1;
  private dtString = '';
  /** The last exchange trading day seen (ticks with tz), and its date. */
  private sessionDay = -1;
  private sessionString = '';

  constructor(
    readonly symbol: string,
    readonly config: AnalysisConfig = DEFAULT_ANALYSIS_CONFIG,
  ) {
    this.gapFraction = config.crossoverMinGapPct / 100;
    const block = STATE_SLAB.take(this);
    const f = (this.f = block.f);
    const b = (this.b = block.offset);
    this.ind = new IndicatorSet(f, b + INDICATORS_AT);
  }

  /** ts of the last applied tick, or null before the first. */
  get lastTs(): number | null {
    return this.hasLast ? (this.f[this.b] as number) : null;
  }

  /** Ticks skipped as duplicates or out of order since this instance was created. */
  get duplicates(): number {
    return this.duplicateCount;
  }

  analyze(tick: Tick): AnalyzeResult {
    if (tick.symbol !== this.symbol) throw new SymbolMismatchError(`tick for ${tick.symbol} given to the analyzer of ${this.symbol}`);
    const ts = tick.ts;
    const f = this.f;
    const b = this.b;
    if (this.hasLast && ts <= (f[b] as number)) {
      this.duplicateCount++;
      return DUPLICATE;
    }
    const price = tick.price;
    const volume = tick.volume;
    const previousClose = tick.previousClose;
    const config = this.config;

    const day = Math.floor(ts / MS_PER_DAY);
    if (day !== this.dtDay) {
      this.dtDay = day;
      this.dtString = dtOf(ts);
    }
    // The VWAP's session is the tick's trading day (shared/trading-day.ts):
    // the exchange's date when the tick names its zone, else the UTC date,
    // which is dt. Kept per day, like dt: formatting a date per tick costs.
    let session = this.dtString;
    if (tick.tz !== undefined) {
      const tradingDayNumber = tradingDay(ts, tick.tz);
      if (tradingDayNumber !== this.sessionDay) {
        this.sessionDay = tradingDayNumber;
        this.sessionString = dayDate(tradingDayNumber);
      }
      session = this.sessionString;
    }
    const ind = this.ind;
    ind.update(price, volume, session);
    const sma5 = orNull(ind.sma5Value);
    const sma20 = orNull(ind.sma20);
    const volumeRatio = orNull(ind.volumeRatio);

    // No previous close (tick v2: OTC listings, a first trading day): no
    // change against it, so the >5 % move alert cannot fire on this tick.
    const changePct = previousClose === undefined ? null : ((price - previousClose) / previousClose) * 100;
    const lastPrice = f[b + 1] as number;
    const tickChangePct = this.hasLast ? ((price - lastPrice) / lastPrice) * 100 : null;

    let signal: Signal | null = null;
    if (sma5 !== null && sma20 !== null) {
      const prev = this.side;
      const next = crossSide(prev, sma5, sma20, this.gapFraction);
      if (prev !== 0 && next !== prev) signal = next === 1 ? 'BUY' : 'SELL';
      this.side = next;
    }
    const anomaly = changePct !== null && Math.abs(changePct) > config.anomalyThresholdPct;
    const volumeSpike = volumeRatio !== null && volumeRatio > config.volumeSpikeRatio;

    const row: EnrichedTick = {
      symbol: this.symbol,
      ts,
      dt: this.dtString,
      price,
      volume,
      previous_close: previousClose ?? null,
      // Bounded ticks (shared/tick.ts) keep these inside every sink's range:
      // averages and bands of prices in [1e-9, 1e12], RSI in [0, 100], and
      // price ratios of at most 1e23 %. Only what divides by a volume can
      // escape (a volume of 5e-324 is a valid tick), so only that is checked:
      // a guard on every column cost 10 % of the analysis (bench:core).
      change_pct: changePct,
      tick_change_pct: tickChangePct,
      sma5,
      sma20,
      ema12: orNull(ind.ema12Value),
      rsi14: orNull(ind.rsi14Value),
      bb_upper: orNull(ind.bbUpper),
      bb_lower: orNull(ind.bbLower),
      vwap: storable(ind.vwapValue),
      volume_avg: ind.volumeAvg,
      volume_ratio: storable(volumeRatio),
      signal,
      anomaly,
      volume_spike: volumeSpike,
      market_state: tick.marketState ?? null,
      source: tick.source,
      produced_at: tick.producedAt,
    };

    let alerts = NO_ALERTS;
    if (signal !== null || (anomaly && !this.anomalyActive) || (volumeSpike && !this.spikeActive)) {
      const list: Alert[] = [];
      if (signal !== null) list.push(this.alert(signal, row));
      if (anomaly && !this.anomalyActive) list.push(this.alert('ANOMALY', row));
      if (volumeSpike && !this.spikeActive) list.push(this.alert('VOLUME_SPIKE', row));
      alerts = list;
    }
    this.anomalyActive = anomaly;
    this.spikeActive = volumeSpike;
    this.hasLast = true;
    f[b] = ts;
    f[b + 1] = price;
    return { kind: 'applied', row, alerts };
  }

  private alert(type: AlertType, row: EnrichedTick): Alert {
    return {
      id: alertId(this.symbol, type, row.ts),
      symbol: this.symbol,
      type,
      ts: row.ts,
      price: row.price,
      message: alertMessage(type, this.symbol, row.change_pct, row.volume_ratio),
      changePct: row.change_pct,
      sma5: row.sma5,
      sma20: row.sma20,
      volumeRatio: row.volume_ratio,
    };
  }

  /** The snapshot to store: the state packed (state-codec.ts), under 1 KB. */
  getState(): SymbolSnapshot {
    return packState(this.getPlainState());
  }

  /** The state as plain objects, one per indicator (what getState packs). */
  getPlainState(): SymbolState {
    return {
      symbol: this.symbol,
      lastTs: this.hasLast ? (this.f[this.b] as number) : null,
      lastPrice: this.hasLast ? (this.f[this.b + 1] as number) : null,
      sma5: this.ind.sma5.getState(),
      bb: this.ind.bb.getState(),
      ema12: this.ind.ema12.getState(),
      rsi14: this.ind.rsi14.getState(),
      vwap: this.ind.vwap.getState(),
      volume: this.ind.vol.getState(),
      side: this.side,
      anomaly: this.anomalyActive,
      spike: this.spikeActive,
    };
  }

  /**
   * Rebuild from a stored snapshot (`getState()` output, v2, or a v1 one
   * written before; an object or its JSON text). Throws SnapshotVersionError
   * for any other `v` and CorruptSnapshotError, naming the field, for
   * anything else that is not a state this code wrote.
   */
  static fromState(state: unknown, config: AnalysisConfig = DEFAULT_ANALYSIS_CONFIG): SymbolAnalyzer {
    const o = readObject(unpackState(state), '(root)');
    const a = new SymbolAnalyzer(readString(o, 'symbol', '(root)'), config);
    const lastTs = readFiniteOrNull(o, 'lastTs', '(root)');
    const lastPrice = readFiniteOrNull(o, 'lastPrice', '(root)');
    if ((lastTs === null) !== (lastPrice === null)) throw new CorruptSnapshotError('lastTs', 'lastTs and lastPrice must both be set or both be null');
    a.hasLast = lastTs !== null;
    a.f[a.b] = lastTs ?? 0;
    a.f[a.b + 1] = lastPrice ?? 0;
    const ind = a.ind;
    ind.sma5.restoreState(o.sma5, 'sma5');
    ind.bb.restoreState(o.bb, 'bb');
    ind.ema12.restoreState(o.ema12, 'ema12');
    ind.rsi14.restoreState(o.rsi14, 'rsi14');
    ind.vwap.restoreState(o.vwap, 'vwap');
    ind.vol.restoreState(o.volume, 'volume');
    a.side = readInt(o, 'side', '(root)', -1, 1) as CrossSide;
    a.anomalyActive = readBool(o, 'anomaly', '(root)');
    a.spikeActive = readBool(o, 'spike', '(root)');
    return a;
  }
}
