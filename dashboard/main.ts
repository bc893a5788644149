/**
 * `npm run dashboard`: the dashboard on its own, over what a past local run
 * left in the data directory (the Parquet lake, alerts.jsonl,
 * dead-letters.jsonl), or with TICKSTREAM_MODE=aws over the deployed stack
 * (dashboard/aws-source.ts). `npm start` runs the same server beside a live
 * pipeline (local/main.ts).
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import { SQSClient } from '@aws-sdk/client-sqs';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { clientOptions, dynamoClient } from '../shared/aws';
import { ENV } from '../shared/env-names';
import { ConfigError, EXIT_CONFIG, EXIT_USAGE } from '../shared/runtime/config';
import { OUTPUTS_FILE, parseOutputs, STACK_NAME } from '../shared/stack-outputs';
import { AwsSource } from './aws-source';
import { loadAwsDashboardConfig, loadDashboardConfig, type AwsDashboardConfig } from './config';
import { dashboardPolicy } from './iam-policy';
import { LocalSource } from './local-source';
import { startDashboard } from './server';
import type { DashboardSource } from './source';

const USAGE = `Usage: npm run dashboard -- [options]
  --data <dir>    the data directory of a past \`npm start\` (default data/)
  --port <n>      port (default: a free one; or TICKSTREAM_DASHBOARD_PORT)
  --host <addr>   address to bind (default 127.0.0.1; any other needs TICKSTREAM_DASHBOARD_TOKEN)
  TICKSTREAM_MODE=aws: read the deployed stack instead (read-only; your AWS credentials)
  --outputs <file>      the stack's outputs (default ${OUTPUTS_FILE}, which \`npm run deploy\` writes): cdk's --outputs-file JSON, or
                        aws cloudformation describe-stacks --stack-name ${STACK_NAME} --query 'Stacks[0].Outputs'
                        (each name can be set by its variable instead, e.g. TICKSTREAM_LATEST_TABLE)
  --print-iam-policy    print the read-only IAM policy the AWS dashboard needs, and exit
  --account <id>        the account id in the policy's ARNs (default: a placeholder)
  --key-arn <arn>       the stack's data key in the policy (default: a placeholder)
  -h, --help`;

/** An S3 URI's bucket: s3://bucket/prefix/ -> bucket. */
const bucketOf = (uri: string | undefined): string | undefined => (uri === undefined ? undefined : /^s3:\/\/([^/]+)/.exec(uri)?.[1]);

function awsSource(c: AwsDashboardConfig): AwsSource {
  // checked at start (main), before anything listens
  const region = c.region ?? '';
  // in AWS the default credential chain; an endpoint (and dummy credentials) only for a local test stack
  const base = clientOptions({ region, ...(c.endpoint !== undefined ? { endpoint: c.endpoint } : {}) });
  return new AwsSource({
    names: c.names,
    dynamo: dynamoClient({ region, ...(c.dynamodbEndpoint !== undefined ? { endpoint: c.dynamodbEndpoint } : {}) }),
    sqs: new SQSClient(base),
    ...(c.names.athena !== undefined ? { athena: new AthenaClient(base) } : {}),
    where: `${STACK_NAME} in ${region}`,
    log: (line) => void process.stderr.write(line + '\n'),
  }).start();
}

const out = (line: string): void => void process.stdout.write(line + '\n');

async function main(): Promise<void> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: process.argv.slice(2),
      options: {
        data: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        outputs: { type: 'string' },
        'print-iam-policy': { type: 'boolean' },
        account: { type: 'string' },
        'key-arn': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}\n`);
    process.exit(EXIT_USAGE);
  }
  if (values.help === true) return out(USAGE);
  let cfg;
  let aws: AwsDashboardConfig | undefined;
  const printPolicy = values['print-iam-policy'] === true;
  try {
    cfg = loadDashboardConfig(process.env, { port: values.port, host: values.host });
    if (cfg.mode === 'aws' || printPolicy) {
      // the file `npm run deploy` leaves, unless another is named; without either, the variables alone
      const file = typeof values.outputs === 'string' ? values.outputs : fs.existsSync(OUTPUTS_FILE) ? OUTPUTS_FILE : undefined;
      const outputs = file === undefined ? {} : parseOutputs(JSON.parse(fs.readFileSync(file, 'utf8')) as unknown);
      aws = loadAwsDashboardConfig(process.env, outputs);
      if (!printPolicy && aws.region === undefined) throw new ConfigError(ENV.region, "the stack's region (set AWS_REGION)", undefined);
    }
  } catch (err) {
    if (err instanceof ConfigError || err instanceof SyntaxError || (err as NodeJS.ErrnoException).code === 'ENOENT') {
      process.stderr.write(`tickstream dashboard: ${(err as Error).message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw err;
  }
  if (printPolicy && aws !== undefined) {
    const str = (v: unknown, placeholder: string): string => (typeof v === 'string' ? v : placeholder);
    const policy = dashboardPolicy({
      region: aws.region ?? 'REGION',
      account: str(values.account, 'ACCOUNT_ID'),
      names: aws.names,
      lakeBucket: aws.lakeBucket ?? 'LAKE_BUCKET',
      athenaResultsBucket: bucketOf(aws.names.athena?.outputLocation) ?? 'ATHENA_RESULTS_BUCKET',
      dataKeyArn: str(values['key-arn'], 'DATA_KEY_ARN'),
    });
    return out(JSON.stringify(policy, null, 2));
  }
  const dataDir = typeof values.data === 'string' ? values.data : 'data';
  const source: DashboardSource = aws !== undefined ? awsSource(aws) : new LocalSource({ dataDir });
  const dash = await startDashboard({ source, host: cfg.host, port: cfg.port, token: cfg.token, staticDir: path.join(__dirname, 'web') });
  out(`dashboard: ${dash.url}`);
  out(`tickstream dashboard: ${aws !== undefined ? source.description : `history from ${dataDir}`} (Ctrl-C to stop)`);
  const stop = (): void => {
    void dash
      .close()
      .then(() => source.close())
      .finally(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`tickstream dashboard: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
