import { CorruptSnapshotError, SnapshotVersionError, SymbolAnalyzer } from '../../../analytics';
import type { SymbolState } from '../../../analytics';
import { randomWalk, T0, tick } from './factories';

function warmState(n = 1000): SymbolState {
  const a = new SymbolAnalyzer('BRK.A');
  randomWalk(n, 5, 600_000).forEach((price, i) => a.analyze(tick({ symbol: 'BRK.A', ts: T0 + i * 1000, price, previousClose: 600_000, volume: 1234.5 + i })));
  return a.getState();
}

/** Deep copy with one field replaced, addressed by a dotted path. */
function withField(state: SymbolState, path: string, value: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(state)) as Record<string, unknown>;
  const keys = path.split('.');
  let o = copy;
  for (const k of keys.slice(0, -1)) o = o[k] as Record<string, unknown>;
  const last = keys[keys.length - 1] as string;
  if (value === undefined) delete o[last];
  else o[last] = value;
  return copy;
}

describe('snapshot format', () => {
  it('is versioned plain JSON, well under 2 KB per symbol', () => {
    const state = warmState();
    expect(state.v).toBe(1);
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
    expect(Buffer.byteLength(JSON.stringify(state))).toBeLessThanOrEqual(2048);
  });

  it('restores from an object or from its JSON text', () => {
    const state = warmState(50);
    expect(SymbolAnalyzer.fromState(state).getState()).toEqual(state);
    expect(SymbolAnalyzer.fromState(JSON.stringify(state)).getState()).toEqual(state);
    expect(SymbolAnalyzer.fromState(new SymbolAnalyzer('X').getState()).lastTs).toBeNull();
  });
});

describe('rejected snapshots', () => {
  const state = warmState(50);

  it.each([[2], [0], ['1'], [null]])('unknown version %p', (v) => {
    expect(() => SymbolAnalyzer.fromState({ ...state, v })).toThrow(SnapshotVersionError);
    expect(() => SymbolAnalyzer.fromState({ ...state, v })).toThrow(/unsupported analytics snapshot version/);
  });

  it('a missing version is a version error too', () => {
    expect(() => SymbolAnalyzer.fromState(withField(state, 'v', undefined))).toThrow(SnapshotVersionError);
  });

  it.each<[string, unknown, RegExp]>([
    ['symbol', 42, /at \(root\)\.symbol: expected a string/],
    ['lastTs', 'yesterday', /\(root\)\.lastTs: expected a finite number/],
    ['lastPrice', null, /lastTs and lastPrice/],
    ['sma5', undefined, /at sma5: expected an object/],
    ['sma5.period', 6, /sma5\.period: expected 5, got 6/],
    ['sma5.buf', [1, 2, 3, 4, 5, 6], /sma5\.buf: expected at most 5 values/],
    ['sma5.pos', 9, /sma5\.pos: expected an integer in \[0, 4\]/],
    ['bb.buf', [1, 2, 3], /bb\.pos: ring not yet full \(3\/20\) but pos is/],
    ['bb.m2', 'NaN', /bb\.m2/],
    ['bb.k', 3, /bb\.k: expected 2/],
    ['ema12.value', null, /ema12\.value: must be null exactly when n is 0/],
    ['rsi14.gain', -1, /rsi14: negative average gain or loss/],
    ['rsi14.n', 15, /rsi14\.n: expected an integer in \[0, 14\]/],
    ['vwap.day', 1.5, /vwap\.day/],
    ['volume.sum', Number.POSITIVE_INFINITY, /volume\.sum/],
    ['side', 2, /\(root\)\.side/],
    ['anomaly', 'no', /\(root\)\.anomaly: expected a boolean/],
  ])('%s = %p', (path, value, message) => {
    // JSON cannot carry Infinity, but an object handed over in memory can.
    const bad = withField(state, path, value);
    expect(() => SymbolAnalyzer.fromState(bad)).toThrow(CorruptSnapshotError);
    expect(() => SymbolAnalyzer.fromState(bad)).toThrow(message);
  });

  it.each([['not json'], ['[1,2]'], ['null'], ['42']])('%p as text', (text) => {
    expect(() => SymbolAnalyzer.fromState(text)).toThrow(CorruptSnapshotError);
  });

  it('errors carry their class name and the offending version', () => {
    let caught: unknown;
    try {
      SymbolAnalyzer.fromState({ v: 9 });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SnapshotVersionError);
    expect((caught as Error).name).toBe('SnapshotVersionError');
    expect((caught as SnapshotVersionError).version).toBe(9);
  });
});
