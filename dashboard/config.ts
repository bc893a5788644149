/**
 * The dashboard's settings, read once at start (flags over variables).
 * Also what `npm start` reads for the dashboard it runs beside the pipeline.
 */
import { ConfigError, deepFreeze, int, oneOf, optional, readSettings, text, withDefault, type Env, type Setting } from '../shared/runtime/config';
import { ENV } from '../shared/env-names';
import { isLoopback } from './server';

const DASHBOARD_SETTINGS = {
  host: { flag: 'host', env: ENV.dashboardHost, schema: withDefault(text(), '127.0.0.1') },
  port: { flag: 'port', env: ENV.dashboardPort, schema: withDefault(int(0, 65535), 0) },
  token: { env: ENV.dashboardToken, schema: optional(text(/^\S{16,}$/, 'at least 16 characters, no spaces')) },
  mode: { env: ENV.mode, schema: withDefault(oneOf(['local', 'aws'] as const), 'local') },
} as const satisfies Record<string, Setting<unknown>>;

export interface DashboardConfig {
  readonly host: string;
  readonly port: number;
  readonly token: string | undefined;
}

/** AWS mode is asked for and not built: what it needs, in one sentence. */
export class AwsModeUnavailableError extends Error {
  override readonly name = 'AwsModeUnavailableError';
}

export function loadDashboardConfig(env: Env, flags: Readonly<Record<string, unknown>> = {}): DashboardConfig {
  const s = readSettings(DASHBOARD_SETTINGS, { env, flags });
  if (s.mode === 'aws') {
    throw new AwsModeUnavailableError(
      `${ENV.mode}=aws: the dashboard has no AWS source yet. It needs a DashboardSource (dashboard/source.ts) that reads the deployed stack: bounded polling of the latest table, the ticks table for recent history, Athena for older history, the KCL lease table for owners and checkpoints, and the DLQ's depth. Only local mode works today: unset ${ENV.mode} and run it beside \`npm start\` or after a run.`,
    );
  }
  if (!isLoopback(s.host) && s.token === undefined) throw new ConfigError(ENV.dashboardToken, `a token (required because ${ENV.dashboardHost} / --host is ${s.host}, not 127.0.0.1)`, undefined);
  return deepFreeze({ host: s.host, port: s.port, token: s.token });
}
