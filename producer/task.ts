import { dynamoClient, kinesisClient } from '../shared/aws';
import type { Logger } from '../shared/logger';
import type { ProducerConfig } from './config';
import { KinesisWriter } from './kinesis-writer';
import { LeaseManager } from './leases';
import { ProducerMetrics } from './metrics';
import { runProducer, type RunProducerResult } from './pipeline';
import { createSource } from './source-factory';

export interface ProducerTask {
  readonly writer: KinesisWriter;
  /** One set of counters for the source and the writer (refusals, Yahoo failures, latencies). */
  readonly metrics: ProducerMetrics;
  /** Present with scale-out (a lease table is configured). */
  readonly leases: LeaseManager | undefined;
  /** Settles once the source has ended (or `signal` aborted), the writer flushed and the leases released. */
  readonly done: Promise<RunProducerResult>;
}

export interface ProducerTaskOptions {
  readonly logger: Logger;
  /** Abort to stop: the source stops, the writer flushes, the leases are released. */
  readonly signal: AbortSignal;
  /** The metrics log line period (runProducer's default when unset). */
  readonly metricsIntervalMs?: number;
}

/**
 * The producer as the ECS task runs it: config → (symbol-group leases) →
 * source → Kinesis writer, until the source ends or `signal` aborts.
 * producer/main.ts runs it under ECS; `npm start` and the soak run the same
 * function in their own process, so what they prove is what is deployed.
 * Resolves once the leases (if any) are held and the source is started.
 */
export async function startProducerTask(config: ProducerConfig, o: ProducerTaskOptions): Promise<ProducerTask> {
  const kinesis = kinesisClient({ region: config.region, ...(config.kinesisEndpoint === undefined ? {} : { endpoint: config.kinesisEndpoint }) });
  const metrics = new ProducerMetrics();
  const writer = new KinesisWriter(kinesis, {
    streamName: config.streamName,
    maxBatchRecords: config.writer.maxRecordsPerBatch,
    maxBatchBytes: config.writer.maxBytesPerBatch,
    maxInFlight: config.writer.maxInFlight,
    maxAttempts: config.writer.maxRetries + 1,
    logger: o.logger,
    metrics,
  });

  let leases: LeaseManager | undefined;
  let dynamo: ReturnType<typeof dynamoClient> | undefined;
  const close = async (): Promise<void> => {
    await leases?.stop();
    kinesis.destroy();
    dynamo?.destroy();
  };
  try {
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
        logger: o.logger,
        // Everything fetched for the group reaches Kinesis before the next owner starts.
        beforeRelease: () => writer.flush(),
      });
      await leases.start();
    }
  } catch (err) {
    await close();
    throw err;
  }

  const source = createSource(config, { logger: o.logger, metrics, ...(leases === undefined ? {} : { symbols: leases.symbols }) });
  const done = (async () => {
    try {
      return await runProducer({ source, writer, logger: o.logger, signal: o.signal, sourceMetrics: metrics, ...(o.metricsIntervalMs === undefined ? {} : { metricsIntervalMs: o.metricsIntervalMs }) });
    } finally {
      await close();
    }
  })();
  return { writer, metrics, leases, done };
}
