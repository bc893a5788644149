/**
 * The chart reports in a real headless Chromium: each HTML file the CLIs
 * write opens from file:// with the network cut off, draws its charts
 * (pixels of each series' colour on the plot, not merely a canvas element),
 * shows what the CLI printed, runs no markup from the data, and logs no
 * console error.
 */
import { execFile } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { LakeSink } from '../../../consumer/sinks/lake-sink';
import { collectPageErrors, launchBrowser } from '../../helpers/browser';
import { tmpDir, waitFor } from '../../helpers/wait';
import { randomWalk } from '../../unit/analytics/factories';
import { knownInput } from '../../unit/consumer/factories';

jest.setTimeout(240_000);
const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..', '..');
const MARKUP = '</script><img src=x onerror="document.title=\'pwned\'">';

let dir: string;
let browser: Browser;

beforeAll(async () => {
  dir = tmpDir('reports');
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await rm(dir, { recursive: true, force: true });
});

const cli = (script: string, args: string[]): Promise<{ stdout: string; stderr: string }> =>
  run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'cli', script), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, TICKSTREAM_MODE: 'local' },
    maxBuffer: 64 * 1024 * 1024,
  });

/**
 * A context that may load only file:// URLs: it is offline, and every other
 * request is recorded and refused, so the test can assert that none was made.
 */
async function offlineContext(): Promise<{ context: BrowserContext; requests: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  await context.setOffline(true);
  const requests: string[] = [];
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (url.startsWith('file:')) return route.continue();
    requests.push(url);
    return route.abort();
  });
  return { context, requests };
}

async function open(context: BrowserContext, file: string): Promise<{ page: Page; errors: string[] }> {
  const page = await context.newPage();
  const errors = collectPageErrors(page);
  await page.goto(pathToFileURL(file).href);
  await page.waitForSelector('body[data-charts-drawn]', { timeout: 60_000 });
  return { page, errors };
}

/**
 * Per colour, the pixels of that colour (within a small tolerance) on the
 * plot canvases of one chart container: the wide ones, so a price-scale
 * label in a series' colour does not count as its line.
 */
async function colourPixels(page: Page, containerId: string, colours: readonly string[]): Promise<Record<string, number>> {
  // Browser code as text: this project's TypeScript has no DOM types (no code of it runs in a page).
  const counts = await page.evaluate<number[]>(`(${COUNT_COLOURS})(${JSON.stringify(containerId)}, ${JSON.stringify(colours)})`);
  return Object.fromEntries(colours.map((c, k) => [c, counts[k] ?? 0]));
}

const COUNT_COLOURS = `function (id, hexes) {
  var el = document.getElementById(id);
  if (el === null) throw new Error("no #" + id);
  var rgb = hexes.map(function (h) { return [1, 3, 5].map(function (i) { return parseInt(h.slice(i, i + 2), 16); }); });
  var counts = hexes.map(function () { return 0; });
  Array.prototype.forEach.call(el.querySelectorAll("canvas"), function (canvas) {
    if (canvas.width < el.clientWidth * 0.5 || canvas.height === 0) return;
    var data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    for (var p = 0; p < data.length; p += 4) {
      if (data[p + 3] < 200) continue;
      for (var k = 0; k < rgb.length; k++) {
        if (Math.abs(data[p] - rgb[k][0]) <= 12 && Math.abs(data[p + 1] - rgb[k][1]) <= 12 && Math.abs(data[p + 2] - rgb[k][2]) <= 12) counts[k]++;
      }
    }
  });
  return counts;
}`;

describe('chart reports in a browser', () => {
  it('the backtest report opens from file:// offline, draws price, SMAs, trades, equity and drawdown, and shows the printed statistics', async () => {
    // More points than fit the plot at lightweight-charts' default minimum bar spacing (0.5 px).
    const closes = randomWalk(6000, 5, 100, 0.004);
    const lines = ['timestamp,open,close,volume'];
    closes.forEach((c, i) => {
      const t = new Date(Date.UTC(2024, 2, 4, 14, 30) + Math.floor(i / 390) * 86_400_000 + (i % 390) * 60_000);
      lines.push(`${t.toISOString()},${c},${c},${1000 + (i % 11) * 50}`);
    });
    const csv = path.join(dir, 'bars.csv');
    await writeFile(csv, `${lines.join('\n')}\n`);
    const report = path.join(dir, 'backtest.html');
    const { stdout, stderr } = await cli('backtest.ts', ['--csv', csv, '--symbol', 'AAPL', '--html', report]);
    expect(stderr).toMatch(new RegExp(`^report: ${report.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(\\d+\\.\\d [kM]B\\)$`, 'm'));
    const printed = (label: string): string => {
      const line = stdout.split('\n').find((l) => l.startsWith(`${label}: `));
      if (line === undefined) throw new Error(`the CLI printed no ${label} line:\n${stdout}`);
      return line.slice(label.length + 2);
    };

    const { context, requests } = await offlineContext();
    try {
      const { page, errors } = await open(context, report);
      expect(await page.getAttribute('body', 'data-charts-drawn')).toBe('3');
      // The charts size themselves after the first frame: wait (bounded) for the range to settle on all points.
      const everyPoint = `0..${closes.length - 1}`;
      const range = await waitFor('the price chart to show every point', async () => {
        const r = await page.getAttribute('body', 'data-price-range');
        return r === everyPoint ? r : undefined;
      }, 10_000, 100).catch(() => page.getAttribute('body', 'data-price-range'));
      expect(range).toBe(everyPoint);
      const price = await colourPixels(page, 'chart-price', ['#f08c00', '#1971c2', '#1f2933', '#0b8a5f', '#c62828']);
      for (const [colour, n] of Object.entries(price)) expect({ colour, drawn: n >= 30 }).toEqual({ colour, drawn: true });
      for (const [id, colours] of [
        ['chart-equity', ['#7048e8', '#868e96']],
        ['chart-drawdown', ['#c62828', '#868e96']],
      ] as const) {
        for (const [colour, n] of Object.entries(await colourPixels(page, id, colours))) expect({ id, colour, drawn: n >= 30 }).toEqual({ id, colour, drawn: true });
      }
      const stats = await page.locator('#stats').innerText();
      const [signals, alerts] = printed('signals').split('; alerts: ');
      const shown: [string, string][] = [
        ['bars', printed('bars')],
        ['signals', signals ?? ''],
        ['alerts', alerts ?? ''],
        ['win rate', printed('win rate')],
        ['total return', printed('total return')],
        ['max drawdown', printed('max drawdown')],
      ];
      for (const [label, value] of shown) expect(stats).toContain(`${label}\t${value}`);
      const trades = Number(printed(`trades (SMA-5/SMA-20 crossover: long at the close of a BUY bar, flat at the close of a SELL bar)`));
      expect(trades).toBeGreaterThan(0);
      expect(await page.locator('#trades tbody tr').count()).toBe(Math.min(trades, 200) + (trades > 200 ? 1 : 0));
      expect(await page.getByText('Charts by TradingView Lightweight Charts™').count()).toBe(1);
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('a query report opens offline, draws volume by hour, lists every row, and runs no markup from a cell', async () => {
    const dataDir = path.join(dir, 'data');
    const sink = new LakeSink({ dataDir, workerId: 'w', shardId: 'shardId-000000000000', flushIntervalMs: 0 });
    await sink.write(knownInput({ perSymbol: 300, seed: 11 }));
    await sink.close();
    const sql = `SELECT symbol, date_trunc('hour', ts) AS hour_start, SUM(volume) AS total_volume, '${MARKUP.replace(/'/g, "''")}' AS note FROM ticks GROUP BY symbol, date_trunc('hour', ts) ORDER BY hour_start, symbol`;
    const report = path.join(dir, 'query.html');
    const { stdout, stderr } = await cli('query.ts', [sql, '--lake', path.join(dataDir, 'lake'), '--html', report, '--format', 'csv']);
    expect(stderr).toMatch(/^report: .*query\.html \(\d+\.\d [kM]B\)$/m);
    const csvRows = stdout.trimEnd().split('\n').slice(1);
    expect(csvRows.length).toBeGreaterThan(5);

    const { context, requests } = await offlineContext();
    try {
      const { page, errors } = await open(context, report);
      expect(await page.getAttribute('body', 'data-charts-drawn')).toBe('1');
      expect((await colourPixels(page, 'chart', ['#1971c2']))['#1971c2']).toBeGreaterThan(500);
      expect(await page.locator('#result tbody tr').count()).toBe(csvRows.length);
      // The cell shows as text; nothing of it ran or became an element.
      expect(await page.locator('#result tbody tr').first().locator('td').last().innerText()).toBe(MARKUP);
      expect(await page.locator('img').count()).toBe(0);
      expect(await page.title()).toBe('SQL query (tickstream query)');
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
