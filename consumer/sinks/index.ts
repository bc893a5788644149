/** Every adapter behind the consumer's ports (consumer/ports.ts), for wiring. */
export { DynamoLatestSink, DynamoTicksSink } from './dynamodb-ticks';
export type { DynamoLatestSinkOptions, DynamoTicksSinkOptions, LatestWriteStats } from './dynamodb-ticks';
export { DynamoStateStore } from './dynamodb-state';
export type { DynamoStateStoreOptions } from './dynamodb-state';
export { SnsAlertPublisher } from './sns-alerts';
export type { SnsAlertPublisherOptions } from './sns-alerts';
export { SqsDeadLetterQueue } from './sqs-dlq';
export type { SqsDeadLetterQueueOptions } from './sqs-dlq';
export { FirehoseTickSink } from './firehose';
export type { FirehoseTickSinkOptions } from './firehose';
export { LakeSink, lakeTicksDir } from './lake-sink';
export type { LakeSinkOptions } from './lake-sink';
export { ALERTS_FILE, DEAD_LETTERS_FILE, LocalAlertPublisher, LocalDeadLetterQueue, formatAlertLine } from './local-files';
export type { LocalAlertPublisherOptions, LocalDeadLetterQueueOptions } from './local-files';
export { DedupCooldownPublisher } from './alert-gate';
export type { AlertLedger } from './alert-gate';
export type { RetryPolicy } from '../../shared/runtime/retry';
export { DEFAULT_RETRY } from './util';
