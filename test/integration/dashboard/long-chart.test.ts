/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// page.evaluate() callbacks run in the browser: their DOM types, for these files
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startDashboard, type Dashboard } from '../../../dashboard/server';
import { collectPageErrors, launchBrowser } from '../../helpers/browser';
import { FakeSource, marketRowOf, pointOf } from '../../helpers/dashboard';

const STATIC = path.resolve(__dirname, '../../../dist/dashboard/web');
const N = 60_000;
const BASE = Date.UTC(2024, 0, 2);

interface ChartState {
  points: number;
  drawn: number;
  plans: number;
  checks: number;
  viewFrom: number;
  viewTo: number;
  detail: { from: number; to: number; bucket: number };
  lastTs: number;
}

function chartState(page: Page): Promise<ChartState> {
  return page.evaluate(() => {
    const d = document.body.dataset;
    const [range = '0-0', bucket = '0'] = (d.detail ?? '0-0/0').split('/');
    const [from = '0', to = '0'] = range.split('-');
    return {
      points: Number(d.points),
      drawn: Number(d.drawn),
      plans: Number(d.plans),
      checks: Number(d.checks ?? 0),
      viewFrom: Number(d.viewFrom ?? -1),
      viewTo: Number(d.viewTo ?? -1),
      detail: { from: Number(from), to: Number(to), bucket: Number(bucket) },
      lastTs: Number(d.lastTs),
    };
  });
}

/**
 * A long history (60,000 points) on the symbol page, in a real Chromium:
 * all of it is in the chart at once, at the level of detail
 * dashboard/web/lod.ts plans; zooming out reaches the whole history, zooming
 * into its oldest part draws every point there, and live points still
 * arrive. Driven by the mouse wheel, as a person would, with waits on the
 * page's own state (it counts each view it checks once the view rests).
 */
describe('dashboard: a long chart in a real browser', () => {
  let browser: Browser;
  let dash: Dashboard;
  const source = new FakeSource();
  beforeAll(async () => {
    source.rows.set('LONG', marketRowOf('LONG', BASE + N * 1000, 100));
    source.histories.set(
      'LONG',
      Array.from({ length: N }, (_, i) => {
        const p = pointOf(BASE + i * 1000, 100 + Math.sin(i / 40) * 4);
        return i === 7001 ? { ...p, signal: 'BUY' as const } : p;
      }),
    );
    browser = await launchBrowser();
    dash = await startDashboard({ source, host: '127.0.0.1', port: 0, staticDir: STATIC });
  });
  afterAll(async () => {
    await dash.close();
    await browser.close();
  });

  it('draws all of a 60,000-point history, zooms out to all of it and into its start at full detail, and appends live points', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    const errors = collectPageErrors(page);
    await page.goto(`${dash.url}symbol/LONG`);
    await page.waitForFunction((n) => document.body.dataset.points === String(n) && performance.getEntriesByName('chart:painted').length > 0, N, { timeout: 60_000 });

    // every point held, far fewer drawn: every point of the latest stretch, the rest decimated
    let s = await chartState(page);
    expect(s.points).toBe(N);
    expect(s.drawn).toBeGreaterThan(3000);
    expect(s.drawn).toBeLessThan(N / 3);
    expect(s.detail.to).toBe(N);
    expect(s.detail.bucket).toBeLessThanOrEqual(2);
    expect(await page.locator('#lod').textContent()).toContain('60,000 points');

    const box = (await page.locator('#chart').boundingBox())!;
    const spin = async (x: number, dy: number, steps: number): Promise<ChartState> => {
      const before = (await chartState(page)).checks;
      await page.mouse.move(box.x + box.width * x, box.y + box.height * 0.4);
      for (let i = 0; i < steps; i++) await page.mouse.wheel(0, dy);
      await page.waitForFunction((k) => Number(document.body.dataset.checks ?? 0) > k, before, { timeout: 30_000 });
      return chartState(page);
    };

    // zoom out: bounded spins until the first point is on screen
    for (let k = 0; k < 8 && (k === 0 || s.viewFrom > 0); k++) s = await spin(0.5, 400, 30);
    expect(s.viewFrom).toBe(0);
    expect(s.viewTo).toBeGreaterThanOrEqual(N - 100);
    expect(s.detail.bucket).toBeGreaterThan(2);
    expect(s.drawn).toBeLessThan(6000);

    // zoom into the oldest part: bounded spins until its points are drawn one for one
    for (let k = 0; k < 12 && s.detail.bucket !== 1; k++) s = await spin(0.1, -400, 10);
    expect(s.detail.bucket).toBe(1);
    expect(s.viewTo).toBeLessThan(N / 2);
    expect(s.detail.from).toBeLessThanOrEqual(s.viewFrom);
    expect(s.detail.to).toBeGreaterThan(s.viewTo);

    // a live point, while the view is far back: held and drawn, no reload
    const ts = BASE + (N + 5) * 1000;
    source.emit({ rows: [{ row: marketRowOf('LONG', ts, 101), point: { ...pointOf(ts, 101), signal: 'SELL' } }] });
    await page.waitForFunction((t) => document.body.dataset.lastTs === String(t), ts, { timeout: 30_000 });
    s = await chartState(page);
    expect(s.points).toBe(N + 1);
    expect(await page.evaluate(() => document.body.dataset.signals)).toBe('2');
    expect(errors).toEqual([]);
    await page.close();
  });
});
