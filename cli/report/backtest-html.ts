/**
 * The backtest's HTML report: price with SMA-5/SMA-20 and the trades
 * marked, the strategy's equity against buy-and-hold, the drawdown, and the
 * statistics and trades the text report prints (from cli/backtest-report.ts,
 * the same facts and rows). Pure: summary and series in, HTML out.
 */
import { escapeHtml } from '../../shared/web/assets';
import type { Trade } from '../backtest-core';
import { OPEN_TRADE_NOTE, TRADE_COLUMNS, omittedNote, reportFacts, tradeRows, when, type BacktestSummary, type Fact, type TradeRow } from '../backtest-report';
import type { BacktestChartData } from './backtest-chart';
import { renderPage } from './page';

/** Markers beyond this many trades would hide the price line; the first and last half are marked. */
export const MAX_MARKED_TRADES = 2_000;

export interface TradeMarker {
  /** A point's time in BacktestChartData.time (the first at or after the trade). */
  time: number;
  side: 'BUY' | 'SELL';
  price: number;
}

/** The index of the first point at or after `sec`, the last point when none is. */
function pointAtOrAfter(times: readonly number[], sec: number): number {
  let lo = 0;
  let hi = times.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((times[mid] as number) < sec) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Entry (BUY) and exit (SELL) markers, placed on the chart's own points: when
 * points stand for several bars, a trade sits on the point holding its bar.
 * An open trade has no exit marker (it was not sold).
 */
export function tradeMarkers(trades: readonly Trade[], times: readonly number[]): { markers: TradeMarker[]; markedTrades: number } {
  if (times.length === 0) return { markers: [], markedTrades: 0 };
  const half = MAX_MARKED_TRADES / 2;
  const marked = trades.length <= MAX_MARKED_TRADES ? trades : [...trades.slice(0, half), ...trades.slice(-half)];
  const markers: TradeMarker[] = [];
  const at = (ts: number): number => times[pointAtOrAfter(times, Math.floor(ts / 1000))] as number;
  for (const t of marked) {
    markers.push({ time: at(t.entryTs), side: 'BUY', price: t.entryPrice });
    if (!t.open) markers.push({ time: at(t.exitTs), side: 'SELL', price: t.exitPrice });
  }
  return { markers, markedTrades: marked.length };
}

const COLORS = { close: '#1f2933', sma5: '#f08c00', sma20: '#1971c2', strategy: '#7048e8', hold: '#868e96', drawdown: '#c62828' } as const;

/** The data block the page's script reads. */
export interface BacktestPageData {
  chart: BacktestChartData;
  markers: TradeMarker[];
  colors: typeof COLORS;
}

// Plain browser JavaScript (ES2017, no build step): three charts on one time
// axis, kept in step by their logical ranges (every series has a point at
// each index of DATA.chart.time, so indexes line up across the charts).
const SCRIPT = `
var LC = window.LightweightCharts, c = DATA.chart, col = DATA.colors;
function make(id, percent) {
  return LC.createChart(document.getElementById(id), {
    autoSize: true,
    layout: { background: { color: "#ffffff" }, textColor: "#1f2933", attributionLogo: false },
    grid: { vertLines: { color: "#f1f3f5" }, horzLines: { color: "#f1f3f5" } },
    // The default minimum spacing (0.5 px a bar) stops fitContent from showing more than ~2,000 points.
    timeScale: { timeVisible: true, secondsVisible: false, minBarSpacing: 0.001 },
    rightPriceScale: { scaleMargins: { top: 0.1, bottom: 0.1 } },
    localization: percent ? { priceFormatter: function (v) { return v.toFixed(2) + " %"; } } : {}
  });
}
function points(values, scale) {
  var out = [];
  for (var i = 0; i < c.time.length; i++) {
    var v = values[i];
    if (v !== null && v !== undefined) out.push({ time: c.time[i], value: scale ? scale(v) : v });
  }
  return out;
}
function line(chart, values, color, title, width, scale) {
  var s = chart.addSeries(LC.LineSeries, { color: color, lineWidth: width, title: title, priceLineVisible: false, lastValueVisible: true });
  s.setData(points(values, scale));
  return s;
}
var asReturn = function (m) { return (m - 1) * 100; };
var asLoss = function (f) { return -f * 100; };
var price = make("chart-price", false);
var closes = line(price, c.close, col.close, "close", 2);
line(price, c.sma5, col.sma5, "SMA-5", 2);
line(price, c.sma20, col.sma20, "SMA-20", 2);
// Words under each arrow only while they fit; many trades make them a smear.
var labelled = DATA.markers.length <= 40;
LC.createSeriesMarkers(closes, DATA.markers.map(function (m) {
  return m.side === "BUY"
    ? { time: m.time, position: "belowBar", shape: "arrowUp", color: "#0b8a5f", text: labelled ? "BUY" : "" }
    : { time: m.time, position: "aboveBar", shape: "arrowDown", color: "#c62828", text: labelled ? "SELL" : "" };
}));
var equity = make("chart-equity", true);
line(equity, c.equity, col.strategy, "strategy", 2, asReturn);
line(equity, c.hold, col.hold, "buy and hold", 2, asReturn);
var dd = make("chart-drawdown", true);
var area = dd.addSeries(LC.AreaSeries, { lineColor: col.drawdown, topColor: "rgba(198,40,40,0.05)", bottomColor: "rgba(198,40,40,0.35)", lineWidth: 2, title: "strategy", priceLineVisible: false, invertFilledArea: true });
area.setData(points(c.drawdown, asLoss));
line(dd, c.holdDrawdown, col.hold, "buy and hold", 1, asLoss);
var charts = [price, equity, dd], syncing = false;
charts.forEach(function (ch) {
  ch.timeScale().fitContent();
  ch.timeScale().subscribeVisibleLogicalRangeChange(function (range) {
    if (syncing || range === null) return;
    syncing = true;
    charts.forEach(function (other) { if (other !== ch) other.timeScale().setVisibleLogicalRange(range); });
    syncing = false;
  });
});
// The price chart's visible points, kept current (the charts size themselves
// after this script), so a test can see that fitContent shows every point.
price.timeScale().subscribeVisibleLogicalRangeChange(function (r) {
  if (r !== null) document.body.setAttribute("data-price-range", Math.round(r.from) + ".." + Math.round(r.to));
});
document.body.setAttribute("data-charts-drawn", String(charts.length));
`;

function factsTable(rows: readonly Fact[][]): string {
  return rows
    .flat()
    .map((f) => `<tr><th scope="row">${escapeHtml(f.label)}</th><td>${escapeHtml(f.value)}</td></tr>`)
    .join('\n');
}

function tradeTr(r: TradeRow): string {
  const ret = r.cells[5] ?? '';
  const cls = ret.startsWith('+') ? 'pos' : ret.startsWith('-') ? 'neg' : '';
  return `<tr${r.open ? ' class="open"' : ''}>${r.cells.map((c, i) => `<td class="${i === 1 || i === 3 ? '' : 'num'}${i === 5 ? ` ${cls}` : ''}">${escapeHtml(c)}</td>`).join('')}<td>${r.open ? escapeHtml(OPEN_TRADE_NOTE) : ''}</td></tr>`;
}

function legend(items: readonly [string, string][]): string {
  return `<div class="legend">${items.map(([color, label]) => `<span><i style="background:${color}"></i>${escapeHtml(label)}</span>`).join('')}</div>`;
}

export interface BacktestHtmlOptions {
  allTrades: boolean;
  /** When the report was written (shown, not computed here, so rendering stays pure). */
  generatedAt: number;
}

export function renderBacktestHtml(s: BacktestSummary, chart: BacktestChartData, opts: BacktestHtmlOptions): string {
  const facts = reportFacts(s);
  const { markers, markedTrades } = tradeMarkers(s.strategy.trades, chart.time);
  const trades = tradeRows(s.strategy.trades, opts.allTrades);
  const n = s.strategy.trades.length;
  const resolution =
    chart.barsPerPoint === 1
      ? `every bar drawn (${chart.time.length.toLocaleString('en-US')} points)`
      : `${chart.bars.toLocaleString('en-US')} bars drawn as ${chart.time.length.toLocaleString('en-US')} points of up to ${chart.barsPerPoint.toLocaleString('en-US')} bars each (each point: its last bar; drawdown: its worst)`;
  const body = `
<h1>Backtest ${escapeHtml(s.symbol)}</h1>
<p class="sub">from ${escapeHtml(s.file)} · written ${escapeHtml(when(opts.generatedAt))} UTC · ${escapeHtml(resolution)}</p>

<h2>Price, SMA-5 and SMA-20, trades</h2>
${legend([
  [COLORS.close, 'close'],
  [COLORS.sma5, 'SMA-5'],
  [COLORS.sma20, 'SMA-20'],
])}
<p class="note">▲ BUY: long at that bar's close · ▼ SELL: flat at that bar's close${markedTrades < n ? ` · markers for the first and last ${(markedTrades / 2).toLocaleString('en-US')} of ${n.toLocaleString('en-US')} trades` : ''}</p>
<div class="chart" id="chart-price"></div>

<h2>Equity: strategy against buy and hold (return since the first bar)</h2>
${legend([
  [COLORS.strategy, 'strategy'],
  [COLORS.hold, 'buy and hold'],
])}
<div class="chart small" id="chart-equity"></div>

<h2>Drawdown (below the running peak)</h2>
${legend([
  [COLORS.drawdown, 'strategy'],
  [COLORS.hold, 'buy and hold'],
])}
<div class="chart small" id="chart-drawdown"></div>

<h2>Statistics</h2>
<table id="stats">
${factsTable(facts.before)}
${factsTable(facts.after)}
</table>

<h2>Trades</h2>
${
  n === 0
    ? '<p class="note">no trades</p>'
    : `<div class="scroll"><table id="trades">
<thead><tr>${TRADE_COLUMNS.map((c, i) => `<th class="${i === 1 || i === 3 ? '' : 'num'}">${escapeHtml(c)}</th>`).join('')}<th></th></tr></thead>
<tbody>
${trades.head.map(tradeTr).join('\n')}
${trades.omitted > 0 ? `<tr><td colspan="7" class="null">${escapeHtml(omittedNote(trades.omitted))}</td></tr>` : ''}
${trades.tail.map(tradeTr).join('\n')}
</tbody></table></div>`
}
`;
  const data: BacktestPageData = { chart, markers, colors: COLORS };
  return renderPage({ title: `Backtest ${s.symbol}`, body, data, script: SCRIPT, style: '#stats th { background: none; font-weight: 600; white-space: normal; } #stats td { white-space: normal; } tr.open td { font-style: italic; }' });
}
