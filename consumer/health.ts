/**
 * `node dist/consumer/health.js`: the consumer task's container health check
 * (infra/sections/consumer-service.ts). Healthy while the KCL daemon's JVM
 * runs and every live record processor has made progress within the stale
 * window (TICKSTREAM_HEALTH_STALE_MS): a stalled processor makes the task
 * unhealthy and ECS replaces it, its leases move on. A sink outage does not:
 * retrying is progress. A worker that holds no lease has no processors and
 * is healthy. Prints one JSON line; exit 0 healthy, 1 not.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ENV } from '../shared/env-names';
import { int, readSettings, text, withDefault, type Env } from '../shared/runtime/config';
import { DAEMON_PID_FILE, type HeartbeatFile } from './heartbeat';

export const DEFAULT_STALE_MS = 90_000;

export interface Health {
  readonly healthy: boolean;
  readonly reason: string;
  /** shard (or pid) -> ms since its processor last made progress */
  readonly processors: Record<string, number>;
}

/** Whether a process exists (signal 0 checks without sending anything). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function checkHealth(dir: string, staleMs: number, now: number = Date.now(), alive: (pid: number) => boolean = pidAlive): Health {
  let daemonPid: number;
  try {
    daemonPid = Number(fs.readFileSync(path.join(dir, DAEMON_PID_FILE), 'utf8').trim());
  } catch {
    return { healthy: false, reason: 'no daemon pid file: the KCL daemon has not started', processors: {} };
  }
  if (!Number.isSafeInteger(daemonPid) || daemonPid <= 0 || !alive(daemonPid)) return { healthy: false, reason: `the KCL daemon (pid ${daemonPid}) is not running`, processors: {} };
  const processors: Record<string, number> = {};
  const stale: string[] = [];
  for (const name of fs.readdirSync(dir)) {
    const m = /^(\d+)\.json$/.exec(name);
    if (m === null) continue;
    const pid = Number(m[1]);
    const file = path.join(dir, name);
    // A processor that exited without removing its file (killed) is not live.
    if (!alive(pid)) {
      fs.rmSync(file, { force: true });
      continue;
    }
    let beat: HeartbeatFile | undefined;
    try {
      beat = JSON.parse(fs.readFileSync(file, 'utf8')) as HeartbeatFile;
    } catch {
      beat = undefined; // being rewritten: its mtime still says when
    }
    const at = beat?.at ?? fs.statSync(file).mtimeMs;
    const key = beat?.shardId ?? `pid ${pid}`;
    processors[key] = Math.max(0, Math.round(now - at));
    if (now - at > staleMs) stale.push(key);
  }
  if (stale.length > 0) return { healthy: false, reason: `no progress for over ${staleMs} ms: ${stale.join(', ')}`, processors };
  return { healthy: true, reason: Object.keys(processors).length === 0 ? 'daemon running, no leases held' : 'daemon running, every processor reporting', processors };
}

export const HEALTH_SETTINGS = {
  dir: { env: ENV.heartbeatDir, schema: text() },
  staleMs: { env: ENV.healthStaleMs, schema: withDefault(int(1000, 3_600_000), DEFAULT_STALE_MS) },
};

export function main(env: Env, out: (line: string) => void): number {
  const s = readSettings(HEALTH_SETTINGS, { env });
  const h = checkHealth(s.dir, s.staleMs);
  out(JSON.stringify(h));
  return h.healthy ? 0 : 1;
}

if (require.main === module) {
  // stderr, like every other consumer process: Docker keeps a health check's
  // output from both streams, and nothing in consumer/ writes to stdout but
  // the record processor's protocol.
  try {
    process.exitCode = main(process.env, (l) => process.stderr.write(`${l}\n`));
  } catch (err) {
    process.stderr.write(`${JSON.stringify({ healthy: false, reason: (err as Error).message })}\n`);
    process.exitCode = 1;
  }
}
