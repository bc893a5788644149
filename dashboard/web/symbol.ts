/**
 * The symbol page: price with SMA-5, SMA-20 and the Bollinger bands, BUY/SELL
 * and anomaly markers, volume bars and an RSI pane, drawn by TradingView's
 * lightweight-charts (its standalone script, served by the dashboard, sets
 * window.LightweightCharts); new ticks are appended as they are stored.
 */
import type * as LWC from 'lightweight-charts';
import type { ChartPoint, SymbolHistory } from '../wire';
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

function markerOf(p: ChartPoint, time: LWC.UTCTimestamp): LWC.SeriesMarker<LWC.Time>[] {
  const out: LWC.SeriesMarker<LWC.Time>[] = [];
  if (p.signal === 'BUY') out.push({ time, position: 'belowBar', shape: 'arrowUp', color: '#26a69a', text: 'BUY' });
  if (p.signal === 'SELL') out.push({ time, position: 'aboveBar', shape: 'arrowDown', color: '#ef5350', text: 'SELL' });
  if (p.anomaly) out.push({ time, position: 'inBar', shape: 'circle', color: '#f8e71c', size: 0.6 });
  return out;
}

/** Adds points newer than what is drawn; `bulk` sets whole series at once (the snapshot). */
function add(points: readonly ChartPoint[], bulk: boolean): void {
  const fresh = points.filter((p) => p.ts > lastTs);
  if (fresh.length === 0) return;
  const data = { price: [] as LWC.LineData[], sma5: [] as LWC.LineData[], sma20: [] as LWC.LineData[], up: [] as LWC.LineData[], low: [] as LWC.LineData[], rsi: [] as LWC.LineData[], vol: [] as LWC.HistogramData[] };
  for (const p of fresh) {
    lastTs = p.ts;
    const time = Math.floor(p.ts / 1000) as LWC.UTCTimestamp;
    // Two ticks in one second: the later one stands for the second (update() replaces the bar at the same time).
    if (bulk && time === lastSec) for (const arr of Object.values(data)) if (arr.length > 0 && arr[arr.length - 1]!.time === time) arr.pop();
    lastSec = time;
    data.price.push({ time, value: p.price });
    data.vol.push({ time, value: p.volume, color: p.anomaly ? '#6b5f1b' : '#2a3b4d' });
    if (p.sma5 !== null) data.sma5.push({ time, value: p.sma5 });
    if (p.sma20 !== null) data.sma20.push({ time, value: p.sma20 });
    if (p.bb_upper !== null) data.up.push({ time, value: p.bb_upper });
    if (p.bb_lower !== null) data.low.push({ time, value: p.bb_lower });
    if (p.rsi14 !== null) data.rsi.push({ time, value: p.rsi14 });
    const m = markerOf(p, time);
    markers.push(...m);
    counts.points++;
    if (p.sma5 !== null) counts.sma5++;
    if (p.sma20 !== null) counts.sma20++;
    if (p.signal !== null) counts.signals++;
    if (p.anomaly) counts.anomalies++;
  }
  const pairs: [LWC.ISeriesApi<'Line'> | LWC.ISeriesApi<'Histogram'>, (LWC.LineData | LWC.HistogramData)[]][] = [
    [price, data.price],
    [sma5, data.sma5],
    [sma20, data.sma20],
    [bbUpper, data.up],
    [bbLower, data.low],
    [rsi, data.rsi],
    [volume, data.vol],
  ];
  for (const [series, d] of pairs) {
    if (bulk) series.setData(d);
    else for (const x of d) series.update(x);
  }
  markerApi.setMarkers(markers);
  const p = fresh[fresh.length - 1]!;
  last.textContent = `${fmt(p.price)}  SMA-5 ${fmt(p.sma5)}  SMA-20 ${fmt(p.sma20)}  RSI ${fmt(p.rsi14, 1)}  at ${fmtTime(p.ts)} UTC`;
  // what a test (or a person with devtools) can read without decoding the canvas
  Object.assign(document.body.dataset, { points: String(counts.points), sma5: String(counts.sma5), sma20: String(counts.sma20), signals: String(counts.signals), anomalies: String(counts.anomalies), lastTs: String(lastTs) });
}

/** Points in the first view of a long history. */
const RECENT_VIEW = 3000;

/** Live points that came before the history did. */
let waiting: ChartPoint[] | undefined;
connect({ topics: [], symbol }, (e) => {
  if (e.points === undefined) return;
  if (waiting !== undefined) {
    waiting.push(...e.points);
    return;
  }
  if (counts.points > 0) {
    add(e.points, false);
    return;
  }
  // the stream's first event: it now holds every new point, so the history can be read
  waiting = [...e.points];
  void fetch(`/api/symbol/${encodeURIComponent(symbol)}`)
    .then((r) => r.json() as Promise<SymbolHistory>)
    .then((h) => {
      add(h.points, true);
      add(waiting ?? [], false);
      // All of a long history is loaded (scroll or zoom out to see it), but
      // the first view is its latest part: drawing 100,000 points at once
      // costs seconds a frame and shows nothing a person can read.
      const n = counts.points;
      if (n > RECENT_VIEW) chart.timeScale().setVisibleLogicalRange({ from: n - RECENT_VIEW, to: n });
      else chart.timeScale().fitContent();
    })
    .finally(() => {
      waiting = undefined;
    });
});
