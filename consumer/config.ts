import os from 'node:os';
import { analysisConfig, type AnalysisConfig } from '../analytics';
import { bool, deepFreeze, httpUrl, int, oneOf, optional, readSettings, text, withDefault, type Env, type Setting } from '../shared/runtime/config';
import { ENV } from '../shared/env-names';
import { logLevelSetting, ticksTtlDaysSetting } from '../shared/runtime/task-settings';

export interface ConsumerConfig {
  /** 'null' acknowledges every write at once and keeps state in memory: it
   *  measures the record processor alone (bench:consumer); never real data. */
  mode: 'local' | 'aws' | 'null';
  region: string;
  logLevel: string;
  workerId: string;
  dynamodbEndpoint: string | undefined;
  /** endpoint for SNS/SQS/Firehose when they run on an emulator */
  awsEndpoint: string | undefined;
  tables: { ticks: string; latest: string; state: string; alerts: string };
  /** Write the DynamoDB ticks history (off when the stack was deployed with `-c ticksTable=false`). */
  ticksHistory: boolean;
  ticksTtlDays: number;
  checkpointEveryRecords: number;
  checkpointEveryMs: number;
  alertCooldownMs: number;
  /** EMF metrics line period */
  metricsIntervalMs: number;
  analysis: AnalysisConfig;
  /** Restarts at one checkpoint before the shard is quarantined (record by record). */
  quarantineAfter: number;
  /** Where this processor leaves its heartbeat for the health check (consumer/heartbeat.ts). */
  heartbeatDir: string | undefined;
  /** Set by the launcher: a configuration stop writes its line here. */
  stopFile: string | undefined;
  /** Tests only (fault injection): a record holding this string kills the processor. */
  faultCrashMarker: string | undefined;
  local: { dataDir: string; statusPort: number | undefined; lakeFlushMs: number } | undefined;
  aws:
    | {
        alertTopicArn: string;
        deadLetterQueueUrl: string;
        /** Where dead letters larger than an SQS message are written whole (the lake bucket). */
        deadLetterBucket: string;
        firehoseStream: string;
        /** Rows per Firehose record are packed up to this size; 0: one row per record. */
        firehoseRecordBytes: number;
      }
    | undefined;
}

/** Every consumer setting, by environment variable (infra/stack.ts sets them on the task). */
const CONSUMER_SETTINGS = {
  mode: { env: ENV.mode, schema: withDefault(oneOf(['local', 'aws', 'null']), 'aws') },
  region: { env: ENV.region, schema: withDefault(text(), 'us-east-1') },
  logLevel: { env: ENV.logLevel, schema: withDefault(logLevelSetting(), 'info') },
  workerId: { env: ENV.workerId, schema: optional(text()) },
  dynamodbEndpoint: { env: ENV.dynamodbEndpoint, schema: optional(httpUrl()) },
  awsEndpoint: { env: ENV.awsEndpoint, schema: optional(httpUrl()) },
  ticksTable: { env: ENV.ticksTable, schema: withDefault(text(), 'tickstream-ticks') },
  latestTable: { env: ENV.latestTable, schema: withDefault(text(), 'tickstream-latest') },
  stateTable: { env: ENV.stateTable, schema: withDefault(text(), 'tickstream-state') },
  alertsTable: { env: ENV.alertsTable, schema: withDefault(text(), 'tickstream-alerts') },
  ticksHistory: { env: ENV.ticksHistory, schema: withDefault(bool(), true) },
  ticksTtlDays: { env: ENV.ticksTtlDays, schema: withDefault(ticksTtlDaysSetting(), 7) },
  checkpointEveryRecords: { env: ENV.checkpointEveryRecords, schema: withDefault(int(1, Number.MAX_SAFE_INTEGER), 5000) },
  checkpointEveryMs: { env: ENV.checkpointEveryMs, schema: withDefault(int(100, Number.MAX_SAFE_INTEGER), 5000) },
  alertCooldownMs: { env: ENV.alertCooldownMs, schema: withDefault(int(0, Number.MAX_SAFE_INTEGER), 60_000) },
  metricsIntervalMs: { env: ENV.metricsIntervalMs, schema: withDefault(int(1000, Number.MAX_SAFE_INTEGER), 60_000) },
  quarantineAfter: { env: ENV.quarantineAfter, schema: withDefault(int(1, 100), 3) },
  stopFile: { env: ENV.stopFile, schema: optional(text()) },
  heartbeatDir: { env: ENV.heartbeatDir, schema: optional(text()) },
  faultCrashMarker: { env: ENV.faultCrashMarker, schema: optional(text()) },
} as const satisfies Record<string, Setting<unknown>>;

/** Read only in local mode. */
const CONSUMER_LOCAL_SETTINGS = {
  dataDir: { env: ENV.dataDir, schema: withDefault(text(), 'data') },
  statusPort: { env: ENV.statusPort, schema: optional(int(1, 65535)) },
  lakeFlushMs: { env: ENV.lakeFlushMs, schema: withDefault(int(0, Number.MAX_SAFE_INTEGER), 5000) },
} as const satisfies Record<string, Setting<unknown>>;

/** Required in AWS mode, read only there. */
const CONSUMER_AWS_SETTINGS = {
  alertTopicArn: { env: ENV.alertTopicArn, schema: text() },
  deadLetterQueueUrl: { env: ENV.deadLetterQueueUrl, schema: text() },
  deadLetterBucket: { env: ENV.deadLetterBucket, schema: text() },
  firehoseStream: { env: ENV.firehoseStream, schema: text() },
  // Firehose's own limit on one record is 1,000 KiB.
  firehoseRecordBytes: { env: ENV.firehoseRecordBytes, schema: withDefault(int(0, 1000 * 1024), 0) },
} as const satisfies Record<string, Setting<unknown>>;

/** Read once at start-up; a bad value stops the process naming the variable. */
export function loadConsumerConfig(env: Env): Readonly<ConsumerConfig> {
  const s = readSettings(CONSUMER_SETTINGS, { env });
  const cfg: ConsumerConfig = {
    mode: s.mode,
    region: s.region,
    logLevel: s.logLevel,
    // the Fargate task's hostname is unique; a pid is not, across tasks
    workerId: s.workerId ?? os.hostname(),
    dynamodbEndpoint: s.dynamodbEndpoint,
    awsEndpoint: s.awsEndpoint,
    tables: { ticks: s.ticksTable, latest: s.latestTable, state: s.stateTable, alerts: s.alertsTable },
    ticksHistory: s.ticksHistory,
    ticksTtlDays: s.ticksTtlDays,
    checkpointEveryRecords: s.checkpointEveryRecords,
    checkpointEveryMs: s.checkpointEveryMs,
    alertCooldownMs: s.alertCooldownMs,
    metricsIntervalMs: s.metricsIntervalMs,
    analysis: analysisConfig(),
    quarantineAfter: s.quarantineAfter,
    stopFile: s.stopFile,
    heartbeatDir: s.heartbeatDir,
    faultCrashMarker: s.faultCrashMarker,
    local: s.mode === 'local' ? readSettings(CONSUMER_LOCAL_SETTINGS, { env }) : undefined,
    aws: s.mode === 'aws' ? readSettings(CONSUMER_AWS_SETTINGS, { env }) : undefined,
  };
  return deepFreeze(cfg);
}
