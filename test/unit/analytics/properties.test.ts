import fc from 'fast-check';
import type { Tick } from '../../../shared/tick';
import { SymbolAnalyzer, analysisConfig } from '../../../analytics';
import type { AnalysisConfig, AnalyzeResult } from '../../../analytics';
import type { Step } from './factories';
import { T0, ticksFromSteps } from './factories';

const stepArb: fc.Arbitrary<Step> = fc.record({
  dtMs: fc.oneof(
    { weight: 30, arbitrary: fc.integer({ min: 1, max: 3_600_000 }) },
    // duplicates and out-of-order deliveries
    { weight: 2, arbitrary: fc.integer({ min: -600_000, max: 0 }) },
    // jumps over midnight: new session, new previousClose
    { weight: 1, arbitrary: fc.integer({ min: 86_400_000, max: 3 * 86_400_000 }) },
  ),
  ret: fc.oneof(
    { weight: 10, arbitrary: fc.double({ min: -0.02, max: 0.02, noNaN: true }) },
    { weight: 1, arbitrary: fc.constantFrom(0, 0.07, -0.07) },
  ),
  volume: fc.oneof(
    { weight: 10, arbitrary: fc.integer({ min: 100, max: 10_000 }) },
    { weight: 1, arbitrary: fc.constantFrom(0, 250_000) },
    { weight: 1, arbitrary: fc.double({ min: 0, max: 1e7, noNaN: true }) },
  ),
});

const configArb: fc.Arbitrary<AnalysisConfig> = fc
  .record({
    anomalyThresholdPct: fc.double({ min: 0, max: 10, noNaN: true }),
    volumeSpikeRatio: fc.double({ min: 0, max: 5, noNaN: true }),
    crossoverMinGapPct: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 0.5, noNaN: true })),
  })
  .map((c) => analysisConfig(c));

function runAll(a: SymbolAnalyzer, ticks: readonly Tick[]): AnalyzeResult[] {
  return ticks.map((t) => a.analyze(t));
}

describe('properties', () => {
  it('snapshot → JSON → restore at random points continues bit-identically', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 250 }), fc.array(fc.nat(), { maxLength: 6 }), configArb, (steps, cutSeeds, config) => {
        const ticks = ticksFromSteps(steps);
        const expected = runAll(new SymbolAnalyzer('AAPL', config), ticks);
        const cuts = new Set(cutSeeds.map((c) => c % (ticks.length + 1)));
        let a = new SymbolAnalyzer('AAPL', config);
        const actual: AnalyzeResult[] = [];
        ticks.forEach((t, i) => {
          if (cuts.has(i)) a = SymbolAnalyzer.fromState(JSON.parse(JSON.stringify(a.getState())), config);
          actual.push(a.analyze(t));
        });
        // toEqual compares numbers with Object.is: -0 vs 0 or one ulp would fail.
        expect(actual).toEqual(expected);
        const uninterrupted = new SymbolAnalyzer('AAPL', config);
        runAll(uninterrupted, ticks);
        expect(JSON.stringify(a.getState())).toBe(JSON.stringify(uninterrupted.getState()));
      }),
      { numRuns: 150 },
    );
  });

  it('injected duplicates and stale ticks change nothing but the duplicate count', () => {
    fc.assert(
      fc.property(
        fc.array(stepArb, { minLength: 1, maxLength: 200 }),
        fc.array(fc.record({ at: fc.nat(), back: fc.nat(), price: fc.double({ min: 0.01, max: 1e6, noNaN: true }) }), { maxLength: 20 }),
        (steps, injections) => {
          const ticks = ticksFromSteps(steps);
          const clean = new SymbolAnalyzer('AAPL');
          const expectedRows = runAll(clean, ticks);
          const dirty = new SymbolAnalyzer('AAPL');
          const rows: AnalyzeResult[] = [];
          let injected = 0;
          ticks.forEach((t, i) => {
            rows.push(dirty.analyze(t));
            for (const inj of injections.filter((x) => x.at % ticks.length === i)) {
              // A replay of any tick already seen, possibly with other content: ts decides.
              const seen = ticks[i - (inj.back % (i + 1))] as Tick;
              expect(dirty.analyze({ ...seen, price: inj.price, volume: inj.price })).toEqual({ kind: 'duplicate' });
              injected++;
            }
          });
          expect(rows).toEqual(expectedRows);
          expect(dirty.duplicates - clean.duplicates).toBe(injected);
          expect(JSON.stringify(dirty.getState())).toBe(JSON.stringify(clean.getState()));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('no signal before both SMA windows are full, and only with both SMAs present', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 120 }), configArb, (steps, config) => {
        const results = runAll(new SymbolAnalyzer('AAPL', config), ticksFromSteps(steps));
        const rows = results.flatMap((r) => (r.kind === 'applied' ? [r] : []));
        // The 20th tick fills SMA-20; it can only establish the regime, so a signal needs a 21st.
        expect(rows.slice(0, 20).map((r) => r.row.signal)).toEqual(rows.slice(0, 20).map(() => null));
        const signalled = rows.filter((r) => r.row.signal !== null);
        expect(signalled.filter((r) => r.row.sma5 === null || r.row.sma20 === null)).toEqual([]);
        // The BUY/SELL alerts of a tick are exactly its row's signal.
        expect(rows.map((r) => r.alerts.filter((x) => x.type === 'BUY' || x.type === 'SELL').map((x) => x.type))).toEqual(
          rows.map((r) => (r.row.signal === null ? [] : [r.row.signal])),
        );
      }),
      { numRuns: 150 },
    );
  });

  it('crossover signals alternate BUY/SELL and respect the gap', () => {
    let totalSignals = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 8, max: 120 }),
        fc.double({ min: 0.001, max: 0.1, noNaN: true }),
        fc.array(fc.double({ min: -0.01, max: 0.01, noNaN: true }), { minLength: 50, maxLength: 400 }),
        fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1, noNaN: true })),
        (wavePeriod, amplitude, noise, gapPct) => {
          const config = analysisConfig({ crossoverMinGapPct: gapPct });
          const ticks: Tick[] = noise.map((n, i) => {
            const price = 100 * (1 + amplitude * Math.sin((2 * Math.PI * i) / wavePeriod) + n);
            return { v: 1, symbol: 'AAPL', ts: T0 + i * 60_000, price, volume: 1000, previousClose: 100, source: 'synthetic', producedAt: T0 };
          });
          const signals: { signal: string; gap: number }[] = [];
          for (const r of runAll(new SymbolAnalyzer('AAPL', config), ticks)) {
            if (r.kind === 'applied' && r.row.signal !== null) {
              signals.push({ signal: r.row.signal, gap: Math.abs((r.row.sma5 as number) - (r.row.sma20 as number)) / (r.row.sma20 as number) });
            }
          }
          totalSignals += signals.length;
          for (let i = 1; i < signals.length; i++) expect(signals[i]?.signal).not.toBe(signals[i - 1]?.signal);
          for (const s of signals) expect(s.gap).toBeGreaterThan(gapPct / 100 - 1e-12);
        },
      ),
      { numRuns: 150 },
    );
    // Guards against a generator that never crosses, which would make the property vacuous.
    expect(totalSignals).toBeGreaterThan(300);
  });
});
