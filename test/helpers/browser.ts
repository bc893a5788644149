/**
 * A real headless Chromium for the browser tests: Debian's package, installed
 * by scripts/setup-chromium.sh (Playwright's own browser download cannot reach
 * its host here), driven by playwright-core.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

let executable: string | undefined;
/** Installs chromium on first use (a no-op once present) and returns its path. */
function chromiumPath(): string {
  executable ??= execFileSync('bash', [path.join(__dirname, '..', '..', 'scripts', 'setup-chromium.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 10 * 60_000,
  }).trim();
  return executable;
}

/**
 * The flags keep Chromium off the network it cannot reach here: without the
 * background-networking ones it opens many refused connections at start and
 * looks up Google's hosts on every launch.
 */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
}

/** Console errors and uncaught page errors, collected so a test can assert there were none. */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  return errors;
}
