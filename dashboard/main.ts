/**
 * `npm run dashboard`: the dashboard on its own, over what a past local run
 * left in the data directory (the Parquet lake, alerts.jsonl,
 * dead-letters.jsonl). `npm start` runs the same server beside a live
 * pipeline (local/main.ts).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, EXIT_CONFIG, EXIT_USAGE } from '../shared/runtime/config';
import { AwsModeUnavailableError, loadDashboardConfig } from './config';
import { LocalSource } from './local-source';
import { startDashboard } from './server';

const USAGE = `Usage: npm run dashboard -- [options]
  --data <dir>    the data directory of a past \`npm start\` (default data/)
  --port <n>      port (default: a free one; or TICKSTREAM_DASHBOARD_PORT)
  --host <addr>   address to bind (default 127.0.0.1; any other needs TICKSTREAM_DASHBOARD_TOKEN)
  -h, --help`;

const out = (line: string): void => void process.stdout.write(line + '\n');

async function main(): Promise<void> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: process.argv.slice(2), options: { data: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true }).values;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}\n`);
    process.exit(EXIT_USAGE);
  }
  if (values.help === true) return out(USAGE);
  let cfg;
  try {
    cfg = loadDashboardConfig(process.env, { port: values.port, host: values.host });
  } catch (err) {
    if (err instanceof ConfigError || err instanceof AwsModeUnavailableError) {
      process.stderr.write(`tickstream dashboard: ${err.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw err;
  }
  const dataDir = typeof values.data === 'string' ? values.data : 'data';
  const source = new LocalSource({ dataDir });
  const dash = await startDashboard({ source, host: cfg.host, port: cfg.port, token: cfg.token, staticDir: path.join(__dirname, 'web') });
  out(`dashboard: ${dash.url}`);
  out(`tickstream dashboard: history from ${dataDir} (Ctrl-C to stop)`);
  const stop = (): void => {
    void dash.close().finally(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`tickstream dashboard: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
