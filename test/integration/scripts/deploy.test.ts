/**
 * `npm run deploy`'s subscriber check against moto's SNS over real HTTP
 * (the same server the AWS-adapter tests use). moto 5.2.5 confirms every
 * subscription at once, e-mail included, so it cannot play SNS's
 * "PendingConfirmation": that branch is covered in
 * test/unit/scripts/deploy.test.ts with SNS's documented answer.
 */
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { MotoServer } from '../../../local/moto';
import { motoClientConfig, startMoto } from '../../../local/moto';
import { describeSubscribers, opsTopicSubscribers, regionOfArn } from '../../../scripts/deploy';

// The first run on a fresh clone installs moto into .venv (a minute or two).
jest.setTimeout(300_000);

let moto: MotoServer;
let sns: SNSClient;
let sqs: SQSClient;

beforeAll(async () => {
  moto = await startMoto();
  sns = new SNSClient(motoClientConfig(moto.endpoint));
  sqs = new SQSClient(motoClientConfig(moto.endpoint));
});

afterAll(async () => {
  sns?.destroy();
  sqs?.destroy();
  await moto?.stop();
});

const topic = async (name: string): Promise<string> => (await sns.send(new CreateTopicCommand({ Name: name }))).TopicArn ?? '';

test('a topic nobody subscribed to: not ok, and the fix names the topic', async () => {
  const arn = await topic('ops-empty');
  const report = await opsTopicSubscribers(sns, arn);
  expect(report).toEqual({ topicArn: arn, confirmed: [], pending: [] });
  const { ok, lines } = describeSubscribers(report);
  expect(ok).toBe(false);
  expect(lines[0]).toMatch(/^ops topic: NO confirmed subscriber/);
  expect(lines.join('\n')).toContain(`aws sns subscribe --topic-arn ${arn} --protocol email`);
});

test('confirmed subscribers make it ok, each listed', async () => {
  const arn = await topic('ops-confirmed');
  const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'ops-inbox' }))).QueueUrl ?? '';
  const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn ?? '';
  await sns.send(new SubscribeCommand({ TopicArn: arn, Protocol: 'sqs', Endpoint: queueArn }));
  await sns.send(new SubscribeCommand({ TopicArn: arn, Protocol: 'email', Endpoint: 'oncall@example.com' }));
  const report = await opsTopicSubscribers(sns, arn);
  expect(report).toEqual({
    topicArn: arn,
    confirmed: [
      { protocol: 'sqs', endpoint: queueArn },
      { protocol: 'email', endpoint: 'oncall@example.com' },
    ],
    pending: [],
  });
  const { ok, lines } = describeSubscribers(report);
  expect(ok).toBe(true);
  expect(lines).toEqual([`ops topic: 2 confirmed subscriber(s) will receive the alarms (sqs:${queueArn}, email:oncall@example.com)`]);
});

test('the SNS client is built for the topic\'s own region', () => {
  expect(regionOfArn('arn:aws:sns:eu-west-1:123456789012:Tickstream-OpsTopic')).toBe('eu-west-1');
  expect(() => regionOfArn('arn:aws:iam::123456789012:role/x')).toThrow(/not a regional ARN/);
});
