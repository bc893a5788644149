import { dynamoClient, kinesisClient } from '../shared/aws';
import { createLogger } from '../shared/logger';
import { loadProducerConfig } from './config';
import { ConfigError } from '../shared/config-util';
import { errorForLog } from './errors';
import { KinesisWriter } from './kinesis-writer';
import { LeaseManager } from './leases';
import { ProducerMetrics } from './metrics';
import { runProducer } from './pipeline';
import { createSource } from './source-factory';

/**
 * The producer task: config → (leases) → source → Kinesis writer. SIGTERM
 * (ECS stop) and SIGINT stop the source, flush the writer, release leases,
 * and exit 0; a second signal exits at once.
 */
async function main(): Promise<number> {
  let config;
  try {
    config = loadProducerConfig(process.env, process.argv.slice(2));
  } catch (err) {
    if (err instanceof ConfigError) {
      createLogger({ service: 'producer' }).error('invalid configuration', { variable: err.variable, errorMessage: err.message });
      return 2;
    }
    throw err;
  }
  const logger = createLogger({ service: 'producer', level: config.logLevel });
  logger.info('producer starting', { source: config.source, symbols: config.symbols.length, stream: config.streamName, workerId: config.workerId, scaleOut: config.scaleOut !== undefined });

  const abort = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++;
    logger.info('signal received, stopping', { signal: sig });
    if (signals > 1) process.exit(130);
    abort.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  const kinesis = kinesisClient({ region: config.region, ...(config.kinesisEndpoint === undefined ? {} : { endpoint: config.kinesisEndpoint }) });
  const metrics = new ProducerMetrics();
  const writer = new KinesisWriter(kinesis, {
    streamName: config.streamName,
    maxBatchRecords: config.writer.maxRecordsPerBatch,
    maxBatchBytes: config.writer.maxBytesPerBatch,
    maxInFlight: config.writer.maxInFlight,
    maxAttempts: config.writer.maxRetries + 1,
    logger,
    metrics,
  });

  let leases: LeaseManager | undefined;
  let dynamo: ReturnType<typeof dynamoClient> | undefined;
  if (config.scaleOut !== undefined) {
    dynamo = dynamoClient({ region: config.region, ...(config.dynamodbEndpoint === undefined ? {} : { endpoint: config.dynamodbEndpoint }) });
    leases = new LeaseManager({
      dynamo,
      table: config.scaleOut.leaseTable,
      workerId: config.workerId,
      universe: config.symbols,
      groups: config.scaleOut.groups,
      leaseDurationMs: config.scaleOut.leaseDurationMs,
      heartbeatMs: config.scaleOut.heartbeatMs,
      logger,
      // Everything fetched for the group reaches Kinesis before the next owner starts.
      beforeRelease: () => writer.flush(),
    });
    await leases.start();
  }

  const source = createSource(config, { logger, metrics, ...(leases === undefined ? {} : { symbols: leases.symbols }) });
  try {
    const result = await runProducer({ source, writer, logger, signal: abort.signal, sourceMetrics: metrics });
    return result.flushed ? 0 : 1;
  } catch (err) {
    logger.error('producer failed', errorForLog(err));
    return 1;
  } finally {
    await leases?.stop();
    kinesis.destroy();
    dynamo?.destroy();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    createLogger({ service: 'producer' }).error('producer crashed', errorForLog(err));
    process.exitCode = 1;
  },
);
