import fs from 'node:fs';
import path from 'node:path';
import { startProcess, type ManagedProcess } from '../../shared/runtime/process';
import { formatProperties, type DaemonProperties } from './properties';
import { javaCommand, kclClasspath, KCL_LAUNCHER_CLASS } from './jars';
import { ENV } from '../../shared/env-names';
import { DAEMON_PID_FILE } from '../heartbeat';
import { logbackXml } from './logback';

export interface DaemonOptions {
  name: string;
  properties: DaemonProperties;
  jarsDir: string;
  runDir: string;
  /** extra env for the daemon and, through it, the record processors */
  env?: Record<string, string>;
  /** A fixed heap: -Xms = -Xmx = this many MB, touched at start
   *  (-XX:+AlwaysPreTouch), so the JVM's resident size no longer grows as
   *  the heap fills for the first time and a growing RSS means off-heap
   *  growth (a soak wants that). Unset: -Xmx384m alone, the heap grows on
   *  demand (quicker and smaller to start). */
  jvmHeapMb?: number;
}

/** The daemon's heap flags (see DaemonOptions.jvmHeapMb). */
export function heapFlags(jvmHeapMb: number | undefined): string[] {
  if (jvmHeapMb === undefined) return ['-Xmx384m'];
  if (!Number.isInteger(jvmHeapMb) || jvmHeapMb < 64) throw new Error(`jvmHeapMb must be an integer of at least 64, got ${jvmHeapMb}`);
  return [`-Xms${jvmHeapMb}m`, `-Xmx${jvmHeapMb}m`, '-XX:+AlwaysPreTouch'];
}

/**
 * Starts one MultiLangDaemon (one KCL worker), through our launcher
 * (consumer/kcl/launcher), which also sets the leader lock from the
 * properties. Its log (logback's JSON lines, consumer/kcl/logback.ts, and
 * the processors' stderr as relayed by the daemon) goes to <runDir>/<name>.log.
 * stop() sends SIGTERM: the daemon's shutdown hook runs a graceful shutdown,
 * which gives every record processor `shutdownRequested` and a last checkpoint.
 */
export function startDaemon(o: DaemonOptions): ManagedProcess {
  const proc = startJvm(o);
  // As the container's launcher does (consumer/daemon.ts): the health check
  // (consumer/health.ts) finds the JVM by this pid, beside the heartbeats.
  const heartbeatDir = o.env?.[ENV.heartbeatDir];
  if (heartbeatDir !== undefined && proc.child.pid !== undefined) {
    fs.mkdirSync(heartbeatDir, { recursive: true });
    fs.writeFileSync(path.join(heartbeatDir, DAEMON_PID_FILE), `${proc.child.pid}\n`);
  }
  return proc;
}

function startJvm(o: DaemonOptions): ManagedProcess {
  fs.mkdirSync(o.runDir, { recursive: true });
  const propsFile = path.join(o.runDir, `${o.name}.properties`);
  fs.writeFileSync(propsFile, formatProperties(o.properties));
  const logback = path.join(o.runDir, 'logback.xml');
  if (!fs.existsSync(logback)) fs.writeFileSync(logback, logbackXml());
  return startProcess(
    o.name,
    javaCommand(),
    [
      // two cores, several JVMs: keep each one small and quick to start
      ...heapFlags(o.jvmHeapMb),
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      `-Dlogback.configurationFile=${logback}`,
      '-cp',
      kclClasspath(o.jarsDir),
      KCL_LAUNCHER_CLASS,
      '--properties-file',
      propsFile,
    ],
    {
      logFile: path.join(o.runDir, `${o.name}.log`),
      env: {
        ...process.env,
        // emulators accept any key; the real AWS chain is used in ECS
        AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'local',
        AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
        ...o.env,
      },
    },
  );
}
