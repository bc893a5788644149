/**
 * How a symbol's state is stored: the snapshot format, its versions and the
 * migration between them. The analyzer's state is plain data (SymbolState,
 * one object per indicator); a snapshot is that state packed so it stays
 * under 1 KB whatever the numbers are.
 *
 * v1 stored SymbolState as JSON, every double in decimal: up to 24
 * characters each, ~60 of them, so a symbol whose prices, volumes and sums
 * all print long reached ~2 KB (1,907 bytes at the worst case). v2 keeps the
 * small integers (ring positions, counts, flags) as JSON numbers and packs
 * every double, bit-exact, as little-endian float64 in one base64 string
 * (10.7 characters per double); it drops what the code fixes (periods, the
 * Bollinger k). A v2 snapshot of the fullest state is 769 bytes with a
 * 20-character symbol, whatever its values.
 *
 * v2 also carries the VWAP's trading-day key (VwapState.session) instead of
 * v1's UTC day number; a v1 snapshot migrates to the same key, so a symbol
 * restored from v1 goes on warm, exactly as if it had never stopped.
 */
import type { BollingerState } from './bollinger';
import type { CrossSide } from './crossover';
import type { EmaState } from './ema';
import { CorruptSnapshotError, SnapshotVersionError } from './errors';
import type { RsiState } from './rsi';
import type { SmaState } from './sma';
import { readFiniteArray, readObject, readString } from './snapshot';
import type { VolumeRatioState } from './volume';
import { sessionOfV1Day, type VwapState } from './vwap';

const SNAPSHOT_VERSION = 2 as const;

/** Everything the next tick's result depends on, as plain data (what getState packs). */
export interface SymbolState {
  symbol: string;
  /** ts of the last applied tick; a tick not newer than this is a duplicate. */
  lastTs: number | null;
  lastPrice: number | null;
  sma5: SmaState;
  /** Bollinger (20, 2); its middle band is the SMA-20. */
  bb: BollingerState;
  ema12: EmaState;
  rsi14: RsiState;
  vwap: VwapState;
  volume: VolumeRatioState;
  /** Crossover regime: 1 SMA-5 above SMA-20 by more than the gap, -1 below, 0 not yet known. */
  side: CrossSide;
  /** Whether the previous tick was already anomalous / a volume spike (alerts fire on the edge). */
  anomaly: boolean;
  spike: boolean;
}

/** The stored form, v2. */
export interface SymbolSnapshot {
  v: typeof SNAPSHOT_VERSION;
  symbol: string;
  /** The VWAP's trading day (VwapState.session). */
  session: string;
  /** Small integers, in INT_FIELDS order. */
  i: number[];
  /** Every double, in packDoubles order: little-endian float64, base64. */
  f: string;
}

/** The periods the analyzer fixes (analyzer.ts); a v2 snapshot does not repeat them. */
const PERIODS = { sma5: 5, bb: 20, bbK: 2, ema12: 12, rsi14: 14, volume: 20 } as const;

const INT_FIELDS = ['hasLast', 'side', 'anomaly', 'spike', 'sma5.pos', 'sma5.count', 'bb.pos', 'bb.count', 'ema12.n', 'rsi14.n', 'rsi14.hasPrev', 'volume.pos', 'volume.count'] as const;

/** Packs a state (getState). */
export function packState(s: SymbolState): SymbolSnapshot {
  const hasLast = s.lastTs !== null;
  const ints = [hasLast ? 1 : 0, s.side, s.anomaly ? 1 : 0, s.spike ? 1 : 0, s.sma5.pos, s.sma5.buf.length, s.bb.pos, s.bb.buf.length, s.ema12.n, s.rsi14.n, s.rsi14.prev === null ? 0 : 1, s.volume.pos, s.volume.buf.length];
  const d: number[] = [];
  if (hasLast) d.push(s.lastTs as number, s.lastPrice as number);
  d.push(s.sma5.sum, s.sma5.comp, ...s.sma5.buf);
  d.push(s.bb.sum, s.bb.comp, s.bb.m2, ...s.bb.buf);
  if (s.ema12.value !== null) d.push(s.ema12.value);
  if (s.rsi14.prev !== null) d.push(s.rsi14.prev);
  d.push(s.rsi14.gain, s.rsi14.loss);
  d.push(s.vwap.pv, s.vwap.pvComp, s.vwap.v, s.vwap.vComp);
  d.push(s.volume.sum, s.volume.comp, ...s.volume.buf);
  const bytes = new DataView(new ArrayBuffer(d.length * 8));
  d.forEach((x, k) => bytes.setFloat64(k * 8, x, true));
  return { v: SNAPSHOT_VERSION, symbol: s.symbol, session: s.vwap.session, i: ints, f: Buffer.from(bytes.buffer).toString('base64') };
}

/**
 * Reads a stored snapshot of any supported version into a state. The shape
 * is checked here (version, lengths); the values are checked by each
 * indicator's restoreState, which names the offending field.
 */
export function unpackState(raw: unknown): SymbolState {
  let x: unknown = raw;
  if (typeof x === 'string') {
    try {
      x = JSON.parse(x);
    } catch (err) {
      throw new CorruptSnapshotError('(root)', `not JSON: ${(err as Error).message}`);
    }
  }
  const o = readObject(x, '(root)');
  if (o.v === 1) return fromV1(o);
  if (o.v !== SNAPSHOT_VERSION) throw new SnapshotVersionError(o.v);
  const ints = readFiniteArray(o, 'i', '(root)', INT_FIELDS.length);
  if (ints.length !== INT_FIELDS.length) throw new CorruptSnapshotError('(root).i', `expected ${INT_FIELDS.length} integers, got ${ints.length}`);
  const int = (name: (typeof INT_FIELDS)[number], min: number, max: number): number => {
    const v = ints[INT_FIELDS.indexOf(name)] as number;
    if (!Number.isInteger(v) || v < min || v > max) throw new CorruptSnapshotError(`(root).i[${name}]`, `expected an integer in [${min}, ${max}], got ${v}`);
    return v;
  };
  const hasLast = int('hasLast', 0, 1) === 1;
  const emaN = int('ema12.n', 0, PERIODS.ema12);
  const hasPrev = int('rsi14.hasPrev', 0, 1) === 1;
  const counts = { sma5: int('sma5.count', 0, PERIODS.sma5), bb: int('bb.count', 0, PERIODS.bb), volume: int('volume.count', 0, PERIODS.volume) };
  const expected = (hasLast ? 2 : 0) + 2 + counts.sma5 + 3 + counts.bb + (emaN > 0 ? 1 : 0) + (hasPrev ? 1 : 0) + 2 + 4 + 2 + counts.volume;
  const text = readString(o, 'f', '(root)');
  const buf = Buffer.from(text, 'base64');
  if (buf.length !== expected * 8 || buf.toString('base64') !== text) throw new CorruptSnapshotError('(root).f', `expected ${expected} base64 float64 values (${expected * 8} bytes), got ${buf.length} bytes`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
  let at = 0;
  const next = (): number => view.getFloat64(8 * at++, true);
  const many = (n: number): number[] => Array.from({ length: n }, next);
  const lastTs = hasLast ? next() : null;
  const lastPrice = hasLast ? next() : null;
  const sma5: SmaState = { period: PERIODS.sma5, pos: int('sma5.pos', 0, PERIODS.sma5 - 1), sum: next(), comp: next(), buf: many(counts.sma5) };
  const bb: BollingerState = { period: PERIODS.bb, k: PERIODS.bbK, pos: int('bb.pos', 0, PERIODS.bb - 1), sum: next(), comp: next(), m2: next(), buf: many(counts.bb) };
  const ema12: EmaState = { period: PERIODS.ema12, n: emaN, value: emaN > 0 ? next() : null };
  const rsiPrev = hasPrev ? next() : null;
  const rsi14: RsiState = { period: PERIODS.rsi14, prev: rsiPrev, n: int('rsi14.n', 0, PERIODS.rsi14), gain: next(), loss: next() };
  const vwap: VwapState = { session: readString(o, 'session', '(root)'), pv: next(), pvComp: next(), v: next(), vComp: next() };
  const volume: VolumeRatioState = { period: PERIODS.volume, pos: int('volume.pos', 0, PERIODS.volume - 1), sum: next(), comp: next(), buf: many(counts.volume) };
  return {
    symbol: readString(o, 'symbol', '(root)'),
    lastTs,
    lastPrice,
    sma5,
    bb,
    ema12,
    rsi14,
    vwap,
    volume,
    side: int('side', -1, 1) as CrossSide,
    anomaly: int('anomaly', 0, 1) === 1,
    spike: int('spike', 0, 1) === 1,
  };
}

/**
 * v1 -> state: the same objects, but the VWAP's session was a UTC day
 * number. Everything else is handed on as stored, for restoreState to check.
 */
function fromV1(o: Record<string, unknown>): SymbolState {
  const vwap = readObject(o.vwap, 'vwap');
  const { day: _day, ...sums } = vwap;
  return { ...(o as unknown as SymbolState), vwap: { ...(sums as unknown as VwapState), session: sessionOfV1Day(vwap, 'vwap') } };
}
