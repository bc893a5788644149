/**
 * Which chart, if any, fits a query result. Lake results are tables; a chart
 * fits when a column holds timestamps and another holds numbers: volume by
 * hour becomes bars, a price series a line per symbol, signals get their
 * BUY/SELL markers. A result with fewer than two points per series (top
 * movers: one row per symbol) is left a table, since one point is no chart.
 */
import type { Cell, QueryResult } from '../../lake/query';

interface ChartPoint {
  /** UTC seconds, strictly increasing within a series. */
  time: number;
  value: number;
}

interface ChartMarker {
  time: number;
  signal: 'BUY' | 'SELL';
}

interface QueryChartSeries {
  name: string;
  points: ChartPoint[];
  markers: ChartMarker[];
}

export interface QueryChart {
  kind: 'line' | 'histogram';
  timeColumn: string;
  valueColumn: string;
  series: QueryChartSeries[];
  /** What was left out or added up, for the reader; null when nothing was. */
  note: string | null;
}

/** More lines than this are unreadable on one chart; the ones with the most points are drawn. */
export const MAX_LINES = 8;

/** The lake's timestamp text (lake/duckdb.ts and lake/athena.ts both give ISO-8601 UTC). */
const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

/** Columns whose numbers are counts or volumes: drawn as bars and added up across symbols. */
const SUMMED = /volume|^ticks$|count|^n$/i;

/** Value columns preferred, in order, over the first numeric column. */
const PREFERRED = ['price', 'close', 'total_volume', 'volume'];

function allOf(res: QueryResult, col: number, test: (c: Cell) => boolean): boolean {
  let seen = false;
  for (const r of res.rows) {
    const c = r[col] ?? null;
    if (c === null) continue;
    if (!test(c)) return false;
    seen = true;
  }
  return seen;
}

const isIso = (c: Cell): boolean => typeof c === 'string' && ISO_UTC.test(c);
const isNumber = (c: Cell): boolean => typeof c === 'number' && Number.isFinite(c);

export function queryChart(res: QueryResult): QueryChart | null {
  const timeCol = res.columns.findIndex((_, i) => allOf(res, i, isIso));
  if (timeCol < 0) return null;
  const numeric = res.columns.map((_, i) => i !== timeCol && allOf(res, i, isNumber));
  const preferred = PREFERRED.map((name) => res.columns.indexOf(name)).find((i) => i >= 0 && numeric[i] === true);
  const valueCol = preferred ?? numeric.indexOf(true);
  if (valueCol < 0) return null;
  const valueName = res.columns[valueCol] as string;
  const summed = SUMMED.test(valueName);
  const symbolCol = res.columns.indexOf('symbol');
  const signalCol = res.columns.indexOf('signal');

  // Per group (symbol), time → value; a repeated time adds up (volumes) or the later row wins (prices).
  const groups = new Map<string, { values: Map<number, number>; markers: Map<number, 'BUY' | 'SELL'> }>();
  for (const r of res.rows) {
    const t = r[timeCol] ?? null;
    const v = r[valueCol] ?? null;
    if (typeof t !== 'string' || typeof v !== 'number') continue;
    const time = Math.floor(Date.parse(t) / 1000);
    const key = summed || symbolCol < 0 ? '' : String(r[symbolCol] ?? '');
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { values: new Map(), markers: new Map() }));
    g.values.set(time, summed ? (g.values.get(time) ?? 0) + v : v);
    const sig = signalCol < 0 ? null : (r[signalCol] ?? null);
    if (sig === 'BUY' || sig === 'SELL') g.markers.set(time, sig);
  }

  const symbols = symbolCol < 0 ? 0 : new Set(res.rows.map((r) => r[symbolCol] ?? null).filter((s) => s !== null)).size;
  let series: QueryChartSeries[] = [...groups.entries()]
    .map(([key, g]) => ({
      name: key === '' ? (summed && symbols > 1 ? `${valueName} (all symbols)` : valueName) : key,
      points: [...g.values.entries()].sort((a, b) => a[0] - b[0]).map(([time, value]) => ({ time, value })),
      markers: [...g.markers.entries()].sort((a, b) => a[0] - b[0]).map(([time, signal]) => ({ time, signal })),
    }))
    .filter((s) => s.points.length >= 2);
  if (series.length === 0) return null;

  const notes: string[] = [];
  if (summed && symbols > 1) notes.push(`${valueName} added up over ${symbols.toLocaleString('en-US')} symbols per time`);
  if (series.length > MAX_LINES) {
    notes.push(`the ${MAX_LINES} symbols with the most rows of ${series.length.toLocaleString('en-US')}`);
    series = [...series].sort((a, b) => b.points.length - a.points.length || (a.name < b.name ? -1 : 1)).slice(0, MAX_LINES);
  }
  // lightweight-charts 5.2 draws a series' markers a second time along the
  // top edge when another series on the chart has points at other times, so
  // markers are drawn only on a chart of one line.
  if (series.length > 1 && series.some((s) => s.markers.length > 0)) {
    notes.push('BUY/SELL markers are drawn for one symbol at a time (add WHERE symbol = … to the SQL)');
    series = series.map((s) => ({ ...s, markers: [] }));
  }
  return {
    kind: summed ? 'histogram' : 'line',
    timeColumn: res.columns[timeCol] as string,
    valueColumn: valueName,
    series,
    note: notes.length === 0 ? null : notes.join('; '),
  };
}
