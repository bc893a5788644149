/**
 * The dashboard's settings, read once at start (flags over variables).
 * Also what `npm start` reads for the dashboard it runs beside the pipeline.
 */
import { ConfigError, deepFreeze, httpUrl, int, oneOf, optional, readSettings, text, withDefault, type Env, type Setting } from '../shared/runtime/config';
import { ENV } from '../shared/env-names';
import { STACK_OUTPUTS } from '../shared/stack-outputs';
import type { AwsSourceNames } from './aws-source';
import { isLoopback } from './server';

const DASHBOARD_SETTINGS = {
  host: { flag: 'host', env: ENV.dashboardHost, schema: withDefault(text(), '127.0.0.1') },
  port: { flag: 'port', env: ENV.dashboardPort, schema: withDefault(int(0, 65535), 0) },
  token: { env: ENV.dashboardToken, schema: optional(text(/^\S{16,}$/, 'at least 16 characters, no spaces')) },
  mode: { env: ENV.mode, schema: withDefault(oneOf(['local', 'aws'] as const), 'local') },
} as const satisfies Record<string, Setting<unknown>>;

export interface DashboardConfig {
  readonly host: string;
  readonly port: number;
  readonly token: string | undefined;
  readonly mode: 'local' | 'aws';
}

export function loadDashboardConfig(env: Env, flags: Readonly<Record<string, unknown>> = {}): DashboardConfig {
  const s = readSettings(DASHBOARD_SETTINGS, { env, flags });
  if (!isLoopback(s.host) && s.token === undefined) throw new ConfigError(ENV.dashboardToken, `a token (required because ${ENV.dashboardHost} / --host is ${s.host}, not 127.0.0.1)`, undefined);
  return deepFreeze({ host: s.host, port: s.port, token: s.token, mode: s.mode });
}

/**
 * AWS mode: the stack's names from its outputs (cdk's --outputs-file JSON or
 * describe-stacks' Outputs, given with --outputs), each overridden by the
 * variable the other AWS-mode code reads.
 */
const AWS_SETTINGS = {
  region: { env: ENV.region, schema: optional(text()) },
  endpoint: { env: ENV.awsEndpoint, schema: optional(httpUrl()) },
  dynamodbEndpoint: { env: ENV.dynamodbEndpoint, schema: optional(httpUrl()) },
  latestTable: { env: ENV.latestTable, schema: optional(text()) },
  ticksTable: { env: ENV.ticksTable, schema: optional(text()) },
  alertsTable: { env: ENV.alertsTable, schema: optional(text()) },
  appName: { env: ENV.appName, schema: optional(text()) },
  deadLetterQueueUrl: { env: ENV.deadLetterQueueUrl, schema: optional(text()) },
  workgroup: { env: ENV.athenaWorkgroup, schema: optional(text()) },
  database: { env: ENV.glueDatabase, schema: optional(text()) },
  outputLocation: { env: ENV.athenaOutput, schema: optional(text(/^s3:\/\/\S+$/, 's3://bucket/prefix/')) },
} as const satisfies Record<string, Setting<unknown>>;

export interface AwsDashboardConfig {
  readonly region: string | undefined;
  readonly dynamodbEndpoint: string | undefined;
  readonly endpoint: string | undefined;
  readonly names: AwsSourceNames;
  readonly lakeBucket: string | undefined;
}

export function loadAwsDashboardConfig(env: Env, outputs: Readonly<Record<string, string>>): AwsDashboardConfig {
  const s = readSettings(AWS_SETTINGS, { env });
  const need = (value: string | undefined, variable: string, output: string): string => {
    if (value !== undefined) return value;
    throw new ConfigError(variable, `the stack's ${output} (set ${variable}, or give the stack's outputs with --outputs <file>)`, undefined);
  };
  const app = s.appName ?? outputs[STACK_OUTPUTS.kclApplicationName];
  const workgroup = s.workgroup ?? outputs[STACK_OUTPUTS.athenaWorkgroupName];
  // the Glue database is the app name in the characters Athena takes unquoted (infra/sections/common.ts glueDatabaseName)
  const database = s.database ?? app?.replace(/-/g, '_');
  const ticksTable = s.ticksTable ?? outputs[STACK_OUTPUTS.ticksTableName];
  const alertsTable = s.alertsTable ?? outputs[STACK_OUTPUTS.alertsTableName];
  const dlq = need(s.deadLetterQueueUrl ?? outputs[STACK_OUTPUTS.deadLetterQueueUrl], ENV.deadLetterQueueUrl, STACK_OUTPUTS.deadLetterQueueUrl);
  return deepFreeze({
    // the stack's region when AWS_REGION is unset: its queue's address names it (https://sqs.<region>.amazonaws.com/…)
    region: s.region ?? /^https:\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com\//.exec(dlq)?.[1],
    endpoint: s.endpoint,
    dynamodbEndpoint: s.dynamodbEndpoint ?? s.endpoint,
    lakeBucket: outputs[STACK_OUTPUTS.lakeBucketName],
    names: {
      latestTable: need(s.latestTable ?? outputs[STACK_OUTPUTS.latestTableName], ENV.latestTable, STACK_OUTPUTS.latestTableName),
      leaseTable: need(app, ENV.appName, STACK_OUTPUTS.kclApplicationName),
      deadLetterQueueUrl: dlq,
      ...(ticksTable !== undefined ? { ticksTable } : {}),
      ...(alertsTable !== undefined ? { alertsTable } : {}),
      ...(workgroup !== undefined && database !== undefined ? { athena: { workgroup, database, ...(s.outputLocation !== undefined ? { outputLocation: s.outputLocation } : {}) } } : {}),
    },
  });
}
