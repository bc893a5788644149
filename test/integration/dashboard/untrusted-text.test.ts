/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// page.evaluate() callbacks run in the browser: their DOM types, for these files
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { startDashboard, type Dashboard } from '../../../dashboard/server';
import { collectPageErrors, launchBrowser } from '../../helpers/browser';
import { FakeSource, emptyPipeline, marketRowOf } from '../../helpers/dashboard';

const STATIC = path.resolve(__dirname, '../../../dist/dashboard/web');

/**
 * Nothing the server sends runs as HTML: a dead letter whose reason quotes a
 * record body full of markup is shown on the pipeline page, in a real
 * Chromium, as the literal text, and none of it runs.
 */
describe('dashboard: untrusted text in a real browser', () => {
  let browser: Browser;
  let dash: Dashboard;
  const source = new FakeSource();
  beforeAll(async () => {
    browser = await launchBrowser();
    dash = await startDashboard({ source, host: '127.0.0.1', port: 0, staticDir: STATIC });
  });
  afterAll(async () => {
    await dash.close();
    await browser.close();
  });

  it("shows a dead letter's reason quoting <img onerror> and <script> markup as text, and runs none of it", async () => {
    const body = `{"symbol":"<img src=x onerror=\\"window.__pwned=1\\">","note":"<script>window.__pwned=2</script><b>bold</b>"}`;
    const reason = `invalid JSON: Unexpected token '<', ${body} is not valid JSON`;
    source.view = {
      ...emptyPipeline(),
      deadLetters: 1,
      deadLetterReasons: [{ reason, count: 1 }],
      recentDeadLetters: [{ id: 'shardId-000000000000/4963<script>', kind: 'record', reason, at: Date.UTC(2024, 0, 2) }],
      recentErrors: [{ what: '<img src=x onerror="window.__pwned=3">', code: '<b>x</b>', at: 0 }],
      shards: [{ shardId: 'shardId-000000000000', owner: '<script>window.__pwned=4</script>', checkpoint: null, millisBehindLatest: null, recordsPerSec: 0, lastReportAt: null }],
    };
    const page = await browser.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${dash.url}pipeline`);
    await page.locator('#letters li .reason').first().waitFor({ timeout: 30_000 });
    const seen = await page.evaluate(() => ({
      pwned: (window as unknown as { __pwned?: number }).__pwned ?? null,
      reason: document.querySelector('#letters li .reason')?.textContent,
      reasonCell: document.querySelector('#reasons tbody td:last-child')?.textContent,
      owner: document.querySelector('#shards tbody td:nth-child(2)')?.textContent,
      // markup that made it into the DOM as elements, anywhere the data is shown
      elements: document.querySelectorAll(['#letters', '#reasons', '#errors', '#shards'].flatMap((w) => ['img', 'b', 'script'].map((t) => `${w} ${t}`)).join(', ')).length,
      scripts: [...document.scripts].map((s) => s.getAttribute('src')),
    }));
    expect(seen).toEqual({ pwned: null, reason, reasonCell: reason, owner: '<script>window.__pwned=4</script>', elements: 0, scripts: ['/static/pipeline.js'] });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows a clear 404 page for an unknown symbol, and the market page without errors', async () => {
    source.rows.set('AAPL', marketRowOf('AAPL', Date.UTC(2024, 0, 2), 187.5));
    const page = await browser.newPage();
    const errors = collectPageErrors(page);
    const res = await page.goto(`${dash.url}symbol/NOPE`);
    expect({ status: res?.status(), text: await page.locator('.error-message').textContent() }).toEqual({ status: 404, text: 'unknown symbol NOPE: this pipeline has no tick of it' });
    await page.goto(dash.url);
    await page.locator('.grid-row[data-symbol="AAPL"]').waitFor({ timeout: 30_000 });
    expect(await page.locator('.grid-row[data-symbol="AAPL"] div').nth(1).textContent()).toBe('187.50');
    // the 404 is the one console error a browser logs for it, by itself
    expect(errors.filter((e) => !e.includes('404'))).toEqual([]);
    await page.close();
  });
});
