import { FirehoseClient } from '@aws-sdk/client-firehose';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { clientOptions, dynamoClient } from '../shared/aws';
import type { Logger } from '../shared/logger';
import { s3Client } from '../shared/s3';
import type { ConsumerConfig } from './config';
import type { AlertPublisher, DeadLetterQueue, RestartLedger, StateStore, TickSink } from './ports';
import { DynamoRestartLedger, DynamoStateStore } from './sinks/dynamodb-state';
import { DynamoLatestSink, DynamoTicksSink } from './sinks/dynamodb-ticks';
import { FirehoseTickSink } from './sinks/firehose';
import type * as LakeSinkModule from './sinks/lake-sink';
import { LocalAlertPublisher, LocalDeadLetterQueue } from './sinks/local-files';
import { MemoryAlertPublisher, MemoryDeadLetterQueue, MemoryRestartLedger, MemoryStateStore } from './sinks/memory';
import { SnsAlertPublisher } from './sinks/sns-alerts';
import { SqsDeadLetterQueue } from './sinks/sqs-dlq';

export interface ConsumerPorts {
  sinks: TickSink[];
  state: StateStore;
  ledger: RestartLedger;
  alerts: AlertPublisher;
  dlq: DeadLetterQueue;
  close(): Promise<void>;
}

/**
 * Builds the adapters for one record-processor process. AWS and local mode
 * share the DynamoDB live view and state; they differ in the archive
 * (Firehose vs the local Parquet lake), alerts (SNS vs terminal + jsonl)
 * and dead letters (SQS, with S3 for oversized letters, vs jsonl).
 */
export function buildPorts(cfg: ConsumerConfig, shardId: string, logger: Logger, alertOut: NodeJS.WritableStream): ConsumerPorts {
  if (cfg.mode === 'null') {
    const discard: TickSink = { name: 'null', write: () => Promise.resolve(), flush: () => Promise.resolve(), close: () => Promise.resolve() };
    return { sinks: [discard], state: new MemoryStateStore(), ledger: new MemoryRestartLedger(), alerts: new MemoryAlertPublisher(), dlq: new MemoryDeadLetterQueue(), close: () => Promise.resolve() };
  }
  const ddb = dynamoClient({ region: cfg.region, ...(cfg.dynamodbEndpoint !== undefined ? { endpoint: cfg.dynamodbEndpoint } : {}) });
  const latest = new DynamoLatestSink(ddb, { tableName: cfg.tables.latest, logger });
  // The live view always; the per-tick history only where the stack has its table.
  const live: TickSink[] = cfg.ticksHistory ? [new DynamoTicksSink(ddb, { tableName: cfg.tables.ticks, ttlDays: cfg.ticksTtlDays, logger }), latest] : [latest];
  const state = new DynamoStateStore(ddb, { tableName: cfg.tables.state, logger });
  const ledger = new DynamoRestartLedger(ddb, cfg.tables.state);
  if (cfg.local !== undefined) {
    // Loaded here, not at the top: the local lake is the consumer's only
    // DuckDB user, and DuckDB's native library and heap cost every record
    // processor tens of MB. In AWS mode (Firehose) it is never loaded
    // (test/unit/consumer/duckdb-lazy.test.ts).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { LakeSink } = require('./sinks/lake-sink') as typeof LakeSinkModule;
    const lake = new LakeSink({ dataDir: cfg.local.dataDir, workerId: cfg.workerId, shardId, flushIntervalMs: cfg.local.lakeFlushMs, logger });
    const alerts = new LocalAlertPublisher({ dataDir: cfg.local.dataDir, out: alertOut, cooldownMs: cfg.alertCooldownMs, logger });
    const dlq = new LocalDeadLetterQueue({ dataDir: cfg.local.dataDir, logger });
    return {
      sinks: [...live, lake],
      state,
      ledger,
      alerts,
      dlq,
      async close() {
        await lake.close();
        await alerts.close();
        ddb.destroy();
      },
    };
  }
  const aws = cfg.aws!;
  const opts = clientOptions({ region: cfg.region, ...(cfg.awsEndpoint !== undefined ? { endpoint: cfg.awsEndpoint } : {}) });
  const firehose = new FirehoseClient(opts);
  const sns = new SNSClient(opts);
  const sqs = new SQSClient(opts);
  const s3 = s3Client({ region: cfg.region, ...(cfg.awsEndpoint !== undefined ? { endpoint: cfg.awsEndpoint } : {}) });
  return {
    sinks: [...live, new FirehoseTickSink(firehose, { deliveryStreamName: aws.firehoseStream, recordBytes: aws.firehoseRecordBytes, logger })],
    state,
    ledger,
    alerts: new SnsAlertPublisher(ddb, sns, { topicArn: aws.alertTopicArn, alertsTableName: cfg.tables.alerts, cooldownMs: cfg.alertCooldownMs }),
    dlq: new SqsDeadLetterQueue(sqs, s3, { queueUrl: aws.deadLetterQueueUrl, bucket: aws.deadLetterBucket }),
    close() {
      for (const c of [ddb, firehose, sns, sqs, s3]) c.destroy();
      return Promise.resolve();
    },
  };
}
