/**
 * The pure parts of the backtest CLI: the previous-close rule, the crossover
 * strategy's bookkeeping and the CSV row format (bar files are read by
 * shared/bars.ts, as the replay reads them). No I/O here, so each is
 * unit-tested on hand-made fixtures.
 */
import type { Bar } from '../shared/bars';
import type { EnrichedTick } from '../shared/enriched';
import { ENRICHED_COLUMNS } from '../shared/enriched';
import type { Tick } from '../shared/tick';
import { tradingDay } from '../shared/trading-day';

/** What the previous-close rule and the tick need of a bar (shared/bars.ts reads them). */
export type BarPrices = Pick<Bar, 'ts' | 'open' | 'close' | 'volume'>;

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

  next(bar: BarPrices): number {
    // The one trading-day rule; bars carry no exchange zone, so UTC days.
    const day = tradingDay(bar.ts);
    if (this.day !== this.day) this.prev = bar.open;
    else if (day !== this.day) this.prev = this.lastClose;
    this.day = day;
    this.lastClose = bar.close;
    return this.prev;
  }
}

export function barToTick(bar: BarPrices, symbol: string, previousClose: number): Tick {
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

export interface EquityMark {
  equity: number;
  drawdown: number;
  hold: number;
  holdDrawdown: number;
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

  /**
   * The equity curves at the last bar, from the same state stats() reads, so
   * a chart of them ends at totalReturn and dips to maxDrawdown exactly.
   * Multiples of the start (1 = break-even); drawdowns as fractions (0.1 = 10 %).
   */
  mark(): EquityMark {
    return {
      equity: this.equity,
      drawdown: 1 - this.equity / this.peak,
      hold: this.bars === 0 ? 1 : this.lastClose / this.firstClose,
      holdDrawdown: this.bars === 0 ? 0 : 1 - this.lastClose / this.holdPeak,
    };
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
