/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * `npm run bench:dashboard`: the dashboard server and pages on a synthetic
 * feed (no emulators, no pipeline), printing one JSON object:
 * - symbol updates per second delivered to each of 10 live-stream clients at
 *   5,000 symbols (each symbol in a batched event counts once);
 * - time until the market page shows 5,000 rows, in Chromium;
 * - the p95 frame time while those 5,000 rows update every second;
 * - time to draw a symbol chart of 100,000 points (all fetched, parsed and
 *   in the chart at the level of detail lod.ts plans), and what a zoom into
 *   its oldest part costs until every point there is drawn.
 * It lives under test/ beside the browser helpers it uses (bench/ may not
 * import test/); it is not a test and the suites never run it.
 */
import path from 'node:path';
import { startDashboard } from '../dashboard/server';
import { launchBrowser } from './helpers/browser';
import { FakeSource, marketRowOf, onServerEvents, pointOf } from './helpers/dashboard';

const SYMBOLS = 5000;
const CLIENTS = 10;
const STREAM_SECONDS = 10;
const CHART_POINTS = 100_000;

const symbols = Array.from({ length: SYMBOLS }, (_, i) => `S${String(i).padStart(4, '0')}`);

/** Drives `source` with every symbol updated `perSec` times a second, spread over 20 slices a second. */
function feed(source: FakeSource, perSec: number): () => void {
  let tick = 0;
  const slices = 20;
  const groups = slices / perSec;
  const timer = setInterval(() => {
    const now = Date.now();
    const rows = [];
    for (let i = tick % groups; i < SYMBOLS; i += groups) {
      const price = 100 + Math.sin((now + i) / 5000) * 10;
      const row = marketRowOf(symbols[i]!, now, price);
      source.rows.set(row.symbol, row);
      rows.push({ row, point: pointOf(now, price) });
    }
    tick++;
    source.emit({ rows });
  }, 1000 / slices);
  return () => clearInterval(timer);
}

function countStream(url: string, seconds: number): Promise<number> {
  return new Promise((resolve) => {
    let counted = 0;
    let started = 0;
    const req = onServerEvents(url, (data) => {
      // the snapshot is not a live update
      if (started === 0) {
        started = Date.now();
        return;
      }
      // counted, not parsed: ten clients parsing in this one process would measure JSON.parse, not the server
      for (let i = data.indexOf('{"symbol":'); i >= 0; i = data.indexOf('{"symbol":', i + 10)) counted++;
      if (Date.now() - started >= seconds * 1000) {
        req.destroy();
        resolve(counted / ((Date.now() - started) / 1000));
      }
    });
  });
}

async function main(): Promise<void> {
  const source = new FakeSource();
  for (const s of symbols) source.rows.set(s, marketRowOf(s, 1, 100));
  const base = Date.UTC(2024, 0, 2);
  source.histories.set(
    'BIG',
    Array.from({ length: CHART_POINTS }, (_, i) => {
      const p = pointOf(base + i * 1000, 100 + Math.sin(i / 50) * 5 + i / 10_000);
      return i % 500 === 250 ? { ...p, signal: i % 1000 === 250 ? ('BUY' as const) : ('SELL' as const) } : p;
    }),
  );
  const dash = await startDashboard({ source, host: '127.0.0.1', port: 0, staticDir: path.resolve(__dirname, '..', 'dist', 'dashboard', 'web') });
  const out: Record<string, unknown> = { symbols: SYMBOLS, clients: CLIENTS };
  try {
    // 1. The stream: four updates a symbol a second offered, so the delivered
    //    rate shows the server's capacity and not the feed's.
    let stop = feed(source, 4);
    const rates = await Promise.all(Array.from({ length: CLIENTS }, () => countStream(`${dash.url}events?topics=market`, STREAM_SECONDS)));
    stop();
    out.stream_symbol_updates_per_s_per_client = { min: Math.round(Math.min(...rates)), median: Math.round(rates.sort((a, b) => a - b)[Math.floor(rates.length / 2)]!), offered: SYMBOLS * 4 };

    // 2 and 3. The market page: 5,000 rows, then every one updated each second.
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const t0 = Date.now();
      await page.goto(dash.url);
      await page.waitForFunction((n) => document.body.dataset.rows === String(n) && document.querySelectorAll('.grid-row[data-symbol]').length > 0, SYMBOLS, { timeout: 60_000, polling: 'raf' });
      out.market_rows_visible_ms = Date.now() - t0;
      stop = feed(source, 1);
      // a string, not a function: tsx (esbuild) would wrap a named inner function in a __name() helper the page lacks
      const frames = await page.evaluate<number[]>(
        `new Promise((resolve) => { const d = []; let last = performance.now(); const end = last + 10000; const step = (t) => { d.push(t - last); last = t; if (t < end) requestAnimationFrame(step); else resolve(d); }; requestAnimationFrame(step); })`,
      );
      stop();
      frames.sort((a, b) => a - b);
      out.market_frame_ms = { p50: Math.round(frames[Math.floor(frames.length * 0.5)]! * 10) / 10, p95: Math.round(frames[Math.floor(frames.length * 0.95)]! * 10) / 10, frames: frames.length };

      // 4. A symbol chart of 100,000 points, from navigation until the frame
      //    that shows it is painted: all 100,000 fetched, parsed and held,
      //    the whole history in the chart (every point of the latest 3,000
      //    and around them, the low and high of each bucket elsewhere; see
      //    dashboard/web/lod.ts). The page marks the frame itself.
      await page.goto(`${dash.url}symbol/BIG`);
      await page.waitForFunction((n) => document.body.dataset.points === String(n) && performance.getEntriesByName('chart:painted').length > 0, CHART_POINTS, { timeout: 60_000 });
      const mark = (name: string): Promise<number> => page.evaluate((n) => Math.round(performance.getEntriesByName(n)[0]?.startTime ?? -1), name);
      out.chart_100k_points_ms = await mark('chart:painted');
      out.chart_100k_history_fetch_ms = await page.evaluate(`Math.round(performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/symbol/BIG')).map((e) => e.responseEnd - e.startTime)[0] ?? -1)`);
      out.chart_100k_series_points = Number(await page.evaluate(() => document.body.dataset.drawn));
      // where that time went: until the history is parsed (scripts, stream, fetch, JSON), until every series is set, until painted
      const parsed = await mark('chart:parsed');
      const drawn = await mark('chart:drawn');
      out.chart_100k_breakdown_ms = { to_parsed: parsed, hold_plan_set: drawn - parsed, paint: (out.chart_100k_points_ms as number) - drawn };
      // 5. A person zooms out to the whole history, then into a stretch at
      //    its start: the page re-plans once the view rests, and then draws
      //    every point there. Timed from the wheel to the re-planned frame,
      //    and the re-plan's own work (setData of the new plan).
      const box = (await page.locator('#chart').boundingBox())!;
      await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.4);
      const state = (): Promise<{ checks: number; plans: number; viewFrom: number; detail: string }> =>
        page.evaluate(() => ({ checks: Number(document.body.dataset.checks ?? 0), plans: Number(document.body.dataset.plans), viewFrom: Number(document.body.dataset.viewFrom), detail: document.body.dataset.detail ?? '' }));
      /** A quick spin of the wheel, then until the page has checked the view at rest (and re-planned if it needed to). */
      const spin = async (steps: number, dy: number): Promise<number> => {
        const before = await state();
        for (let i = 0; i < steps; i++) await page.mouse.wheel(0, dy);
        const at = await page.evaluate(() => performance.now());
        await page.waitForFunction((k) => Number(document.body.dataset.checks ?? 0) > k, before.checks, { timeout: 30_000 });
        return at;
      };
      // Zooming out stops where the plan fills the width; a re-plan to coarser
      // buckets lets the next spin go further, until the whole history shows.
      let spins = 0;
      do {
        await spin(30, 400);
        spins++;
      } while (spins < 8 && (await state()).viewFrom > 0);
      out.chart_100k_zoomed_out = { ...(await page.evaluate(() => ({ view: `${document.body.dataset.viewFrom}-${document.body.dataset.viewTo}`, detail: document.body.dataset.detail, series_points: Number(document.body.dataset.drawn) }))), wheel_spins: spins };
      // Then into a stretch near its start, spin by spin, until the page draws every point there.
      await page.mouse.move(box.x + box.width * 0.1, box.y + box.height * 0.4);
      const plansBefore = (await state()).plans;
      let wheelAt = 0;
      spins = 0;
      do {
        wheelAt = await spin(10, -400);
        spins++;
      } while (spins < 12 && !(await state()).detail.endsWith('/1'));
      out.chart_100k_zoom_in = await page.evaluate(
        (k) => ({
          view: `${document.body.dataset.viewFrom}-${document.body.dataset.viewTo}`,
          detail: document.body.dataset.detail,
          series_points: Number(document.body.dataset.drawn),
          wheel_to_detail_ms: Math.round((performance.getEntriesByName('chart:replanned').at(-1)?.startTime ?? NaN) - k.wheelAt),
          replan_ms: Number(document.body.dataset.replanMs),
          plans: Number(document.body.dataset.plans) - k.plansBefore,
        }),
        { wheelAt, plansBefore },
      );
    } finally {
      await browser.close();
    }
  } finally {
    await dash.close();
  }
  const s = out.stream_symbol_updates_per_s_per_client as { min: number };
  const f = out.market_frame_ms as { p95: number };
  out.targets = {
    stream_ge_5000_per_s: s.min >= 5000,
    rows_visible_le_1000_ms: (out.market_rows_visible_ms as number) <= 1000,
    frame_p95_le_50_ms: f.p95 <= 50,
    chart_le_1000_ms: (out.chart_100k_points_ms as number) <= 1000,
  };
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:dashboard: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
