/**
 * Environment variable names shared by infra/ (which sets them on the ECS task
 * definitions) and the config loaders (which read them once at start-up).
 * One list, so a renamed variable breaks the build instead of a deployment.
 */
export const ENV = {
  region: 'AWS_REGION',
  /** Set only locally/in tests: every AWS client goes to this endpoint. */
  awsEndpoint: 'TICKSTREAM_AWS_ENDPOINT',
  kinesisEndpoint: 'TICKSTREAM_KINESIS_ENDPOINT',
  dynamodbEndpoint: 'TICKSTREAM_DYNAMODB_ENDPOINT',
  streamName: 'TICKSTREAM_STREAM_NAME',
  appName: 'TICKSTREAM_APP_NAME',
  ticksTable: 'TICKSTREAM_TICKS_TABLE',
  latestTable: 'TICKSTREAM_LATEST_TABLE',
  stateTable: 'TICKSTREAM_STATE_TABLE',
  alertsTable: 'TICKSTREAM_ALERTS_TABLE',
  producerLeaseTable: 'TICKSTREAM_PRODUCER_LEASE_TABLE',
  alertTopicArn: 'TICKSTREAM_ALERT_TOPIC_ARN',
  deadLetterQueueUrl: 'TICKSTREAM_DLQ_URL',
  firehoseStream: 'TICKSTREAM_FIREHOSE_STREAM',
  athenaWorkgroup: 'TICKSTREAM_ATHENA_WORKGROUP',
  athenaOutput: 'TICKSTREAM_ATHENA_OUTPUT',
  glueDatabase: 'TICKSTREAM_GLUE_DATABASE',
  symbols: 'TICKSTREAM_SYMBOLS',
  symbolsFile: 'TICKSTREAM_SYMBOLS_FILE',
  pollIntervalMs: 'TICKSTREAM_POLL_INTERVAL_MS',
  source: 'TICKSTREAM_SOURCE',
  ticksTtlDays: 'TICKSTREAM_TICKS_TTL_DAYS',
  checkpointEveryRecords: 'TICKSTREAM_CHECKPOINT_EVERY_RECORDS',
  checkpointEveryMs: 'TICKSTREAM_CHECKPOINT_EVERY_MS',
  logLevel: 'LOG_LEVEL',
  /** 'aws' in ECS; 'local' with emulators and the local lake. */
  mode: 'TICKSTREAM_MODE',
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];
