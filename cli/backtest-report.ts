/**
 * What a backtest reports, as data: the summary, its statistics as labelled
 * facts, and the trade rows. The text report (stdout) and the HTML report
 * (cli/report/backtest-html.ts) both format these, so the two cannot show
 * different numbers: every figure is computed and worded once, here.
 */
import type { AlertType } from '../analytics';
import type { StrategyStats, Trade } from './backtest-core';

export interface BacktestSummary {
  symbol: string;
  file: string;
  lines: number;
  barsApplied: number;
  badRows: number;
  outOfOrderRows: number;
  firstTs: number | null;
  lastTs: number | null;
  signals: Record<'BUY' | 'SELL', number>;
  alerts: Record<AlertType, number>;
  strategy: StrategyStats;
  elapsedSeconds: number;
}

/** One statistic: the text report prints `label: value`. */
export interface Fact {
  label: string;
  value: string;
}

const pct = (x: number, sign = true): string => `${sign && x > 0 ? '+' : ''}${(x * 100).toFixed(2)} %`;
export const when = (ts: number): string => new Date(ts).toISOString().replace('T', ' ').slice(0, 19);
const int = (n: number): string => n.toLocaleString('en-US');

const TRADES_HEADING = 'SMA-5/SMA-20 crossover: long at the close of a BUY bar, flat at the close of a SELL bar';

/**
 * The statistics, one inner array per line of the text report (a line may
 * hold several facts, joined by `; `). The trades table is separate
 * (tradeRows), printed after the `trades` line.
 */
export function reportFacts(s: BacktestSummary): { before: Fact[][]; after: Fact[][] } {
  const st = s.strategy;
  return {
    before: [
      [
        {
          label: 'bars',
          value: `${int(s.barsApplied)} applied${s.firstTs !== null && s.lastTs !== null ? ` (${when(s.firstTs)} to ${when(s.lastTs)} UTC)` : ''}; ${int(s.badRows)} bad rows and ${int(s.outOfOrderRows)} out-of-order rows skipped; ${int(s.lines)} lines read`,
        },
      ],
      [
        { label: 'signals', value: `BUY ${int(s.signals.BUY)}, SELL ${int(s.signals.SELL)}` },
        { label: 'alerts', value: `ANOMALY ${int(s.alerts.ANOMALY)}, VOLUME_SPIKE ${int(s.alerts.VOLUME_SPIKE)}` },
      ],
      [{ label: `trades (${TRADES_HEADING})`, value: int(st.trades.length) }],
    ],
    after: [
      [{ label: 'win rate', value: st.winRate === null ? 'n/a (no trades)' : `${pct(st.winRate, false)} (${int(st.wins)} of ${int(st.trades.length)})` }],
      [{ label: 'total return', value: `${pct(st.totalReturn)} (buy and hold: ${pct(st.buyAndHoldReturn)})` }],
      [{ label: 'max drawdown', value: `${pct(st.maxDrawdown, false)} (buy and hold: ${pct(st.buyAndHoldMaxDrawdown, false)})` }],
      [{ label: 'elapsed', value: `${s.elapsedSeconds.toFixed(1)} s (${int(Math.round(s.barsApplied / Math.max(s.elapsedSeconds, 1e-3)))} bars/s)` }],
    ],
  };
}

export const TRADE_COLUMNS = ['#', 'entry (UTC)', 'price', 'exit (UTC)', 'price', 'return'] as const;

/** A trade's cells in TRADE_COLUMNS order, and whether it is still open. */
export interface TradeRow {
  cells: string[];
  open: boolean;
}

function tradeRow(i: number, t: Trade): TradeRow {
  return { cells: [String(i + 1), when(t.entryTs), t.entryPrice.toFixed(4), when(t.exitTs), t.exitPrice.toFixed(4), pct(t.return)], open: t.open };
}

export const OPEN_TRADE_NOTE = '(open, marked at the last close)';

/** How many trades each end shows when the list is cut. */
const LISTED_AT_EACH_END = 100;

/**
 * The trades listed: every one with allTrades or when there are few,
 * otherwise the first and last 100 with a gap (`omitted` of them) between.
 */
export function tradeRows(trades: readonly Trade[], allTrades: boolean): { head: TradeRow[]; omitted: number; tail: TradeRow[] } {
  if (allTrades || trades.length <= 2 * LISTED_AT_EACH_END) return { head: trades.map((t, i) => tradeRow(i, t)), omitted: 0, tail: [] };
  return {
    head: trades.slice(0, LISTED_AT_EACH_END).map((t, i) => tradeRow(i, t)),
    omitted: trades.length - 2 * LISTED_AT_EACH_END,
    tail: trades.slice(-LISTED_AT_EACH_END).map((t, i) => tradeRow(trades.length - LISTED_AT_EACH_END + i, t)),
  };
}

export const omittedNote = (n: number): string => `… ${int(n)} more (--all-trades lists every one, --json too) …`;

/** Column widths of the text table; dates are 19 wide, prices 12, the return 10. */
const TEXT_WIDTHS = [5, 19, 12, 19, 12, 10] as const;
const RIGHT_ALIGNED = [true, false, true, false, true, true] as const;

function textRow(cells: readonly string[]): string {
  return `  ${cells.map((c, i) => (RIGHT_ALIGNED[i] ? c.padStart(TEXT_WIDTHS[i] ?? 0) : c.padEnd(TEXT_WIDTHS[i] ?? 0))).join('  ')}`;
}

const factLine = (facts: readonly Fact[]): string => facts.map((f) => `${f.label}: ${f.value}`).join('; ');

export function formatReport(s: BacktestSummary, allTrades: boolean): string {
  const facts = reportFacts(s);
  const out: string[] = [`backtest ${s.symbol} from ${s.file}`, ...facts.before.map(factLine)];
  if (s.strategy.trades.length > 0) {
    out.push(textRow(TRADE_COLUMNS).trimEnd());
    const rows = tradeRows(s.strategy.trades, allTrades);
    const line = (r: TradeRow): string => `${textRow(r.cells)}${r.open ? `  ${OPEN_TRADE_NOTE}` : ''}`;
    out.push(...rows.head.map(line));
    if (rows.omitted > 0) out.push(`  ${omittedNote(rows.omitted)}`);
    out.push(...rows.tail.map(line));
  }
  out.push(...facts.after.map(factLine));
  return `${out.join('\n')}\n`;
}
