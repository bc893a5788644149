import { ENRICHED_COLUMNS, storable } from '../../../shared/enriched';
import { TICK_BOUNDS, type Tick } from '../../../shared/tick';
import {
  DEFAULT_ANALYSIS_CONFIG,
  InvalidConfigError,
  SymbolAnalyzer,
  SymbolMismatchError,
  alertId,
  analysisConfig,
} from '../../../analytics';
import type { Alert, AnalyzeResult, EnrichedTick } from '../../../analytics';
import { T0, tick, ticksFromSteps } from './factories';

const MIN = 60_000;

function run(a: SymbolAnalyzer, ticks: readonly Tick[]): { rows: EnrichedTick[]; alerts: Alert[] } {
  const rows: EnrichedTick[] = [];
  const alerts: Alert[] = [];
  for (const t of ticks) {
    const r = a.analyze(t);
    if (r.kind === 'applied') {
      rows.push(r.row);
      alerts.push(...r.alerts);
    }
  }
  return { rows, alerts };
}

function applied(r: AnalyzeResult): { row: EnrichedTick; alerts: readonly Alert[] } {
  if (r.kind !== 'applied') throw new Error('expected an applied tick');
  return r;
}

/** A price path given as a list of prices, one minute apart. */
function pricePath(prices: readonly number[], over: Partial<Tick> = {}): Tick[] {
  return prices.map((price, i) => tick({ ts: T0 + i * MIN, price, ...over }));
}

describe('SymbolAnalyzer rows', () => {
  it('fills every lake column, and only those (plus dt)', () => {
    const { row } = applied(new SymbolAnalyzer('AAPL').analyze(tick({ price: 102, previousClose: 100, marketState: 'REGULAR' })));
    expect(Object.keys(row).sort()).toEqual([...ENRICHED_COLUMNS.map((c) => c.name), 'dt'].sort());
    expect(row).toEqual({
      symbol: 'AAPL',
      ts: T0,
      dt: '2024-01-02',
      price: 102,
      volume: 1000,
      previous_close: 100,
      change_pct: 2,
      tick_change_pct: null,
      sma5: null,
      sma20: null,
      ema12: null,
      rsi14: null,
      bb_upper: null,
      bb_lower: null,
      vwap: 102,
      volume_avg: null,
      volume_ratio: null,
      signal: null,
      anomaly: false,
      volume_spike: false,
      market_state: 'REGULAR',
      source: 'synthetic',
      produced_at: T0 + 5,
    });
  });

  it('computes tick_change_pct against the previous applied tick and fills indicators once warm', () => {
    const a = new SymbolAnalyzer('AAPL');
    const rows = run(a, pricePath(Array.from({ length: 25 }, (_, i) => 100 + i))).rows;
    expect(rows[1]?.tick_change_pct).toBeCloseTo(1, 12);
    expect(rows[3]?.sma5).toBeNull();
    expect(rows[4]?.sma5).toBe(102);
    expect(rows[18]?.sma20).toBeNull();
    expect(rows[19]?.sma20).toBe(109.5);
    expect(rows[19]?.bb_upper).toBeCloseTo(109.5 + 2 * Math.sqrt((20 * 20 - 1) / 12), 10);
    expect(rows[10]?.ema12).toBeNull();
    expect(rows[11]?.ema12).not.toBeNull();
    expect(rows[13]?.rsi14).toBeNull();
    expect(rows[14]?.rsi14).toBe(100);
    expect(rows[19]?.volume_avg).toBeNull();
    expect(rows[20]?.volume_avg).toBe(1000);
    expect(rows[20]?.volume_ratio).toBe(1);
    expect(rows[24]?.dt).toBe('2024-01-02');
  });

  it('changes dt (and resets VWAP) at midnight UTC', () => {
    const a = new SymbolAnalyzer('AAPL');
    const midnight = Date.UTC(2024, 0, 3);
    const r1 = applied(a.analyze(tick({ ts: midnight - 1, price: 10, volume: 100 }))).row;
    const r2 = applied(a.analyze(tick({ ts: midnight, price: 20, volume: 100 }))).row;
    expect([r1.dt, r1.vwap, r2.dt, r2.vwap]).toEqual(['2024-01-02', 10, '2024-01-03', 20]);
  });

  it("resets VWAP at the exchange's trading day (tick v2 tz), while dt stays the UTC date", () => {
    // Tokyo is UTC+9: 14:00 and 16:00 UTC on Jan 2 are Jan 2 23:00 and Jan 3 01:00 there.
    const tokyo = new SymbolAnalyzer('7203.T');
    const at = (h: number, price: number, tz?: string): Tick =>
      tick({ v: 2, symbol: '7203.T', ts: Date.UTC(2024, 0, 2, h), price, volume: 100, ...(tz === undefined ? {} : { tz }) });
    const t1 = applied(tokyo.analyze(at(14, 10, 'Asia/Tokyo'))).row;
    const t2 = applied(tokyo.analyze(at(16, 20, 'Asia/Tokyo'))).row;
    expect([t1.dt, t1.vwap, t2.dt, t2.vwap]).toEqual(['2024-01-02', 10, '2024-01-02', 20]);
    // Without a zone (v1, or v2 without tz) the day is the UTC date: one session.
    const utc = new SymbolAnalyzer('7203.T');
    applied(utc.analyze(at(14, 10)));
    expect(applied(utc.analyze(at(16, 20))).row.vwap).toBe(15);
  });

  it('reads v1 and v2 ticks alike', () => {
    const v1 = applied(new SymbolAnalyzer('AAPL').analyze(tick({ v: 1, price: 102.37, previousClose: 100.05 }))).row;
    const v2 = applied(new SymbolAnalyzer('AAPL').analyze(tick({ v: 2, price: 102.37, previousClose: 100.05, tz: 'America/New_York' }))).row;
    expect(v2).toEqual(v1);
  });

  it('a tick without a previous close has no change_pct and raises no move alert, however far it moves', () => {
    const a = new SymbolAnalyzer('AFRAF');
    const noClose = (ts: number, price: number): Tick => {
      const { previousClose: _drop, ...t } = tick({ v: 2, symbol: 'AFRAF', ts, price });
      return t;
    };
    const r1 = applied(a.analyze(noClose(T0, 8.46)));
    expect([r1.row.previous_close, r1.row.change_pct, r1.row.anomaly, r1.alerts]).toEqual([null, null, false, []]);
    // once a previous close arrives, a >5 % move alerts as usual
    const r2 = applied(a.analyze(tick({ v: 2, symbol: 'AFRAF', ts: T0 + MIN, price: 8.46, previousClose: 8.01 })));
    expect(r2.row.change_pct).toBeCloseTo(5.618, 3);
    expect(r2.alerts.map((x) => [x.type, x.changePct])).toEqual([['ANOMALY', r2.row.change_pct]]);
  });
});

describe('crossover signals', () => {
  const down = Array.from({ length: 25 }, (_, i) => 100 - i * 0.5);
  const up = Array.from({ length: 10 }, (_, i) => 88 + i * 2);
  const downAgain = Array.from({ length: 10 }, (_, i) => 106 - i * 3);

  it('BUY on a cross above, SELL on a cross below, with the original texts and deterministic ids', () => {
    const ticks = pricePath([...down, ...up, ...downAgain]);
    const { rows, alerts } = run(new SymbolAnalyzer('AAPL'), ticks);
    const signals = rows.filter((r) => r.signal !== null).map((r) => r.signal);
    expect(signals).toEqual(['BUY', 'SELL']);
    // The path wanders more than 5 % from previousClose too; those ANOMALY alerts are tested elsewhere.
    const crossAlerts = alerts.filter((a) => a.type === 'BUY' || a.type === 'SELL');
    expect(crossAlerts.map((a) => [a.type, a.message])).toEqual([
      ['BUY', 'AAPL is in an Uptrend! Consider a buy opportunity.'],
      ['SELL', 'AAPL is in a Downtrend! Consider a sell opportunity.'],
    ]);
    for (const a of crossAlerts) {
      expect(a.id).toBe(alertId('AAPL', a.type, a.ts));
      expect(a.id).toMatch(/^[0-9a-f]{32}$/);
      const row = rows.find((r) => r.ts === a.ts);
      expect(row?.signal).toBe(a.type);
      expect([a.sma5, a.sma20, a.price]).toEqual([row?.sma5, row?.sma20, row?.price]);
    }
    const replay = run(new SymbolAnalyzer('AAPL'), ticks).alerts;
    expect(replay.map((a) => a.id)).toEqual(alerts.map((a) => a.id));
  });

  it('an uptrend already under way when the windows fill is not a cross', () => {
    const { rows } = run(new SymbolAnalyzer('AAPL'), pricePath(Array.from({ length: 60 }, (_, i) => 100 + i)));
    expect(rows.filter((r) => r.signal !== null)).toEqual([]);
  });

  it('hysteresis keeps a flat market from flapping; a zero gap does not', () => {
    // Averages weaving around each other by fractions of a cent.
    const flat = Array.from({ length: 400 }, (_, i) => 100 + 0.01 * Math.sin(i / 3));
    const withGap = run(new SymbolAnalyzer('AAPL'), pricePath(flat)).rows.filter((r) => r.signal !== null);
    const noGap = run(new SymbolAnalyzer('AAPL', analysisConfig({ crossoverMinGapPct: 0 })), pricePath(flat)).rows.filter((r) => r.signal !== null);
    expect(withGap).toHaveLength(0);
    expect(noGap.length).toBeGreaterThan(10);
  });

  it('alert ids differ by symbol, type and ts', () => {
    const ids = new Set([alertId('AAPL', 'BUY', 1), alertId('AAPL', 'SELL', 1), alertId('AAPL', 'BUY', 2), alertId('MSFT', 'BUY', 1)]);
    expect(ids.size).toBe(4);
  });
});

describe('anomalies and volume spikes', () => {
  it('flags |change_pct| above the threshold on every tick, alerts on entering it', () => {
    const prices = [101, 106, 106.5, 101, 93];
    const ticks = prices.map((price, i) => tick({ ts: T0 + i * MIN, price, previousClose: 100 }));
    const { rows, alerts } = run(new SymbolAnalyzer('AAPL'), ticks);
    expect(rows.map((r) => r.anomaly)).toEqual([false, true, true, false, true]);
    expect(alerts.map((a) => [a.type, a.ts])).toEqual([
      ['ANOMALY', T0 + MIN],
      ['ANOMALY', T0 + 4 * MIN],
    ]);
    expect(alerts[0]?.message).toBe('AAPL moved +6.00% against the previous close! Unusual price movement.');
    expect(alerts[1]?.message).toBe('AAPL moved -7.00% against the previous close! Unusual price movement.');
    const calm = run(new SymbolAnalyzer('AAPL', analysisConfig({ anomalyThresholdPct: 10 })), ticks);
    expect(calm.rows.some((r) => r.anomaly)).toBe(false);
  });

  it('exactly the threshold is not an anomaly', () => {
    expect(applied(new SymbolAnalyzer('AAPL').analyze(tick({ price: 105, previousClose: 100 }))).row.anomaly).toBe(false);
  });

  it('no volume spike before the average is warm, however large the volume', () => {
    const ticks = Array.from({ length: 20 }, (_, i) => tick({ ts: T0 + i * MIN, volume: i === 10 ? 1e9 : 1000 }));
    const { rows, alerts } = run(new SymbolAnalyzer('AAPL'), ticks);
    expect(rows.some((r) => r.volume_spike || r.volume_ratio !== null)).toBe(false);
    expect(alerts).toEqual([]);
  });

  it('volume spike above the ratio threshold, alerting on entry', () => {
    // ratios: 5000/1000 = 5, 5000/1200 = 4.2, 1000/1400 = 0.7, 6000/1400 = 4.3
    const vols = [...Array.from({ length: 20 }, () => 1000), 5000, 5000, 1000, 6000];
    const ticks = vols.map((volume, i) => tick({ ts: T0 + i * MIN, volume }));
    const { rows, alerts } = run(new SymbolAnalyzer('AAPL'), ticks);
    expect(rows.slice(20).map((r) => r.volume_spike)).toEqual([true, true, false, true]);
    expect(rows[21]?.volume_avg).toBe(1200);
    expect(alerts.map((a) => [a.type, a.ts])).toEqual([
      ['VOLUME_SPIKE', T0 + 20 * MIN],
      ['VOLUME_SPIKE', T0 + 23 * MIN],
    ]);
    expect(alerts[0]?.message).toBe('AAPL volume spike! 5.0x its recent average volume.');
    const lenient = run(new SymbolAnalyzer('AAPL', analysisConfig({ volumeSpikeRatio: 5 })), ticks);
    expect(lenient.rows.map((r) => r.volume_spike).filter(Boolean)).toEqual([]);
  });
});

describe('duplicates and misuse', () => {
  it('a tick not newer than the last applied one is counted and changes nothing', () => {
    const a = new SymbolAnalyzer('AAPL');
    const ticks = ticksFromSteps(Array.from({ length: 30 }, (_, i) => ({ dtMs: MIN, ret: (i % 7) / 100 - 0.03, volume: 1000 + i })));
    run(a, ticks);
    const before = JSON.stringify(a.getState());
    const last = ticks[29] as Tick;
    expect(a.analyze(last)).toEqual({ kind: 'duplicate' });
    expect(a.analyze({ ...last, ts: last.ts - 1, price: 1 })).toEqual({ kind: 'duplicate' });
    expect(a.duplicates).toBe(2);
    expect(a.lastTs).toBe(last.ts);
    expect(JSON.stringify(a.getState())).toBe(before);
  });

  it('refuses a tick of another symbol', () => {
    expect(() => new SymbolAnalyzer('AAPL').analyze(tick({ symbol: 'MSFT' }))).toThrow(SymbolMismatchError);
  });

  it('config defaults are frozen and overrides are validated', () => {
    expect(Object.isFrozen(DEFAULT_ANALYSIS_CONFIG)).toBe(true);
    expect(DEFAULT_ANALYSIS_CONFIG).toEqual({ anomalyThresholdPct: 5, volumeSpikeRatio: 3, crossoverMinGapPct: 0.05 });
    expect(Object.isFrozen(analysisConfig({ volumeSpikeRatio: 4 }))).toBe(true);
    expect(() => analysisConfig({ anomalyThresholdPct: -1 })).toThrow(InvalidConfigError);
    expect(() => analysisConfig({ crossoverMinGapPct: Number.NaN })).toThrow(/crossoverMinGapPct/);
  });
});

describe('columns every sink can hold', () => {
  const MIN_ = 60_000;

  it('storable() keeps finite values inside DynamoDB range and nulls the rest', () => {
    expect([0, -0, 1e-130, -1e-130, 1e125, -1e125, 42.5].map(storable)).toEqual([0, -0, 1e-130, -1e-130, 1e125, -1e125, 42.5]);
    expect([Number.NaN, Infinity, -Infinity, 1e126, -1e126, 1e-131, 5e-324, null].map(storable)).toEqual([null, null, null, null, null, null, null, null]);
  });

  it('under the tick bounds every numeric column of every row is storable, at the most extreme valid ticks', () => {
    const B = TICK_BOUNDS;
    const a = new SymbolAnalyzer('EDGE');
    const numbers: { i: number; column: string; v: number }[] = [];
    for (let i = 0; i < 200; i++) {
      // prices jumping between both ends, volumes between the smallest and largest
      const price = i % 3 === 0 ? B.priceMin : i % 3 === 1 ? B.priceMax : 1;
      const volume = i % 5 === 4 ? B.volumeMax : i % 5 === 3 ? 0 : B.volumeMin;
      const r = a.analyze(tick({ symbol: 'EDGE', ts: T0 + i * MIN_, price, previousClose: i % 2 === 0 ? B.priceMin : B.priceMax, volume }));
      if (r.kind !== 'applied') continue;
      for (const c of ENRICHED_COLUMNS) {
        const v = (r.row as unknown as Record<string, unknown>)[c.name];
        if (typeof v === 'number') numbers.push({ i, column: c.name, v });
      }
    }
    expect(numbers.length).toBeGreaterThan(200 * 10);
    expect(numbers.filter((x) => storable(x.v) !== x.v)).toEqual([]);
  });
});
