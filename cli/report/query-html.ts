/**
 * A lake query's HTML report: the result as a table, every cell escaped, and
 * a chart above it when one fits (query-chart.ts decides). Pure: result in,
 * HTML out.
 */
import type { Cell, QueryResult } from '../../lake/query';
import { escapeHtml } from '../../shared/web/assets';
import { when } from '../backtest-report';
import { renderPage } from './page';
import { queryChart, type QueryChart } from './query-chart';

/** Rows in the table; the chart uses every row. A browser stays responsive well past this. */
export const MAX_TABLE_ROWS = 10_000;

const PALETTE = ['#1971c2', '#f08c00', '#2f9e44', '#c2255c', '#7048e8', '#0c8599', '#e8590c', '#5c940d'] as const;

export interface QueryHtmlInput {
  /** The named query, or `SQL` for a query given as text. */
  title: string;
  description: string | null;
  sql: string;
  /** Where the data came from, e.g. the lake directory or the Athena database. */
  source: string;
  result: QueryResult;
  generatedAt: number;
}

// Plain browser JavaScript (ES2017, no build step).
const SCRIPT = `
var q = DATA.chart;
if (q) {
  var LC = window.LightweightCharts;
  var chart = LC.createChart(document.getElementById("chart"), {
    autoSize: true,
    layout: { background: { color: "#ffffff" }, textColor: "#1f2933", attributionLogo: false },
    grid: { vertLines: { color: "#f1f3f5" }, horzLines: { color: "#f1f3f5" } },
    timeScale: { timeVisible: true, secondsVisible: true, minBarSpacing: 0.001 }
  });
  q.series.forEach(function (s, i) {
    var color = DATA.palette[i % DATA.palette.length];
    var series = q.kind === "histogram"
      ? chart.addSeries(LC.HistogramSeries, { color: color, title: s.name, priceLineVisible: false, priceFormat: { type: "volume" } })
      : chart.addSeries(LC.LineSeries, { color: color, lineWidth: 2, title: s.name, priceLineVisible: false, pointMarkersVisible: s.points.length < 60 });
    series.setData(s.points);
    if (s.markers.length > 0) LC.createSeriesMarkers(series, s.markers.map(function (m) {
      return m.signal === "BUY"
        ? { time: m.time, position: "belowBar", shape: "arrowUp", color: "#0b8a5f", text: "BUY" }
        : { time: m.time, position: "aboveBar", shape: "arrowDown", color: "#c62828", text: "SELL" };
    }));
  });
  chart.timeScale().fitContent();
}
document.body.setAttribute("data-charts-drawn", q ? "1" : "0");
`;

function cell(c: Cell, numeric: boolean): string {
  if (c === null) return '<td class="null">NULL</td>';
  return `<td${numeric ? ' class="num"' : ''}>${escapeHtml(String(c))}</td>`;
}

function chartSection(chart: QueryChart): string {
  const legend = chart.series.map((s, i) => `<span><i style="background:${PALETTE[i % PALETTE.length]}"></i>${escapeHtml(s.name)}</span>`).join('');
  return `<h2>${escapeHtml(chart.valueColumn)} by ${escapeHtml(chart.timeColumn)}</h2>
<div class="legend">${legend}</div>
${chart.note === null ? '' : `<p class="note">${escapeHtml(chart.note)}</p>`}
<div class="chart" id="chart"></div>`;
}

export function renderQueryHtml(q: QueryHtmlInput): string {
  const res = q.result;
  const chart = queryChart(res);
  const numeric = res.columns.map((_, i) => res.rows.length > 0 && res.rows.every((r) => (r[i] ?? null) === null || typeof r[i] === 'number'));
  const shown = res.rows.slice(0, MAX_TABLE_ROWS);
  const n = res.rows.length;
  const body = `
<h1>${escapeHtml(q.title)}</h1>
${q.description === null ? '' : `<p class="sub">${escapeHtml(q.description)}</p>`}
<p class="sub">${n.toLocaleString('en-US')} row${n === 1 ? '' : 's'} from ${escapeHtml(q.source)} · written ${escapeHtml(when(q.generatedAt))} UTC</p>
<details><summary>SQL</summary><pre>${escapeHtml(q.sql)}</pre></details>
${chart === null ? '' : chartSection(chart)}
<h2>Result</h2>
${shown.length < n ? `<p class="note">the first ${shown.length.toLocaleString('en-US')} of ${n.toLocaleString('en-US')} rows (--format csv prints them all)</p>` : ''}
<div class="scroll"><table id="result">
<thead><tr>${res.columns.map((c, i) => `<th${numeric[i] ? ' class="num"' : ''}>${escapeHtml(c)}</th>`).join('')}</tr></thead>
<tbody>
${shown.map((r) => `<tr>${res.columns.map((_, i) => cell(r[i] ?? null, numeric[i] === true)).join('')}</tr>`).join('\n')}
</tbody></table></div>
`;
  return renderPage({ title: `${q.title} (tickstream query)`, body, data: { chart, palette: PALETTE }, script: SCRIPT });
}
