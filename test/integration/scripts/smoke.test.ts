/**
 * `npm run smoke` (scripts/smoke.ts) against the local stack in AWS mode:
 * the stream on kinesis-local, the tables on dynalite, SNS, SQS, Firehose
 * and S3 on moto, and a consumer container as the image runs it
 * (`node dist/consumer/daemon.js`: the real KCL daemon, the record
 * processors with their AWS-mode sinks), every endpoint aimed at an
 * emulator. The stack's names reach smoke as a cdk outputs file, the
 * endpoints as the variables the tasks use.
 */
import fs from 'node:fs';
import path from 'node:path';
import { FirehoseClient, CreateDeliveryStreamCommand } from '@aws-sdk/client-firehose';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { projectRoot } from '../../../consumer/kcl/jars';
import type { MotoServer } from '../../../local/moto';
import { motoClientConfig, startMoto } from '../../../local/moto';
import { startPipeline, type Pipeline } from '../../../local/pipeline';
import { ENV } from '../../../shared/env-names';
import { startProcess, type ManagedProcess } from '../../../shared/runtime/process';
import { STACK_NAME, STACK_OUTPUTS } from '../../../shared/stack-outputs';
import { main as smoke } from '../../../scripts/smoke';
import { tmpDir } from '../../helpers/wait';

// The first run on a fresh clone installs moto into .venv (a minute or two).
jest.setTimeout(420_000);

describe('npm run smoke against the local stack in AWS mode', () => {
  const dir = tmpDir('smoke');
  const outputsFile = path.join(dir, 'outputs.json');
  let moto: MotoServer;
  let p: Pipeline;
  let consumer: ManagedProcess | undefined;
  let alertInbox: string;
  let sqs: SQSClient;
  let smokeEnv: Record<string, string>;
  let awsEnv: Record<string, string>;

  beforeAll(async () => {
    moto = await startMoto();
    const cfg = motoClientConfig(moto.endpoint);
    const sns = new SNSClient(cfg);
    sqs = new SQSClient(cfg);
    const s3 = new S3Client({ ...cfg, forcePathStyle: true });
    const firehose = new FirehoseClient(cfg);
    const topicArn = (await sns.send(new CreateTopicCommand({ Name: 'tickstream-alerts' }))).TopicArn!;
    const dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'tickstream-dlq' }))).QueueUrl!;
    // what an e-mail subscriber would get, readable here
    alertInbox = (await sqs.send(new CreateQueueCommand({ QueueName: 'alert-inbox' }))).QueueUrl!;
    const inboxArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: alertInbox, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
    await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: inboxArn, Attributes: { RawMessageDelivery: 'true' } }));
    await s3.send(new CreateBucketCommand({ Bucket: 'lake' }));
    await firehose.send(
      new CreateDeliveryStreamCommand({
        DeliveryStreamName: 'tickstream-ticks',
        DeliveryStreamType: 'DirectPut',
        ExtendedS3DestinationConfiguration: { BucketARN: 'arn:aws:s3:::lake', RoleARN: 'arn:aws:iam::123456789012:role/firehose', Prefix: 'ticks/', ErrorOutputPrefix: 'errors/' },
      }),
    );
    for (const c of [sns, s3, firehose]) c.destroy();

    p = await startPipeline({ shards: 1, workers: 0, dataDir: path.join(dir, 'data'), runDir: path.join(dir, 'run'), checkpointEveryMs: 1000 });
    fs.writeFileSync(
      outputsFile,
      JSON.stringify({
        [STACK_NAME]: {
          [STACK_OUTPUTS.streamName]: p.streamName,
          [STACK_OUTPUTS.latestTableName]: p.tables.latest,
          [STACK_OUTPUTS.ticksTableName]: p.tables.ticks,
          [STACK_OUTPUTS.alertsTableName]: p.tables.alerts,
          [STACK_OUTPUTS.alertTopicArn]: topicArn,
        },
      }),
    );
    smokeEnv = { [ENV.kinesisEndpoint]: p.stack.kinesisEndpoint, [ENV.dynamodbEndpoint]: p.stack.dynamodbEndpoint, [ENV.region]: p.stack.region };
    // The task definition's AWS-mode variables (infra/), aimed at moto.
    awsEnv = {
      [ENV.mode]: 'aws',
      [ENV.awsEndpoint]: moto.endpoint,
      [ENV.alertTopicArn]: topicArn,
      [ENV.deadLetterQueueUrl]: dlqUrl,
      [ENV.deadLetterBucket]: 'lake',
      [ENV.firehoseStream]: 'tickstream-ticks',
    };
  });

  afterAll(async () => {
    await consumer?.stop(10_000);
    sqs?.destroy();
    await p?.stop();
    await moto?.stop();
  });

  it('fails, naming what is missing, when no consumer runs', async () => {
    const lines: string[] = [];
    const code = await smoke(['--outputs', outputsFile, '--symbol', 'ZZSMOKE-NONE', '--timeout-s', '8'], smokeEnv, (l) => lines.push(l));
    expect(code).toBe(1);
    expect(lines.filter((l) => l.startsWith('MISSING')).map((l) => l.split(':')[0])).toEqual([
      `MISSING latest (${p.tables.latest})`,
      `MISSING ticks (${p.tables.ticks})`,
      `MISSING alert (${p.tables.alerts})`,
    ]);
    expect(lines.at(-1)).toMatch(/^smoke: FAIL - missing: latest .*, ticks .*, alert .*Is the consumer service running/);
  });

  it('passes once the consumer container runs in AWS mode, and the alert reaches SNS', async () => {
    consumer = startProcess('consumer', process.execPath, [path.join(projectRoot(), 'dist', 'consumer', 'daemon.js')], {
      logFile: path.join(dir, 'consumer.log'),
      env: { ...process.env, ...p.entrypointEnv('smoke-consumer'), ...awsEnv },
    });
    const lines: string[] = [];
    const code = await smoke(['--outputs', outputsFile, '--timeout-s', '240'], smokeEnv, (l) => {
      lines.push(l);
      process.stderr.write(`smoke: ${l}\n`);
    });
    expect({ code, lines }).toEqual({ code: 0, lines: expect.arrayContaining(['smoke: PASS']) as unknown });
    expect(lines.filter((l) => l.startsWith('ok ')).map((l) => l.split(':')[0])).toEqual([
      `ok      latest (${p.tables.latest})`,
      `ok      ticks (${p.tables.ticks})`,
      `ok      alert (${p.tables.alerts})`,
    ]);
    // The ledger is written before SNS publishes: the message follows.
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: alertInbox, MaxNumberOfMessages: 10, WaitTimeSeconds: 10, MessageAttributeNames: ['All'] }));
    const bodies = (got.Messages ?? []).map((m) => m.Body ?? '');
    expect(bodies.some((b) => b.includes('ZZSMOKE'))).toBe(true);
  });
});
