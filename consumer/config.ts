import os from 'node:os';
import { analysisConfig, type AnalysisConfig } from '../analytics';
import { int, num, oneOf, optStr, str, url, type Env } from '../shared/config-util';
import { ENV } from '../shared/env-names';

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
  ticksTtlDays: number;
  checkpointEveryRecords: number;
  checkpointEveryMs: number;
  alertCooldownMs: number;
  /** EMF metrics line period */
  metricsIntervalMs: number;
  analysis: AnalysisConfig;
  /** Restarts at one checkpoint before the shard is quarantined (record by record). */
  quarantineAfter: number;
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
      }
    | undefined;
}

/** Read once at start-up; a bad value stops the process naming the variable. */
export function loadConsumerConfig(env: Env): Readonly<ConsumerConfig> {
  const mode = oneOf(env, ENV.mode, ['local', 'aws', 'null'] as const, 'aws');
  const cfg: ConsumerConfig = {
    mode,
    region: str(env, ENV.region, 'us-east-1'),
    logLevel: oneOf(env, ENV.logLevel, ['error', 'warn', 'info', 'debug'] as const, 'info'),
    // the Fargate task's hostname is unique; a pid is not, across tasks
    workerId: str(env, ENV.workerId, os.hostname()),
    dynamodbEndpoint: url(env, ENV.dynamodbEndpoint),
    awsEndpoint: url(env, ENV.awsEndpoint),
    tables: {
      ticks: str(env, ENV.ticksTable, 'tickstream-ticks'),
      latest: str(env, ENV.latestTable, 'tickstream-latest'),
      state: str(env, ENV.stateTable, 'tickstream-state'),
      alerts: str(env, ENV.alertsTable, 'tickstream-alerts'),
    },
    ticksTtlDays: num(env, ENV.ticksTtlDays, 7, 0.001, 3650),
    checkpointEveryRecords: int(env, ENV.checkpointEveryRecords, 5000, 1),
    checkpointEveryMs: int(env, ENV.checkpointEveryMs, 5000, 100),
    alertCooldownMs: int(env, ENV.alertCooldownMs, 60_000, 0),
    metricsIntervalMs: int(env, ENV.metricsIntervalMs, 60_000, 1000),
    analysis: analysisConfig(),
    quarantineAfter: int(env, ENV.quarantineAfter, 3, 1, 100),
    stopFile: optStr(env, ENV.stopFile),
    faultCrashMarker: optStr(env, ENV.faultCrashMarker),
    local:
      mode === 'local'
        ? {
            dataDir: str(env, ENV.dataDir, 'data'),
            statusPort: optStr(env, ENV.statusPort) === undefined ? undefined : int(env, ENV.statusPort, 0, 1, 65535),
            lakeFlushMs: int(env, ENV.lakeFlushMs, 5000, 0),
          }
        : undefined,
    aws:
      mode === 'aws'
        ? {
            alertTopicArn: str(env, ENV.alertTopicArn),
            deadLetterQueueUrl: str(env, ENV.deadLetterQueueUrl),
            deadLetterBucket: str(env, ENV.deadLetterBucket),
            firehoseStream: str(env, ENV.firehoseStream),
          }
        : undefined,
  };
  return Object.freeze(cfg);
}
