/**
 * The record-processor process the MultiLangDaemon starts, one per leased
 * shard. Its stdout is the daemon's protocol; everything else goes to stderr.
 */
import { takeProtocolStdout } from './stdout-guard';
const protocolOut = takeProtocolStdout();

import kcl from 'aws-kcl';
import { ConfigError } from '../shared/config-util';
import { createLogger } from '../shared/logger';
import { loadConsumerConfig, type ConsumerConfig } from './config';
import { kclRecordProcessor } from './kcl/record-processor';
import { ConsumerMetrics } from './metrics';
import { ShardProcessor } from './shard-processor';
import { StatusReporter } from './status';
import { buildPorts, type ConsumerPorts } from './wiring';

function main(): void {
  let cfg: Readonly<ConsumerConfig>;
  try {
    cfg = loadConsumerConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`tickstream consumer: invalid configuration: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const logger = createLogger({ service: 'tickstream-consumer', level: cfg.logLevel }).child({ worker: cfg.workerId, pid: process.pid });
  // Node and SDK warnings (e.g. the SDK's Node-version notice) become JSON
  // log lines instead of free text in the daemon's log.
  process.removeAllListeners('warning');
  process.on('warning', (w) => logger.warn('node warning', { warning: w.name, detail: w.message.slice(0, 300) }));
  const status = cfg.local?.statusPort !== undefined ? new StatusReporter(cfg.local.statusPort, cfg.workerId) : undefined;
  let ports: ConsumerPorts | undefined;
  const metrics = new ConsumerMetrics();
  const emit = (): void => void logger.info('metrics', metrics.take());
  setInterval(emit, cfg.metricsIntervalMs).unref();

  const processor = kclRecordProcessor(
    (shardId) => {
      ports = buildPorts(cfg, shardId, logger.child({ shardId }), process.stderr);
      return new ShardProcessor({
        ...ports,
        logger,
        analysis: cfg.analysis,
        checkpointEveryRecords: cfg.checkpointEveryRecords,
        checkpointEveryMs: cfg.checkpointEveryMs,
        onBatch: (s) => {
          metrics.record(s);
          status?.record(s);
        },
      });
    },
    logger,
    () => {
      metrics.error();
      emit();
      status?.close();
      process.exitCode = 1;
      setTimeout(() => process.exit(1), 100);
    },
  );
  process.on('exit', () => status?.close());
  process.stdin.on('end', emit);
  // The daemon closes our stdin at the end of the shard's life; release sinks then.
  process.stdin.on('end', () => {
    void ports?.close().finally(() => status?.close());
  });
  kcl(processor, process.stdin, protocolOut, process.stderr).run();
}

main();
