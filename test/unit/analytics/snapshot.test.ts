import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CorruptSnapshotError, SnapshotVersionError, SymbolAnalyzer } from '../../../analytics';
import type { SymbolSnapshot } from '../../../analytics';
import { randomWalk, T0, tick, UPGRADE_SNAPSHOT_AFTER, upgradeTicks } from './factories';

/** A snapshot written by the v1 code (see upgradeTicks): what the state table holds at deploy time. */
const V1 = JSON.parse(readFileSync(path.join(__dirname, 'fixtures', 'snapshot-v1.json'), 'utf8')) as Record<string, unknown>;

/** The longest symbol a tick may carry (shared/tick.ts). */
const LONGEST_SYMBOL = 'ABCDEFGHIJ.KLMNOPQRS';

function warm(n = 1000, symbol = 'BRK.A'): SymbolAnalyzer {
  const a = new SymbolAnalyzer(symbol);
  randomWalk(n, 5, 600_000).forEach((price, i) => a.analyze(tick({ symbol, ts: T0 + i * 1000, price, previousClose: 600_000, volume: 1234.5 + i })));
  return a;
}

/** Deep copy with one field replaced, addressed by a dotted path. */
function withField(state: unknown, path: string, value: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(state)) as Record<string, unknown>;
  const keys = path.split('.');
  let o = copy;
  for (const k of keys.slice(0, -1)) o = o[k] as Record<string, unknown>;
  const last = keys[keys.length - 1] as string;
  if (value === undefined) delete o[last];
  else o[last] = value;
  return copy;
}

const bytes = (x: unknown): number => Buffer.byteLength(JSON.stringify(x));

/** Every non-integer number replaced by `by` (-0.0000012345678901234567 prints as long as a double can: 25 characters). */
const longest = (x: unknown, by = -0.0000012345678901234567): unknown => JSON.parse(JSON.stringify(x, (_k, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? by : v))) as unknown;

describe('snapshot format', () => {
  it('is versioned plain JSON (v2)', () => {
    const state = warm().getState();
    expect(state.v).toBe(2);
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
  });

  it('is at most 1 KB at the worst case: the fullest state, the longest symbol, doubles that print longest', () => {
    const a = warm(1000, LONGEST_SYMBOL);
    const plain = a.getPlainState();
    expect([plain.sma5.buf.length, plain.bb.buf.length, plain.volume.buf.length, plain.ema12.value !== null, plain.rsi14.prev !== null]).toEqual([5, 20, 20, true, true]);
    // v2 packs doubles at a fixed width, so their values cannot change its size
    // (positive: a restored state must be one the indicators accept)
    const worst = SymbolAnalyzer.fromState({ v: 1, ...(longest({ ...plain, vwap: { ...plain.vwap, session: undefined, day: 19_724 } }, 0.0000012345678901234567) as object) });
    expect(worst.getPlainState().sma5.sum).toBe(0.0000012345678901234567);
    const v2Max = bytes(worst.getState());
    expect(v2Max).toBe(bytes(a.getState()));
    expect(v2Max).toBeLessThanOrEqual(1024);
    // the same state stored as v1 (decimal doubles) did not fit
    const v1Max = bytes({ v: 1, ...(longest({ ...plain, vwap: { ...plain.vwap, session: undefined, day: 19_724 } }) as object) });
    expect(v1Max).toBeGreaterThan(1024);
    process.stderr.write(`snapshot bytes at the worst case: v1 ${v1Max}, v2 ${v2Max}\n`);
  });

  it('restores from an object or from its JSON text, bit-exact', () => {
    const state = warm(50).getState();
    expect(SymbolAnalyzer.fromState(state).getState()).toEqual(state);
    expect(SymbolAnalyzer.fromState(JSON.stringify(state)).getState()).toEqual(state);
    const cold = new SymbolAnalyzer('X').getState();
    expect(SymbolAnalyzer.fromState(cold).lastTs).toBeNull();
    expect(SymbolAnalyzer.fromState(cold).getState()).toEqual(cold);
  });
});

describe('upgrade from v1', () => {
  it('a symbol keeps its warm state: v1 snapshot in, v2 analyzer, the same outputs as an analyzer that never stopped', () => {
    const ticks = upgradeTicks();
    const neverStopped = new SymbolAnalyzer('BRK.B');
    const expected = ticks.map((t) => neverStopped.analyze(t));

    expect(V1.v).toBe(1);
    const upgraded = SymbolAnalyzer.fromState(V1);
    expect(upgraded.lastTs).toBe(ticks[UPGRADE_SNAPSHOT_AFTER - 1]!.ts);
    const after = ticks.slice(UPGRADE_SNAPSHOT_AFTER).map((t) => upgraded.analyze(t));
    expect(after).toEqual(expected.slice(UPGRADE_SNAPSHOT_AFTER));
    expect(upgraded.getState()).toEqual(neverStopped.getState());

    // warm, not cold: the first rows after the upgrade already have every indicator
    const first = after[0]!;
    if (first.kind !== 'applied') throw new Error('the first tick after the upgrade was not applied');
    expect([first.row.sma5, first.row.sma20, first.row.ema12, first.row.rsi14, first.row.vwap, first.row.volume_ratio].every((x) => x !== null)).toBe(true);
    const cold = new SymbolAnalyzer('BRK.B').analyze(ticks[UPGRADE_SNAPSHOT_AFTER]!);
    expect(cold.kind === 'applied' && cold.row.sma20).toBeNull();
    // and the stream crossed a UTC midnight after the upgrade, so the migrated VWAP session rolled over where it should
    expect(new Set(after.map((r) => (r.kind === 'applied' ? r.row.dt : ''))).size).toBe(2);
  });

  it('the v1 VWAP day becomes the v2 session key, and a v1 snapshot of a cold symbol restores cold', () => {
    expect(SymbolAnalyzer.fromState(V1).getState().session).toBe(new Date(Number(V1.lastTs)).toISOString().slice(0, 10));
    const coldV1 = { ...V1, lastTs: null, lastPrice: null, sma5: { period: 5, buf: [], pos: 0, sum: 0, comp: 0 }, vwap: { day: -1, pv: 0, pvComp: 0, v: 0, vComp: 0 } };
    expect(SymbolAnalyzer.fromState(coldV1).getState().session).toBe('');
  });
});

describe('rejected snapshots', () => {
  // v1 keeps being read (a deploy meets v1 rows), so its checks stay pinned on the v1 fixture
  const state = V1;

  it.each([[3], [0], ['1'], ['2'], [null]])('unknown version %p', (v) => {
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
    ['vwap.day', undefined, /vwap\.day/],
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

describe('rejected v2 snapshots', () => {
  const good: SymbolSnapshot = warm(50).getState();
  const ints = (k: number, v: number): unknown => ({ ...good, i: good.i.map((x, j) => (j === k ? v : x)) });

  it.each<[string, unknown, RegExp]>([
    ['too few integers', { ...good, i: good.i.slice(1) }, /\(root\)\.i: expected 13 integers/],
    ['a window count past its period', ints(5, 6), /\(root\)\.i\[sma5\.count\]: expected an integer in \[0, 5\]/],
    ['a side of 2', ints(1, 2), /\(root\)\.i\[side\]/],
    ['doubles cut short', { ...good, f: good.f.slice(0, -12) }, /\(root\)\.f: expected \d+ base64 float64 values/],
    ['doubles that are not base64', { ...good, f: `!${good.f.slice(1)}` }, /\(root\)\.f/],
    ['a session that is not a date', { ...good, session: 'Tuesday' }, /vwap\.session: expected '' or a date/],
    ['a ring position past its window', ints(4, 5), /\(root\)\.i\[sma5\.pos\]/],
    ['a NaN among the doubles', { ...good, f: nanAt(good.f, 2) }, /sma5\.sum: expected a finite number/],
  ])('%s', (_what, bad, message) => {
    expect(() => SymbolAnalyzer.fromState(bad)).toThrow(CorruptSnapshotError);
    expect(() => SymbolAnalyzer.fromState(bad)).toThrow(message);
  });
});

/** The base64 doubles with the k-th one replaced by NaN. */
function nanAt(f: string, k: number): string {
  const buf = Buffer.from(f, 'base64');
  buf.writeDoubleLE(Number.NaN, k * 8);
  return buf.toString('base64');
}
