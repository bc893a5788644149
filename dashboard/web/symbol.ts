/**
 * The symbol page: price with SMA-5, SMA-20 and the Bollinger bands, BUY/SELL
 * and anomaly markers, volume bars and an RSI pane, drawn by TradingView's
 * lightweight-charts (its standalone script, served by the dashboard, sets
 * window.LightweightCharts); new ticks are appended as they are stored.
 */
import type * as LWC from 'lightweight-charts';
import type { ChartColumns, ChartPoint } from '../wire';
import { connect, fmt, fmtTime } from './common.js';

declare const LightweightCharts: typeof LWC;
const L = LightweightCharts;

const symbol = document.body.dataset.symbol ?? '';
const host = document.getElementById('chart')!;
const last = document.getElementById('last')!;

const chart = L.createChart(host, {
  autoSize: true,
  layout: { background: { type: L.ColorType.Solid, color: '#0f1419' }, textColor: '#d8dee6', panes: { separatorColor: '#222b35' } },
  grid: { vertLines: { color: '#1a222c' }, horzLines: { color: '#1a222c' } },
  timeScale: { timeVisible: true, secondsVisible: true },
});
const line = (color: string, width: 1 | 2, pane = 0, dashed = false): LWC.ISeriesApi<'Line'> =>
  chart.addSeries(L.LineSeries, { color, lineWidth: width, lineStyle: dashed ? L.LineStyle.Dashed : L.LineStyle.Solid, priceLineVisible: false, lastValueVisible: false }, pane);
const price = line('#d8dee6', 2);
price.applyOptions({ lastValueVisible: true });
const sma5 = line('#f5a623', 2);
const sma20 = line('#bd10e0', 2);
const bbUpper = line('#5a7fa8', 1, 0, true);
const bbLower = line('#5a7fa8', 1, 0, true);
const volume = chart.addSeries(L.HistogramSeries, { priceScaleId: 'volume', priceFormat: { type: 'volume' }, color: '#2a3b4d', priceLineVisible: false, lastValueVisible: false });
chart.priceScale('volume').applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
const rsi = line('#9b9b9b', 1, 1);
chart.panes()[1]?.setHeight(110);
const markerApi = L.createSeriesMarkers(price, []);
const markers: LWC.SeriesMarker<LWC.Time>[] = [];
/** The last point drawn, by tick ts (ms); a chart's time is whole seconds. */
let lastTs = -Infinity;
let lastSec = -Infinity;
const counts = { points: 0, sma5: 0, sma20: 0, signals: 0, anomalies: 0 };

/** The series' new data, filled in one pass over the points and set once per series. */
interface Batch {
  price: LWC.LineData[];
  sma5: LWC.LineData[];
  sma20: LWC.LineData[];
  up: LWC.LineData[];
  low: LWC.LineData[];
  rsi: LWC.LineData[];
  vol: LWC.HistogramData[];
  /** The newest point's values, for the line above the chart (formatted once, in draw). */
  ts: number;
  price_: number;
  sma5_: number | null;
  sma20_: number | null;
  rsi_: number | null;
}

const newBatch = (): Batch => ({ price: [], sma5: [], sma20: [], up: [], low: [], rsi: [], vol: [], ts: 0, price_: 0, sma5_: null, sma20_: null, rsi_: null });

/** Appends one point newer than everything drawn. */
function push(b: Batch, bulk: boolean, ts: number, price: number, volume: number, sma5: number | null, sma20: number | null, up: number | null, low: number | null, rsi: number | null, signal: ChartPoint['signal'], anomaly: boolean): void {
  lastTs = ts;
  const time = Math.floor(ts / 1000) as LWC.UTCTimestamp;
  // Two ticks in one second: the later one stands for the second (update() replaces the bar at the same time).
  if (bulk && time === lastSec) for (const arr of [b.price, b.sma5, b.sma20, b.up, b.low, b.rsi, b.vol]) if (arr.length > 0 && arr[arr.length - 1]!.time === time) arr.pop();
  lastSec = time;
  b.price.push({ time, value: price });
  // the series' own colour unless anomalous: no per-bar field to allocate and copy for 100,000 ordinary bars
  b.vol.push(anomaly ? { time, value: volume, color: '#6b5f1b' } : { time, value: volume });
  if (sma5 !== null) b.sma5.push({ time, value: sma5 });
  if (sma20 !== null) b.sma20.push({ time, value: sma20 });
  if (up !== null) b.up.push({ time, value: up });
  if (low !== null) b.low.push({ time, value: low });
  if (rsi !== null) b.rsi.push({ time, value: rsi });
  if (signal === 'BUY') markers.push({ time, position: 'belowBar', shape: 'arrowUp', color: '#26a69a', text: 'BUY' });
  if (signal === 'SELL') markers.push({ time, position: 'aboveBar', shape: 'arrowDown', color: '#ef5350', text: 'SELL' });
  if (anomaly) markers.push({ time, position: 'inBar', shape: 'circle', color: '#f8e71c', size: 0.6 });
  counts.points++;
  if (sma5 !== null) counts.sma5++;
  if (sma20 !== null) counts.sma20++;
  if (signal !== null) counts.signals++;
  if (anomaly) counts.anomalies++;
  b.ts = ts;
  b.price_ = price;
  b.sma5_ = sma5;
  b.sma20_ = sma20;
  b.rsi_ = rsi;
}

/** Points in the chart's series (the price line's), as opposed to points held by the page. */
let drawn = 0;

/** Draws a batch: `bulk` sets whole series at once (the history), otherwise each point is appended. */
function draw(b: Batch, bulk: boolean): void {
  if (b.price.length === 0) return;
  const pairs: [LWC.ISeriesApi<'Line'> | LWC.ISeriesApi<'Histogram'>, (LWC.LineData | LWC.HistogramData)[]][] = [
    [price, b.price],
    [sma5, b.sma5],
    [sma20, b.sma20],
    [bbUpper, b.up],
    [bbLower, b.low],
    [rsi, b.rsi],
    [volume, b.vol],
  ];
  for (const [series, d] of pairs) {
    if (bulk) series.setData(d);
    else for (const x of d) series.update(x);
  }
  // a copy: the page's list grows (and is rebuilt) after the chart has it
  markerApi.setMarkers(markers.slice());
  drawn = bulk ? b.price.length : drawn + b.price.length;
  last.textContent = `${fmt(b.price_)}  SMA-5 ${fmt(b.sma5_)}  SMA-20 ${fmt(b.sma20_)}  RSI ${fmt(b.rsi_, 1)}  at ${fmtTime(b.ts)} UTC`;
  // what a test (or a person with devtools) can read without decoding the canvas
  Object.assign(document.body.dataset, { points: String(counts.points), sma5: String(counts.sma5), sma20: String(counts.sma20), signals: String(counts.signals), anomalies: String(counts.anomalies), lastTs: String(lastTs), drawn: String(drawn) });
}

/** Live points, as the stream sends them. */
function addPoints(points: readonly ChartPoint[]): void {
  const b = newBatch();
  for (const p of points) if (p.ts > lastTs) push(b, false, p.ts, p.price, p.volume, p.sma5, p.sma20, p.bb_upper, p.bb_lower, p.rsi14, p.signal, p.anomaly);
  draw(b, false);
}

/** The history from point `from` on, as columns (ChartColumns), into one batch: no object per point until the chart's own. */
function historyBatch(c: ChartColumns, from: number): Batch {
  const b = newBatch();
  let s = 0;
  let a = 0;
  for (let i = from; i < c.ts.length; i++) {
    // the sparse lists are in index order: a cursor into each
    while (s < c.signals.length && c.signals[s]![0] < i) s++;
    while (a < c.anomalies.length && c.anomalies[a]! < i) a++;
    if (c.ts[i]! <= lastTs) continue;
    const signal = s < c.signals.length && c.signals[s]![0] === i ? c.signals[s]![1] : null;
    push(b, true, c.ts[i]!, c.price[i]!, c.volume[i]!, c.sma5[i] ?? null, c.sma20[i] ?? null, c.bb_upper[i] ?? null, c.bb_lower[i] ?? null, c.rsi14[i] ?? null, signal, a < c.anomalies.length && c.anomalies[a] === i);
  }
  return b;
}

/** Points in the first view of a long history. */
const RECENT_VIEW = 3000;

/** Shows the latest RECENT_VIEW points, or all when there are fewer. */
function showRecent(): void {
  if (drawn > RECENT_VIEW) chart.timeScale().setVisibleLogicalRange({ from: drawn - RECENT_VIEW, to: drawn });
  else chart.timeScale().fitContent();
}

/** Draws the history, then the live points that came while it was read. */
function drawHistory(c: ChartColumns): void {
  performance.mark('chart:parsed');
  const n = c.ts.length;
  const finish = (): void => {
    draw(historyBatch(c, 0), true);
    addPoints(waiting ?? []);
    waiting = undefined;
    showRecent();
    document.body.dataset.view = 'all';
    performance.mark('chart:all');
    requestAnimationFrame(() => requestAnimationFrame(() => performance.mark('chart:all-painted')));
  };
  if (n <= RECENT_VIEW * 2) return finish();
  // A long history: its latest part first. lightweight-charts' setData costs
  // about the same per point whether a point is on screen or not, and so
  // does building its points (bench:dashboard: 7 series x 100,000 points
  // took most of 2-3 s before the first frame), so the screen's worth is
  // built, set and painted first, and the whole history, scrollable,
  // follows a frame later. Live points wait for it (the stream holds them).
  const before = { lastTs, lastSec, counts: { ...counts }, markers: markers.length };
  draw(historyBatch(c, n - RECENT_VIEW), true);
  showRecent();
  document.body.dataset.view = 'recent';
  performance.mark('chart:first');
  // the whole history is built again from its first point: forget the tail's
  lastTs = before.lastTs;
  lastSec = before.lastSec;
  Object.assign(counts, before.counts);
  markers.length = before.markers;
  // two frames: the chart paints in the first (its own rAF), the second starts once that one is shown
  requestAnimationFrame(() =>
    requestAnimationFrame(() => {
      performance.mark('chart:first-painted');
      setTimeout(finish, 0);
    }),
  );
}

/** Live points that came before the history did. */
let waiting: ChartPoint[] | undefined;
connect({ topics: [], symbol }, (e) => {
  if (e.points === undefined) return;
  if (waiting !== undefined) {
    waiting.push(...e.points);
    return;
  }
  if (counts.points > 0) {
    addPoints(e.points);
    return;
  }
  // the stream's first event: it now holds every new point, so the history can be read
  waiting = [...e.points];
  void fetch(`/api/symbol/${encodeURIComponent(symbol)}`)
    .then((r) => r.json() as Promise<ChartColumns>)
    // All of a long history is loaded (scroll or zoom out to see it), but
    // the first view is its latest part: drawing 100,000 points at once
    // costs seconds a frame and shows nothing a person can read.
    .then((h) => drawHistory(h))
    .catch((err: unknown) => {
      waiting = undefined;
      throw err;
    });
});
