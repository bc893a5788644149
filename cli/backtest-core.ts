/**
 * The pure parts of the backtest CLI: CSV bar parsing, the previous-close
 * rule, the crossover strategy's bookkeeping and the CSV row format. No I/O
 * here, so each is unit-tested on hand-made fixtures.
 */
import type { EnrichedTick } from '../shared/enriched';
import { ENRICHED_COLUMNS } from '../shared/enriched';
import type { Tick } from '../shared/tick';
import { MS_PER_DAY } from '../analytics/vwap';

const REQUIRED_COLUMNS = ['timestamp', 'open', 'high', 'low', 'close', 'volume'] as const;
type BarColumn = (typeof REQUIRED_COLUMNS)[number];

export interface Bar {
  /** epoch ms, UTC */
  ts: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

export type ParsedLine = { ok: true; bar: Bar } | { ok: false; reason: string };

export class CsvHeaderError extends Error {
  override readonly name = 'CsvHeaderError';
}

/** Column positions by name: the six required columns in any order, extra columns ignored. */
export type ColumnIndex = Readonly<Record<BarColumn, number>>;

export function parseHeader(line: string): ColumnIndex {
  const names = line
    .replace(/^\uFEFF/, '')
    .split(',')
    .map((s) => s.trim().toLowerCase());
  const index: Partial<Record<BarColumn, number>> = {};
  for (const c of REQUIRED_COLUMNS) {
    const i = names.indexOf(c);
    if (i < 0) throw new CsvHeaderError(`CSV header lacks column "${c}": expected ${REQUIRED_COLUMNS.join(',')}, got ${JSON.stringify(line.slice(0, 200))}`);
    index[c] = i;
  }
  return index as ColumnIndex;
}

// YYYY-MM-DD, optionally followed by [ T]HH:MM[:SS[.fff…]] and an optional Z.
const TS_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?Z?$/;
const NUM_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Bar timestamps carry no zone (`2023-07-03 09:30:00`) and are read as UTC.
 * Exchange-local times would need a zone the file does not name; reading
 * them as UTC keeps every bar in the calendar date it was written with, and
 * that date is what the previous-close rule and the session VWAP key on.
 */
export function parseTimestamp(s: string): number | undefined {
  const m = TS_RE.exec(s);
  if (m === null) return undefined;
  const [, y, mo, d, h = '0', mi = '0', sec = '0', frac = ''] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(sec);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second, Number(frac.padEnd(3, '0').slice(0, 3)));
  // Date.UTC rolls 2023-02-30 over into March; a real date survives the round trip.
  if (new Date(ms).getUTCDate() !== day) return undefined;
  return ms;
}

function parseNumber(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const t = s.trim();
  if (!NUM_RE.test(t)) return undefined;
  const x = Number(t);
  return Number.isFinite(x) ? x : undefined;
}

/** One data line → a bar or the reason it is bad. Never throws. */
export function parseBarLine(line: string, cols: ColumnIndex): ParsedLine {
  const f = line.split(',');
  const tsText = f[cols.timestamp]?.trim();
  if (tsText === undefined || tsText === '') return { ok: false, reason: 'missing timestamp' };
  const ts = parseTimestamp(tsText);
  if (ts === undefined) return { ok: false, reason: `bad timestamp ${JSON.stringify(tsText.slice(0, 40))}` };
  const bar: Bar = { ts, open: 0, high: 0, low: 0, close: 0, volume: 0 };
  for (const c of ['open', 'high', 'low', 'close', 'volume'] as const) {
    const x = parseNumber(f[cols[c]]);
    if (x === undefined) return { ok: false, reason: `bad ${c} ${JSON.stringify((f[cols[c]] ?? '').slice(0, 40))}` };
    if (c === 'volume' ? x < 0 : x <= 0) return { ok: false, reason: `${c} must be ${c === 'volume' ? 'non-negative' : 'positive'}, got ${x}` };
    bar[c] = x;
  }
  return { ok: true, bar };
}

/**
 * previousClose for each bar: the last close of the previous calendar date
 * (UTC) that had bars. For the first date there is none, so the first bar's
 * open stands in: change_pct on day one then reads as the move since the
 * open, which is the closest honest figure the file offers. Feed it only
 * bars that will be applied (strictly increasing ts).
 */
export class PreviousClose {
  private day = Number.NaN;
  private prev = Number.NaN;
  private lastClose = Number.NaN;

  next(bar: Bar): number {
    const day = Math.floor(bar.ts / MS_PER_DAY);
    if (this.day !== this.day) this.prev = bar.open;
    else if (day !== this.day) this.prev = this.lastClose;
    this.day = day;
    this.lastClose = bar.close;
    return this.prev;
  }
}

export function barToTick(bar: Bar, symbol: string, previousClose: number): Tick {
  return { v: 1, symbol, ts: bar.ts, price: bar.close, volume: bar.volume, previousClose, source: 'replay', producedAt: bar.ts };
}

export interface Trade {
  entryTs: number;
  entryPrice: number;
  exitTs: number;
  exitPrice: number;
  /** exit / entry − 1 */
  return: number;
  /** Still long at the end of the file: closed at the last bar's close for the statistics. */
  open: boolean;
}

export interface StrategyStats {
  bars: number;
  trades: Trade[];
  wins: number;
  /** wins / trades, null without trades */
  winRate: number | null;
  /** Compounded return of the strategy, all-in, no costs. */
  totalReturn: number;
  buyAndHoldReturn: number;
  /** Largest peak-to-trough fall of the strategy's equity, marked to market every bar (0.1 = 10 %). */
  maxDrawdown: number;
  buyAndHoldMaxDrawdown: number;
}

/**
 * The SMA-crossover strategy: long at the close of a BUY bar, flat at the
 * close of a SELL bar, all-in, no costs, no shorting. Trading at the signal
 * bar's own close is the textbook convention; it flatters the strategy a
 * little against acting on the next bar.
 */
export class CrossoverStrategy {
  private bars = 0;
  private firstClose = Number.NaN;
  private lastClose = Number.NaN;
  private lastTs = 0;
  private equity = 1;
  private peak = 1;
  private maxDd = 0;
  private holdPeak = 0;
  private holdMaxDd = 0;
  private entry: { ts: number; price: number; equity: number } | null = null;
  private readonly trades: Trade[] = [];

  onBar(ts: number, close: number, signal: 'BUY' | 'SELL' | null): void {
    if (this.bars === 0) this.firstClose = close;
    this.bars++;
    this.lastClose = close;
    this.lastTs = ts;
    if (this.entry !== null) this.equity = (this.entry.equity * close) / this.entry.price;
    if (signal === 'BUY' && this.entry === null) this.entry = { ts, price: close, equity: this.equity };
    else if (signal === 'SELL' && this.entry !== null) {
      this.trades.push({ entryTs: this.entry.ts, entryPrice: this.entry.price, exitTs: ts, exitPrice: close, return: close / this.entry.price - 1, open: false });
      this.entry = null;
    }
    if (this.equity > this.peak) this.peak = this.equity;
    const dd = 1 - this.equity / this.peak;
    if (dd > this.maxDd) this.maxDd = dd;
    if (close > this.holdPeak) this.holdPeak = close;
    const hdd = 1 - close / this.holdPeak;
    if (hdd > this.holdMaxDd) this.holdMaxDd = hdd;
  }

  stats(): StrategyStats {
    const trades = [...this.trades];
    if (this.entry !== null) {
      trades.push({ entryTs: this.entry.ts, entryPrice: this.entry.price, exitTs: this.lastTs, exitPrice: this.lastClose, return: this.lastClose / this.entry.price - 1, open: true });
    }
    const wins = trades.filter((t) => t.return > 0).length;
    return {
      bars: this.bars,
      trades,
      wins,
      winRate: trades.length === 0 ? null : wins / trades.length,
      totalReturn: this.equity - 1,
      buyAndHoldReturn: this.bars === 0 ? 0 : this.lastClose / this.firstClose - 1,
      maxDrawdown: this.maxDd,
      buyAndHoldMaxDrawdown: this.holdMaxDd,
    };
  }
}

/** The lake's columns, then `dt` (the partition column, as Athena lists it last). */
export const CSV_COLUMNS: readonly string[] = [...ENRICHED_COLUMNS.map((c) => c.name), 'dt'];

const IS_TIMESTAMP: readonly boolean[] = CSV_COLUMNS.map((name) => ENRICHED_COLUMNS.some((c) => c.name === name && c.type === 'timestamp'));

type Cell = string | number | boolean | null | undefined;

// Consecutive rows (and ts/produced_at within a row) mostly repeat a
// timestamp's neighbours; one cached ISO string saves a Date per cell.
let isoFor = Number.NaN;
let isoText = '';
function iso(ms: number): string {
  if (ms !== isoFor) {
    isoFor = ms;
    isoText = new Date(ms).toISOString();
  }
  return isoText;
}

function csvCell(v: Cell, timestamp: boolean): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return timestamp ? iso(v) : String(v); // shortest round-trip form: exact
  if (typeof v === 'string') return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
  return v ? 'true' : 'false';
}

export function csvHeader(): string {
  return CSV_COLUMNS.join(',');
}

/** Timestamps as ISO-8601 UTC, nulls as empty cells, numbers exact. */
export function csvRow(row: EnrichedTick): string {
  const r = row as unknown as Record<string, Cell>;
  let out = '';
  for (let i = 0; i < CSV_COLUMNS.length; i++) {
    if (i > 0) out += ',';
    out += csvCell(r[CSV_COLUMNS[i] as string], IS_TIMESTAMP[i] === true);
  }
  return out;
}
