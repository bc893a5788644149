/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// page.evaluate() callbacks run in the browser: their DOM types, for these files
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { ChartColumns, LiveEvent } from '../../../dashboard/wire';
import { collectPageErrors, launchBrowser } from '../../helpers/browser';
import { getJson, onServerEvents } from '../../helpers/dashboard';
import { leases, readAlerts, readLake } from '../../helpers/pipeline-data';
import { tmpDir, waitFor } from '../../helpers/wait';

const MAIN = path.resolve(__dirname, '../../../dist/local/main.js');
const SYMBOLS = ['DSHA', 'DSHB', 'DSHC'];

/**
 * Minute bars for three symbols whose closes swing (sines of different
 * periods plus a drift), so SMA-5 and SMA-20 cross every few dozen bars: BUY
 * and SELL signals and alerts in the first minute of the run.
 */
function barsCsv(file: string): void {
  const t0 = Date.UTC(2024, 0, 2, 14, 30);
  const lines = ['timestamp,open,high,low,close,volume,symbol'];
  for (let i = 0; i < 600; i++) {
    const at = new Date(t0 + i * 60_000).toISOString().replace('T', ' ').slice(0, 19);
    SYMBOLS.forEach((s, k) => {
      const close = (50 + 10 * k + 3 * Math.sin(i / (4 + k)) + 0.01 * i).toFixed(3);
      lines.push(`${at},${close},${close},${close},${close},${1000 + ((i * 37 + k * 11) % 500)},${s}`);
    });
  }
  writeFileSync(file, lines.join('\n') + '\n');
}

/** RGB of a CSS hex colour. */
const rgb = (hex: string): [number, number, number] => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];

/**
 * The acceptance on the real local pipeline: `npm start` (emulators,
 * the KCL daemon, the record processors) replaying bars, its dashboard in a
 * real headless Chromium. One run serves every page check.
 */
describe('dashboard on the live local pipeline', () => {
  let proc: ChildProcessWithoutNullStreams;
  let browser: Browser;
  let stdout = '';
  let url = '';
  let dynamo: DynamoDBClient;
  const dataDir = path.join(tmpDir('dashboard-live'), 'data');
  const pageErrors: string[] = [];
  let exited: Promise<number | null>;

  beforeAll(async () => {
    const csv = path.join(path.dirname(dataDir), 'bars.csv');
    barsCsv(csv);
    proc = spawn(process.execPath, [MAIN, '--source', 'replay', '--csv', csv, '--speed', '60', '--data', dataDir], { env: { ...process.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    proc.stderr.on('data', () => undefined);
    exited = new Promise((resolve) => proc.on('exit', (c) => resolve(c)));
    url = await waitFor('the dashboard line', () => Promise.resolve(/^dashboard: (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(stdout)?.[1]), 180_000);
    const endpoint = /dynamodb (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)?.[1];
    dynamo = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    dynamo?.destroy();
    if (proc.exitCode === null) proc.kill('SIGKILL');
  });

  async function open(p: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors = collectPageErrors(page);
    page.on('close', () => pageErrors.push(...errors.map((e) => `${p}: ${e}`)));
    await page.goto(`${url}${p.replace(/^\//, '')}`);
    return page;
  }

  it('announces the dashboard near the top of its output', () => {
    const lines = stdout.split('\n');
    expect(lines.findIndex((l) => l.startsWith('dashboard: '))).toBeLessThan(4);
  });

  it('lists every symbol the run produced on the market page, and shows a stored tick within 2 s of its DynamoDB write without a reload', async () => {
    // When each (symbol, ts) was stored, by the processor's report, as the stream carries it.
    const storedAt = new Map<string, number>();
    const stream = onServerEvents(`${url}events?topics=market`, (data) => {
      for (const r of (JSON.parse(data) as LiveEvent).market ?? []) if (r.stored_at !== null) storedAt.set(`${r.symbol}/${r.ts}`, r.stored_at);
    });
    try {
      const page = await open('/');
      await page.waitForFunction((n) => document.querySelectorAll('.grid-row[data-symbol]:not([hidden])').length >= n, SYMBOLS.length, { timeout: 180_000 });
      const listed = await page.$$eval('.grid-row[data-symbol]:not([hidden])', (rows) => rows.map((r) => (r as HTMLElement).dataset.symbol).sort());
      expect(listed).toEqual(SYMBOLS);
      // Every change of a row's tick as the page shows it, on the same clock as the processors'.
      await page.evaluate(() => {
        const seen: { key: string; at: number }[] = [];
        (window as unknown as { __seen: typeof seen }).__seen = seen;
        new MutationObserver((records) => {
          const at = Date.now();
          for (const r of records) {
            const row = r.target as HTMLElement;
            if (row.dataset.symbol !== undefined && row.dataset.ts !== undefined) seen.push({ key: `${row.dataset.symbol}/${row.dataset.ts}`, at });
          }
        }).observe(document.getElementById('grid-body')!, { subtree: true, attributes: true, attributeFilter: ['data-ts'] });
      });
      const matched = await waitFor(
        'twenty ticks shown on the page with their storage time known',
        async () => {
          const seen = await page.evaluate(() => (window as unknown as { __seen: { key: string; at: number }[] }).__seen);
          const m = seen.filter((s) => storedAt.has(s.key)).map((s) => ({ key: s.key, ms: s.at - storedAt.get(s.key)! }));
          return m.length >= 20 ? m : undefined;
        },
        120_000,
      );
      const ms = matched.map((m) => m.ms).sort((a, b) => a - b);
      process.stderr.write(`dashboard: stored → shown ms over ${ms.length} ticks: min ${ms[0]} median ${ms[Math.floor(ms.length / 2)]} max ${ms[ms.length - 1]}\n`);
      expect({ samples: ms.length, over2s: ms.filter((x) => x > 2000) }).toEqual({ samples: ms.length, over2s: [] });
      // and those ticks are in DynamoDB: what the page showed was stored
      for (const { key } of matched.slice(0, 3)) {
        const [symbol, ts] = key.split('/');
        const item = await dynamo.send(new GetItemCommand({ TableName: 'tickstream-ticks', Key: { symbol: { S: symbol! }, ts: { N: ts! } }, ConsistentRead: true }));
        expect({ key, stored: item.Item !== undefined }).toEqual({ key, stored: true });
      }
      await page.close();
    } finally {
      stream.destroy();
    }
  });

  it('draws the symbol chart with both SMAs and a BUY/SELL marker where the lake has one', async () => {
    const signal = await waitFor('a BUY or SELL row in the lake', async () => (await readLake(dataDir)).find((r) => r.signal === 'BUY' || r.signal === 'SELL'), 180_000);
    const symbol = String(signal.symbol);
    const page = await open(`/symbol/${symbol}`);
    // enough of a line to see: SMA-20 is warm after 20 ticks, the first crossover soon after
    await page.waitForFunction(() => Number(document.body.dataset.signals ?? 0) >= 1 && Number(document.body.dataset.sma20 ?? 0) >= 20, undefined, { timeout: 120_000 });
    // the page was given the lake's signal point
    const history = (await getJson(`${url}api/symbol/${symbol}`)) as ChartColumns;
    expect(history.signals.find(([i]) => history.ts[i] === signal.ts)?.[1]).toBe(signal.signal);
    // lightweight-charts draws on stacked canvases: count the pixels of each series' colour
    const colours = { sma5: rgb('#f5a623'), sma20: rgb('#bd10e0'), buy: rgb('#26a69a'), sell: rgb('#ef5350'), price: rgb('#d8dee6') };
    const counts = await page.evaluate((cs) => {
      const out: Record<string, number> = Object.fromEntries(Object.keys(cs).map((k) => [k, 0]));
      for (const c of document.querySelectorAll<HTMLCanvasElement>('#chart canvas')) {
        const ctx = c.getContext('2d');
        if (ctx === null || c.width === 0 || c.height === 0) continue;
        const d = ctx.getImageData(0, 0, c.width, c.height).data;
        for (let i = 0; i < d.length; i += 4) {
          for (const [k, [r, g, b]] of Object.entries(cs)) if (Math.abs(d[i]! - r) + Math.abs(d[i + 1]! - g) + Math.abs(d[i + 2]! - b) < 24 && d[i + 3]! > 200) out[k]!++;
        }
      }
      return out;
    }, colours);
    expect({ price: counts.price! > 200, sma5: counts.sma5! > 100, sma20: counts.sma20! > 100, marker: counts.buy! + counts.sell! > 20 }).toEqual({ price: true, sma5: true, sma20: true, marker: true });
    await page.close();
  });

  it("shows a published alert's text on the alerts page", async () => {
    const page = await open('/alerts');
    const alert = await waitFor('a published alert', () => Promise.resolve(readAlerts(dataDir)[0]), 180_000);
    const item = page.locator(`#feed li[data-id="${alert.id}"] .msg`);
    await item.waitFor({ timeout: 30_000 });
    expect(await item.textContent()).toBe(alert.message);
    await page.close();
  });

  it("shows each shard's lease owner on the pipeline page, as the lease table has it", async () => {
    const page = await open('/pipeline');
    const table = await waitFor(
      'every shard leased',
      async () => {
        const l = await leases(dynamo, 'tickstream-consumer');
        return l.length === 4 && l.every((x) => typeof x.leaseOwner === 'string') ? Object.fromEntries(l.map((x) => [String(x.leaseKey), String(x.leaseOwner)])) : undefined;
      },
      120_000,
    );
    await page.waitForFunction((n) => document.querySelectorAll('#shards tbody tr[data-shard]').length >= n, Object.keys(table).length, { timeout: 60_000 });
    const shown = await page.$$eval('#shards tbody tr[data-shard]', (rows) => Object.fromEntries(rows.map((r): [string, string | null] => [(r as HTMLElement).dataset.shard ?? '?', r.children[1]?.textContent ?? null])));
    expect(shown).toEqual(table);
    await page.close();
  });

  it('logged no console error on any page, and names the dashboard again in the summary', async () => {
    expect(pageErrors).toEqual([]);
    proc.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stdout.slice(stdout.indexOf('tickstream summary'))).toMatch(/^dashboard: http:\/\/127\.0\.0\.1:\d+\/ /m);
  });
});
