/**
 * The symbol page: price with SMA-5, SMA-20 and the Bollinger bands, BUY/SELL
 * and anomaly markers, volume bars and an RSI pane, drawn by TradingView's
 * lightweight-charts (its standalone script, served by the dashboard, sets
 * window.LightweightCharts); new ticks are appended as they are stored.
 */
import type * as LWC from 'lightweight-charts';
import type { ChartColumns, ChartPoint } from '../wire';
import { connect, fmt, fmtTime } from './common.js';
import { afterAppend, detailFor, needsReplan, overviewBucket, selectPoints, spanMax, toLogical, toStore, type Detail } from './lod.js';

declare const LightweightCharts: typeof LWC;
const L = LightweightCharts;

const symbol = document.body.dataset.symbol ?? '';
const host = document.getElementById('chart')!;
const last = document.getElementById('last')!;

const chart = L.createChart(host, {
  autoSize: true,
  layout: { background: { type: L.ColorType.Solid, color: '#0f1419' }, textColor: '#d8dee6', panes: { separatorColor: '#222b35' } },
  grid: { vertLines: { color: '#1a222c' }, horzLines: { color: '#1a222c' } },
  // Fixed edges: zooming out ends with the whole plan on screen, not with a
  // blank margin taking the width (the zoom anchors at the cursor), which
  // left the oldest part unreachable once the bars hit minBarSpacing.
  timeScale: { timeVisible: true, secondsVisible: true, fixLeftEdge: true, fixRightEdge: true },
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
const lod = document.getElementById('lod');

/**
 * The page's copy of the history, as columns, one entry per chart second
 * (a chart's time is whole seconds, so of two ticks in one second the later
 * stands for it). The chart draws a plan over it (lod.ts): every point
 * around the view, min/max buckets elsewhere.
 */
const st = {
  time: [] as number[],
  price: [] as number[],
  volume: [] as number[],
  sma5: [] as (number | null)[],
  sma20: [] as (number | null)[],
  up: [] as (number | null)[],
  low: [] as (number | null)[],
  rsi: [] as (number | null)[],
  anomaly: [] as boolean[],
};
/** Store indexes that carry a marker, ascending: every plan draws them. */
const marked: number[] = [];
/** The last point held, by tick ts (ms). */
let lastTs = -Infinity;
const counts = { points: 0, sma5: 0, sma20: 0, signals: 0, anomalies: 0 };

/** Holds one point newer than every point held; 'same' when it took its second's place. */
function hold(ts: number, price: number, volume: number, sma5: number | null, sma20: number | null, up: number | null, low: number | null, rsi: number | null, signal: ChartPoint['signal'], anomaly: boolean): 'new' | 'same' {
  lastTs = ts;
  const time = Math.floor(ts / 1000);
  const n = st.time.length;
  const same = n > 0 && st.time[n - 1] === time;
  const i = same ? n - 1 : n;
  st.time[i] = time;
  st.price[i] = price;
  st.volume[i] = volume;
  st.sma5[i] = sma5;
  st.sma20[i] = sma20;
  st.up[i] = up;
  st.low[i] = low;
  st.rsi[i] = rsi;
  st.anomaly[i] = anomaly;
  const t = time as LWC.UTCTimestamp;
  if (signal === 'BUY') markers.push({ time: t, position: 'belowBar', shape: 'arrowUp', color: '#26a69a', text: 'BUY' });
  if (signal === 'SELL') markers.push({ time: t, position: 'aboveBar', shape: 'arrowDown', color: '#ef5350', text: 'SELL' });
  if (anomaly) markers.push({ time: t, position: 'inBar', shape: 'circle', color: '#f8e71c', size: 0.6 });
  if ((signal !== null || anomaly) && marked[marked.length - 1] !== i) marked.push(i);
  counts.points++;
  if (sma5 !== null) counts.sma5++;
  if (sma20 !== null) counts.sma20++;
  if (signal !== null) counts.signals++;
  if (anomaly) counts.anomalies++;
  return same ? 'same' : 'new';
}

const ANOMALY_VOLUME = '#6b5f1b';
/** The store indexes drawn, ascending (the chart's logical index k is store index plan[k]). */
let plan: number[] = [];
let detail: Detail = { from: 0, to: 0, bucket: 1 };
let plans = 0;
/** Views that came to rest and were checked for a re-plan. */
let checks = 0;

/** The line above the chart and what a test (or a person with devtools) can read without decoding the canvas. */
function showState(): void {
  const i = st.time.length - 1;
  if (i < 0) return;
  last.textContent = `${fmt(st.price[i]!)}  SMA-5 ${fmt(st.sma5[i]!)}  SMA-20 ${fmt(st.sma20[i]!)}  RSI ${fmt(st.rsi[i]!, 1)}  at ${fmtTime(lastTs)} UTC`;
  const n = st.time.length;
  const outer = overviewBucket(n);
  if (lod !== null) lod.textContent = plan.length < n ? `${n.toLocaleString('en-US')} points: every point around the view, elsewhere the low and high of each ${outer}` : '';
  Object.assign(document.body.dataset, {
    points: String(counts.points),
    sma5: String(counts.sma5),
    sma20: String(counts.sma20),
    signals: String(counts.signals),
    anomalies: String(counts.anomalies),
    lastTs: String(lastTs),
    drawn: String(plan.length),
    detail: `${detail.from}-${detail.to}/${detail.bucket}`,
    plans: String(plans),
  });
}

/** Draws the plan for `detail`: one setData per series. */
function drawPlan(): void {
  const n = st.time.length;
  plan = selectPoints(st.price, n, marked, detail, overviewBucket(n));
  plans++;
  const d = { price: [] as LWC.LineData[], sma5: [] as LWC.LineData[], sma20: [] as LWC.LineData[], up: [] as LWC.LineData[], low: [] as LWC.LineData[], rsi: [] as LWC.LineData[], vol: [] as LWC.HistogramData[] };
  const opt = (arr: LWC.LineData[], time: LWC.UTCTimestamp, v: number | null): void => {
    if (v !== null) arr.push({ time, value: v });
  };
  for (let k = 0; k < plan.length; k++) {
    const i = plan[k]!;
    const time = st.time[i] as LWC.UTCTimestamp;
    d.price.push({ time, value: st.price[i]! });
    opt(d.sma5, time, st.sma5[i]!);
    opt(d.sma20, time, st.sma20[i]!);
    opt(d.up, time, st.up[i]!);
    opt(d.low, time, st.low[i]!);
    opt(d.rsi, time, st.rsi[i]!);
    // the biggest volume the bar stands for; the series' own colour unless anomalous (no per-bar field for ordinary bars)
    const value = spanMax(st.volume, plan, k, n);
    d.vol.push(st.anomaly[i] ? { time, value, color: ANOMALY_VOLUME } : { time, value });
  }
  price.setData(d.price);
  sma5.setData(d.sma5);
  sma20.setData(d.sma20);
  bbUpper.setData(d.up);
  bbLower.setData(d.low);
  rsi.setData(d.rsi);
  volume.setData(d.vol);
  // a copy: the page's list grows after the chart has it
  markerApi.setMarkers(markers.slice());
  // Zooming out stops where the whole plan fits the width: the default
  // minimum (0.5 px a bar, ~2,600 bars) stops short of the overview, so a long
  // history could never be seen whole; a smaller fixed one lets it shrink to
  // a sliver once re-planned to fewer points.
  chart.timeScale().applyOptions({ minBarSpacing: Math.min(0.5, Math.max(0.01, chart.timeScale().width() / Math.max(1, plan.length))) });
}

/** Appends (or, in the same second, replaces) the drawn last point with store index i. */
function drawLast(i: number): void {
  const time = st.time[i] as LWC.UTCTimestamp;
  price.update({ time, value: st.price[i]! });
  for (const [series, v] of [
    [sma5, st.sma5[i]!],
    [sma20, st.sma20[i]!],
    [bbUpper, st.up[i]!],
    [bbLower, st.low[i]!],
    [rsi, st.rsi[i]!],
  ] as const)
    if (v !== null) series.update({ time, value: v });
  volume.update(st.anomaly[i] ? { time, value: st.volume[i]!, color: ANOMALY_VOLUME } : { time, value: st.volume[i]! });
}

/** Live points, as the stream sends them: each drawn as it comes. */
function addPoints(points: readonly ChartPoint[]): void {
  const n0 = st.time.length;
  const m0 = markers.length;
  for (const p of points) {
    if (p.ts <= lastTs) continue;
    const r = hold(p.ts, p.price, p.volume, p.sma5, p.sma20, p.bb_upper, p.bb_lower, p.rsi14, p.signal, p.anomaly);
    const i = st.time.length - 1;
    if (r === 'new') plan.push(i);
    // a second already drawn as part of a min/max bucket: the next plan draws it
    else if (plan[plan.length - 1] !== i) continue;
    drawLast(i);
  }
  detail = afterAppend(detail, n0, st.time.length);
  if (markers.length > m0) markerApi.setMarkers(markers.slice());
  showState();
}

/** Points in the first view of a long history. */
const RECENT_VIEW = 3000;
/** How long the view must rest before it is re-planned: not while a drag or a wheel is still moving it. */
const REPLAN_AFTER_MS = 120;

/**
 * What is on screen: the chart's logical range, the part of it with data
 * (logical [dataFrom, dataTo]) as store positions [from, to], and the store
 * indexes [a, b] shown.
 */
function onScreen(): { from: number; to: number; a: number; b: number; left: number; right: number; bars: number } | undefined {
  const r = chart.timeScale().getVisibleLogicalRange();
  const n = st.time.length;
  if (r === null || n === 0 || plan.length === 0) return undefined;
  const dataFrom = Math.min(plan.length - 1, Math.max(0, r.from));
  const dataTo = Math.max(dataFrom, Math.min(plan.length - 1, r.to));
  const from = toStore(plan, dataFrom);
  const to = toStore(plan, dataTo);
  return { from, to, a: Math.floor(from), b: Math.ceil(to), left: dataFrom - r.from, right: r.to - dataTo, bars: dataTo - dataFrom };
}

/**
 * Re-plans around the view once it rests, keeping the same stretch of time
 * on screen and the same share of it blank on either side (the blank margins
 * are in bars, and a new plan has more or fewer bars for the same time).
 */
function replanIfNeeded(): void {
  const v = onScreen();
  if (v === undefined) return;
  checks++;
  Object.assign(document.body.dataset, { viewFrom: String(v.a), viewTo: String(v.b), checks: String(checks) });
  if (!needsReplan(detail, v.a, v.b, st.time.length)) return;
  const t0 = performance.now();
  detail = detailFor(v.a, v.b, st.time.length);
  drawPlan();
  const from = toLogical(plan, v.from);
  const to = toLogical(plan, v.to);
  const scale = v.bars > 0 ? (to - from) / v.bars : 1;
  chart.timeScale().setVisibleLogicalRange({ from: from - v.left * scale, to: to + v.right * scale });
  document.body.dataset.replanMs = String(Math.round(performance.now() - t0));
  showState();
  performance.mark('chart:replanned');
}

let replanTimer: ReturnType<typeof setTimeout> | undefined;
chart.timeScale().subscribeVisibleLogicalRangeChange(() => {
  if (plan.length === 0) return;
  clearTimeout(replanTimer);
  replanTimer = setTimeout(replanIfNeeded, REPLAN_AFTER_MS);
});

/** Draws the history and the live points that came while it was read: all of it, its latest part on screen. */
function drawHistory(c: ChartColumns): void {
  performance.mark('chart:parsed');
  let s = 0;
  let a = 0;
  for (let i = 0; i < c.ts.length; i++) {
    // the sparse lists are in index order: a cursor into each
    while (s < c.signals.length && c.signals[s]![0] < i) s++;
    while (a < c.anomalies.length && c.anomalies[a]! < i) a++;
    if (c.ts[i]! <= lastTs) continue;
    const signal = s < c.signals.length && c.signals[s]![0] === i ? c.signals[s]![1] : null;
    hold(c.ts[i]!, c.price[i]!, c.volume[i]!, c.sma5[i] ?? null, c.sma20[i] ?? null, c.bb_upper[i] ?? null, c.bb_lower[i] ?? null, c.rsi14[i] ?? null, signal, a < c.anomalies.length && c.anomalies[a] === i);
  }
  for (const p of waiting ?? []) if (p.ts > lastTs) hold(p.ts, p.price, p.volume, p.sma5, p.sma20, p.bb_upper, p.bb_lower, p.rsi14, p.signal, p.anomaly);
  waiting = undefined;
  const n = st.time.length;
  if (n === 0) return;
  const first = Math.max(0, n - RECENT_VIEW);
  detail = detailFor(first, n - 1, n);
  drawPlan();
  if (n > RECENT_VIEW) chart.timeScale().setVisibleLogicalRange({ from: toLogical(plan, first), to: plan.length });
  else chart.timeScale().fitContent();
  showState();
  performance.mark('chart:drawn');
  // two frames: the chart paints in the first (its own rAF), the second starts once that one is shown
  requestAnimationFrame(() => requestAnimationFrame(() => performance.mark('chart:painted')));
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
    // All of a long history is in the chart (scroll or zoom out to see it),
    // drawn at the detail lod.ts plans; the first view is its latest part.
    .then((h) => drawHistory(h))
    .catch((err: unknown) => {
      waiting = undefined;
      throw err;
    });
});
