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
  /** the lake bucket: dead letters too large for an SQS message go under its dead-letters/ prefix */
  deadLetterBucket: 'TICKSTREAM_DLQ_BUCKET',
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
  /** consumer, AWS mode: rows are packed into Firehose records of at most this many bytes (0: one row per record) */
  firehoseRecordBytes: 'TICKSTREAM_FIREHOSE_RECORD_BYTES',
  /** consumer: write the DynamoDB ticks history table (false when the stack has none) */
  ticksHistory: 'TICKSTREAM_TICKS_HISTORY',
  /** consumer: where record processors leave their heartbeats and the launcher the JVM's pid (consumer/heartbeat.ts); unset: no heartbeats */
  heartbeatDir: 'TICKSTREAM_HEARTBEAT_DIR',
  /** consumer health check: a live processor silent for longer than this is stuck */
  healthStaleMs: 'TICKSTREAM_HEALTH_STALE_MS',
  /** consumer daemon: the KCL's maxLeasesForWorker (infra sizes the task's memory with it) */
  kclMaxLeasesForWorker: 'TICKSTREAM_KCL_MAX_LEASES_FOR_WORKER',
  /** consumer daemon: a fixed JVM heap (-Xms = -Xmx), MiB */
  jvmHeapMiB: 'TICKSTREAM_JVM_HEAP_MIB',
  logLevel: 'LOG_LEVEL',
  /** local mode: where the lake, alerts and dead letters go */
  dataDir: 'TICKSTREAM_DATA_DIR',
  /** local mode: UDP port on 127.0.0.1 where processors report progress */
  statusPort: 'TICKSTREAM_STATUS_PORT',
  workerId: 'TICKSTREAM_WORKER_ID',
  alertCooldownMs: 'TICKSTREAM_ALERT_COOLDOWN_MS',
  lakeFlushMs: 'TICKSTREAM_LAKE_FLUSH_MS',
  kclIdleMs: 'TICKSTREAM_KCL_IDLE_MS',
  metricsIntervalMs: 'TICKSTREAM_METRICS_INTERVAL_MS',
  kclFailoverMs: 'TICKSTREAM_KCL_FAILOVER_MS',
  /** consumer daemon: the KCL leader lock's lease and heartbeat (consumer/kcl/properties.ts) */
  kclLeaderLeaseMs: 'TICKSTREAM_KCL_LEADER_LEASE_MS',
  kclLeaderHeartbeatMs: 'TICKSTREAM_KCL_LEADER_HEARTBEAT_MS',
  /** consumer: restarts at one checkpoint before a shard is processed record by record */
  quarantineAfter: 'TICKSTREAM_QUARANTINE_AFTER',
  /** consumer: where a configuration stop writes its one line for the launcher (daemon.ts, npm start) */
  stopFile: 'TICKSTREAM_STOP_FILE',
  /** tests only: a record containing this string kills its record processor */
  faultCrashMarker: 'TICKSTREAM_FAULT_CRASH_MARKER',
  /** producer: Kinesis PutRecords limits and retry policy */
  producerBatchRecords: 'TICKSTREAM_PRODUCER_BATCH_RECORDS',
  producerBatchBytes: 'TICKSTREAM_PRODUCER_BATCH_BYTES',
  producerMaxInFlight: 'TICKSTREAM_PRODUCER_MAX_IN_FLIGHT',
  producerMaxRetries: 'TICKSTREAM_PRODUCER_MAX_RETRIES',
  /** producer scale-out: symbol groups leased through producerLeaseTable */
  producerGroups: 'TICKSTREAM_PRODUCER_GROUPS',
  producerLeaseMs: 'TICKSTREAM_PRODUCER_LEASE_MS',
  producerHeartbeatMs: 'TICKSTREAM_PRODUCER_HEARTBEAT_MS',
  /** producer yahoo source */
  yahooBatchSize: 'TICKSTREAM_YAHOO_BATCH_SIZE',
  yahooConcurrency: 'TICKSTREAM_YAHOO_CONCURRENCY',
  yahooTimeoutMs: 'TICKSTREAM_YAHOO_TIMEOUT_MS',
  /** producer replay source: comma-separated file lists */
  replayCsv: 'TICKSTREAM_REPLAY_CSV',
  replayParquet: 'TICKSTREAM_REPLAY_PARQUET',
  replaySpeed: 'TICKSTREAM_REPLAY_SPEED',
  replayLoop: 'TICKSTREAM_REPLAY_LOOP',
  /** producer synthetic source */
  syntheticSeed: 'TICKSTREAM_SYNTHETIC_SEED',
  syntheticRate: 'TICKSTREAM_SYNTHETIC_RATE',
  syntheticMaxTicks: 'TICKSTREAM_SYNTHETIC_MAX_TICKS',
  /** dashboard: where it listens (127.0.0.1 unless set), its port (0: a free one), and the token any other host requires */
  dashboardHost: 'TICKSTREAM_DASHBOARD_HOST',
  dashboardPort: 'TICKSTREAM_DASHBOARD_PORT',
  dashboardToken: 'TICKSTREAM_DASHBOARD_TOKEN',
  /** 'aws' in ECS; 'local' with emulators and the local lake. */
  mode: 'TICKSTREAM_MODE',
} as const;
