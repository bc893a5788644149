/**
 * `npm run screenshots`: docs/screenshots/<page>.png of each dashboard page,
 * from a short `npm start` run of the synthetic market. Not a test (nothing
 * is asserted, and the tests never run it): what the README shows.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchBrowser } from './helpers/browser';
import { getJson } from './helpers/dashboard';
import { waitFor } from './helpers/wait';

const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'docs', 'screenshots');

const getJsonAs = <T>(u: string): Promise<T> => getJson(u) as Promise<T>;

async function main(): Promise<void> {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'tickstream-screenshots-'));
  const proc = spawn(process.execPath, [path.join(ROOT, 'dist', 'local', 'main.js'), '--symbols', '40', '--rate', '80', '--duration', '240', '--data', data], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  const browser = await launchBrowser();
  try {
    const url = await waitFor('the dashboard line', () => Promise.resolve(/^dashboard: (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(stdout)?.[1]), 180_000);
    process.stdout.write(`dashboard at ${url}; waiting for a minute of ticks and some alerts…\n`);
    await waitFor('ticks and alerts', async () => {
      const [p, alerts] = await Promise.all([getJsonAs<{ consumed: number }>(`${url}api/pipeline`), getJsonAs<unknown[]>(`${url}api/alerts`)]);
      return p.consumed > 4000 && alerts.length >= 5 ? true : undefined;
    }, 240_000, 2000);
    const market = await getJsonAs<{ symbol: string; last_signal: string | null }[]>(`${url}api/market`);
    const symbol = market.find((r) => r.last_signal !== null)?.symbol ?? market[0]!.symbol;
    fs.mkdirSync(OUT, { recursive: true });
    const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
    for (const [name, p, ready] of [
      ['market', '/', '.grid-row[data-symbol]'],
      ['symbol', `/symbol/${symbol}`, 'body[data-points]'],
      ['alerts', '/alerts', '#feed li'],
      ['pipeline', '/pipeline', '#shards tbody tr[data-shard]'],
    ] as const) {
      await page.goto(`${url}${p.slice(1)}`);
      await page.locator(ready).first().waitFor({ timeout: 60_000 });
      // a few live updates in, so the page shows them arriving
      await page.waitForTimeout(1500);
      const file = path.join(OUT, `${name}.png`);
      await page.screenshot({ path: file });
      process.stdout.write(`wrote ${path.relative(ROOT, file)}\n`);
    }
  } finally {
    await browser.close();
    proc.kill('SIGINT');
    await exited;
    fs.rmSync(data, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`screenshots: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
