/**
 * The record-processor process the MultiLangDaemon starts, one per leased
 * shard. Its stdout is the daemon's protocol; everything else goes to stderr.
 */
import { takeProtocolStdout } from './stdout-guard';
const protocolOut = takeProtocolStdout();

import fs from 'node:fs';
import kcl from 'aws-kcl';
import { ConfigError } from '../shared/runtime/config';
import { EXIT_CONFIG } from './errors';
import { createLogger } from '../shared/logger';
import { describeError } from '../shared/describe-error';
import { loadConsumerConfig, type ConsumerConfig } from './config';
import { kclRecordProcessor } from './kcl/record-processor';
import { ConsumerMetrics } from './metrics';
import { ShardProcessor } from './shard-processor';
import { StatusReporter } from './status';
import { Heartbeat, withHeartbeat } from './heartbeat';
import { buildPorts, type ConsumerPorts } from './wiring';

const MB = 2 ** 20;
const memoryMb = (): Record<'rss' | 'heapUsed' | 'heapTotal' | 'external' | 'arrayBuffers', number> => {
  const m = process.memoryUsage();
  const r = (v: number): number => Math.round((v / MB) * 10) / 10;
  return { rss: r(m.rss), heapUsed: r(m.heapUsed), heapTotal: r(m.heapTotal), external: r(m.external), arrayBuffers: r(m.arrayBuffers) };
};

function main(): void {
  let cfg: Readonly<ConsumerConfig>;
  try {
    cfg = loadConsumerConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`tickstream consumer: invalid configuration: ${err.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw err;
  }
  const logger = createLogger({ service: 'tickstream-consumer', level: cfg.logLevel }).child({ worker: cfg.workerId, pid: process.pid });
  // Node and SDK warnings (e.g. the SDK's Node-version notice) become JSON
  // log lines instead of free text in the daemon's log.
  process.removeAllListeners('warning');
  process.on('warning', (w) => logger.warn('node warning', { warning: w.name, detail: w.message.slice(0, 300) }));
  let shard: string | undefined;
  // A processor that dies anyway (a bug outside every handler) would leave
  // Node's free-text trace among the JSON lines, where the log's one filter
  // (README, "Logs") cannot see it. Written synchronously, as winston's
  // stream write would not finish before the exit; the exit code stays
  // Node's own for an uncaught exception.
  process.on('uncaughtException', (err, origin) => {
    const line = {
      level: 'error',
      message: 'record processor died: uncaught exception',
      service: 'tickstream-consumer',
      timestamp: new Date().toISOString(),
      worker: cfg.workerId,
      pid: process.pid,
      ...(shard !== undefined ? { shardId: shard } : {}),
      origin,
      error: describeError(err),
      stack: err instanceof Error ? err.stack : undefined,
    };
    fs.writeSync(2, `${JSON.stringify(line)}\n`);
    process.exit(1);
  });
  const status = cfg.local?.statusPort !== undefined ? new StatusReporter(cfg.local.statusPort, cfg.workerId) : undefined;
  let ports: ConsumerPorts | undefined;
  const metrics = new ConsumerMetrics();
  const heartbeat = cfg.heartbeatDir !== undefined ? new Heartbeat(cfg.heartbeatDir) : undefined;
  // Memory rides along as plain fields (not EMF metrics: no CloudWatch
  // cost): a long soak tells JS-heap growth from native growth with them.
  const emit = (): void => void logger.info('metrics', { ...metrics.take(), memory: memoryMb() });
  setInterval(emit, cfg.metricsIntervalMs).unref();

  const processor = kclRecordProcessor(
    (shardId) => {
      shard = shardId;
      ports = buildPorts(cfg, shardId, logger.child({ shardId }), process.stderr);
      status?.started(shardId);
      return new ShardProcessor({
        ...ports,
        logger,
        analysis: cfg.analysis,
        checkpointEveryRecords: cfg.checkpointEveryRecords,
        checkpointEveryMs: cfg.checkpointEveryMs,
        quarantineAfter: cfg.quarantineAfter,
        ...(cfg.faultCrashMarker !== undefined ? { crashMarker: cfg.faultCrashMarker } : {}),
        onBatch: (s) => {
          heartbeat?.beat();
          metrics.record(s);
          status?.record(s);
        },
        onEvent: (e) => {
          // a retry is progress: a sink outage must not fail the health check
          heartbeat?.beat();
          metrics.event(e);
          status?.event(e);
        },
        ...(status !== undefined
          ? { onStored: (rows, at) => status.stored(shardId, rows, at), onPublished: (a) => status.published(shardId, a) }
          : {}),
      });
    },
    logger,
    () => {
      metrics.event({ kind: 'error', what: 'record processor', code: 'fatal' });
      status?.event({ kind: 'error', what: 'record processor', code: 'fatal' });
      emit();
      status?.close();
      process.exitCode = 1;
      setTimeout(() => process.exit(1), 100);
    },
    (err, proc) => {
      // One line an operator can act on, then the launcher stops the worker
      // (consumer/daemon.ts, npm start) instead of restarting it into the
      // same error. The exit code says why: 78 is EX_CONFIG.
      logger.error('configuration error: stopping this worker', { error: err.message, code: err.code, hint: err.hint, during: err.what });
      if (cfg.stopFile !== undefined) {
        try {
          fs.writeFileSync(cfg.stopFile, `${err.message}\n`);
        } catch {
          /* the log line above says it too */
        }
      }
      status?.event({ kind: 'error', what: 'configuration', code: err.code });
      emit();
      void (proc?.configurationStopped() ?? Promise.resolve()).finally(() => {
        status?.close();
        process.exitCode = EXIT_CONFIG;
        setTimeout(() => process.exit(EXIT_CONFIG), 100);
      });
    },
  );
  process.on('exit', () => status?.close());
  process.stdin.on('end', emit);
  // The daemon closes our stdin at the end of the shard's life; release sinks then.
  process.stdin.on('end', () => {
    heartbeat?.close();
    void ports?.close().finally(() => status?.close());
  });
  kcl(heartbeat === undefined ? processor : withHeartbeat(processor, heartbeat), process.stdin, protocolOut, process.stderr).run();
}

main();
