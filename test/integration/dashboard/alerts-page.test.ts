/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// page.evaluate() callbacks run in the browser: their DOM types, for these files
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { startDashboard, type Dashboard } from '../../../dashboard/server';
import type { AlertItem } from '../../../dashboard/wire';
import { collectPageErrors, launchBrowser } from '../../helpers/browser';
import { FakeSource } from '../../helpers/dashboard';

const STATIC = path.resolve(__dirname, '../../../dist/dashboard/web');
const T0 = Date.UTC(2024, 0, 2, 15, 0, 0);

function alertAt(id: string, minute: number): AlertItem {
  return { id, symbol: 'AAPL', type: 'BUY', ts: T0 + minute * 60_000, price: 100 + minute, message: `BUY AAPL ${id}` };
}

/**
 * The alerts page lists alerts newest first by their own ts, not by arrival:
 * shards report independently, so an alert can arrive after a newer one.
 */
describe('dashboard: the alerts page in a real browser', () => {
  let browser: Browser;
  let dash: Dashboard;
  const source = new FakeSource();
  beforeAll(async () => {
    browser = await launchBrowser();
    dash = await startDashboard({ source, host: '127.0.0.1', port: 0, staticDir: STATIC, flushMs: 50 });
  });
  afterAll(async () => {
    await dash.close();
    await browser.close();
  });

  it("orders the snapshot and live alerts by the alert's ts, newest first, whatever order they arrive in", async () => {
    // the snapshot in arrival order, which is not ts order
    source.alertList = [alertAt('b', 20), alertAt('a', 10), alertAt('c', 30), alertAt('d', 5)];
    const page = await browser.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${dash.url}alerts`);
    const ids = (): Promise<string[]> => page.evaluate(() => [...document.querySelectorAll<HTMLElement>('#feed li')].map((li) => li.dataset.id ?? ''));
    await page.waitForFunction(() => document.querySelectorAll('#feed li').length === 4, undefined, { timeout: 30_000 });
    expect(await ids()).toEqual(['c', 'b', 'a', 'd']);
    // live: one older than everything shown, one in the middle, one newest, in one batch and out of order
    source.emit({ alerts: [alertAt('mid', 15), alertAt('new', 40), alertAt('old', 1)] });
    await page.waitForFunction(() => document.querySelectorAll('#feed li').length === 7, undefined, { timeout: 30_000 });
    expect(await ids()).toEqual(['new', 'c', 'b', 'mid', 'a', 'd', 'old']);
    // and one more later, older than the newest
    source.emit({ alerts: [alertAt('late', 35)] });
    await page.waitForFunction(() => document.querySelectorAll('#feed li').length === 8, undefined, { timeout: 30_000 });
    expect(await ids()).toEqual(['new', 'late', 'c', 'b', 'mid', 'a', 'd', 'old']);
    expect(errors).toEqual([]);
    await page.close();
  });
});
