/**
 * The consumer container's entrypoint: generate the MultiLangDaemon
 * properties from the task's environment, then run the daemon in the
 * foreground. Its stdout/stderr are the container's, so the daemon's log and
 * every record processor's JSON lines (and EMF metrics) reach CloudWatch.
 * SIGTERM (ECS stop) is forwarded: the daemon's shutdown hook asks every
 * processor to checkpoint before it exits.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../shared/runtime/config';
import { int, optional, readSettings, text } from '../shared/runtime/config';
import { heapFlags } from './kcl/daemon';
import { logbackXml } from './kcl/logback';
import { ensureKclJars, javaCommand, kclClasspath, KCL_LAUNCHER_CLASS, projectRoot } from './kcl/jars';
import { DAEMON_PID_FILE } from './heartbeat';
import { daemonPropertiesFromEnv, formatProperties } from './kcl/properties';
import { loadConsumerConfig } from './config';
import { EXIT_CONFIG } from './errors';
import { ENV } from '../shared/env-names';

function main(): void {
  let propsText: string;
  let launcher: { jvmHeapMiB: number | undefined; heartbeatDir: string | undefined };
  try {
    launcher = readSettings(
      { jvmHeapMiB: { env: ENV.jvmHeapMiB, schema: optional(int(64, 65_536)) }, heartbeatDir: { env: ENV.heartbeatDir, schema: optional(text()) } },
      { env: process.env },
    );
    // Validates the processor's settings too, so a bad variable stops the
    // task here, once, instead of in every shard's processor.
    loadConsumerConfig(process.env);
    const main = path.join(projectRoot(), 'dist', 'consumer', 'main.js');
    propsText = formatProperties(daemonPropertiesFromEnv(process.env, `${process.execPath} ${main}`, os.hostname()));
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`tickstream consumer: invalid configuration: ${err.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw err;
  }
  // the app directory is read-only for the container user
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickstream-kcl-'));
  const propsFile = path.join(runDir, 'consumer.properties');
  const logback = path.join(runDir, 'logback.xml');
  fs.writeFileSync(propsFile, propsText);
  fs.writeFileSync(logback, logbackXml());
  const jars = ensureKclJars();
  // A record processor that meets a configuration error writes its one line
  // here before it exits (consumer/main.ts); the daemon then exits too, and
  // this process turns that into exit 78 with the line, so the task's stop
  // reason says what to fix instead of "exit 1".
  const stopFile = path.join(runDir, 'configuration-stop');
  // Our launcher: the MultiLangDaemon with the leader lock set from the properties.
  // A fixed heap (infra/ sizes it with the leases; -Xms = -Xmx, pre-touched)
  // never grows into the record processors' share of the task's memory.
  const heap = launcher.jvmHeapMiB !== undefined ? heapFlags(launcher.jvmHeapMiB) : ['-XX:MaxRAMPercentage=50'];
  const child = spawn(javaCommand(), ['-XX:+UseSerialGC', ...heap, `-Dlogback.configurationFile=${logback}`, '-cp', kclClasspath(jars), KCL_LAUNCHER_CLASS, '--properties-file', propsFile], {
    stdio: 'inherit',
    env: { ...process.env, [ENV.stopFile]: stopFile },
  });
  if (launcher.heartbeatDir !== undefined && child.pid !== undefined) {
    // The health check (consumer/health.ts) finds the JVM by this pid.
    fs.mkdirSync(launcher.heartbeatDir, { recursive: true });
    fs.writeFileSync(path.join(launcher.heartbeatDir, DAEMON_PID_FILE), `${child.pid}\n`);
  }
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    if (fs.existsSync(stopFile)) {
      process.stderr.write(`tickstream consumer: stopped: ${fs.readFileSync(stopFile, 'utf8').trim()}\n`);
      process.exit(EXIT_CONFIG);
    }
    process.exit(code ?? (signal ? 143 : 1));
  });
}

main();
