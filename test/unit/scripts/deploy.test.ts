/**
 * The subscriber check of `npm run deploy` on what moto cannot play: SNS
 * lists a subscription whose confirmation link was not followed with
 * SubscriptionArn "PendingConfirmation", and pages long lists with NextToken
 * (https://docs.aws.amazon.com/sns/latest/api/API_ListSubscriptionsByTopic.html).
 * The moto-backed test is test/integration/scripts/deploy.test.ts.
 */
import type { ListSubscriptionsByTopicCommand, ListSubscriptionsByTopicCommandOutput, SNSClient } from '@aws-sdk/client-sns';
import { describeSubscribers, opsTopicSubscribers } from '../../../scripts/deploy';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:Tickstream-OpsTopic';

/** SNS answering ListSubscriptionsByTopic from fixed pages, keyed by NextToken. */
function snsWithPages(pages: Record<string, ListSubscriptionsByTopicCommandOutput['Subscriptions'] & object>): { client: SNSClient; tokens: (string | undefined)[] } {
  const tokens: (string | undefined)[] = [];
  const keys = Object.keys(pages);
  const client = {
    send: (cmd: ListSubscriptionsByTopicCommand) => {
      tokens.push(cmd.input.NextToken);
      const i = keys.indexOf(cmd.input.NextToken ?? 'first');
      return Promise.resolve({ Subscriptions: pages[keys[i] ?? ''], NextToken: keys[i + 1], $metadata: {} });
    },
  } as unknown as SNSClient;
  return { client, tokens };
}

test('PendingConfirmation is pending, an ARN is confirmed, and every page is read', async () => {
  const { client, tokens } = snsWithPages({
    first: [{ SubscriptionArn: 'PendingConfirmation', Protocol: 'email', Endpoint: 'ops@example.com', TopicArn: TOPIC }],
    page2: [{ SubscriptionArn: `${TOPIC}:0f1e`, Protocol: 'sms', Endpoint: '+15550100', TopicArn: TOPIC }],
  });
  const report = await opsTopicSubscribers(client, TOPIC);
  expect(tokens).toEqual([undefined, 'page2']);
  expect(report).toEqual({ topicArn: TOPIC, confirmed: [{ protocol: 'sms', endpoint: '+15550100' }], pending: [{ protocol: 'email', endpoint: 'ops@example.com' }] });
  expect(describeSubscribers(report)).toEqual({
    ok: true,
    lines: ['ops topic: 1 confirmed subscriber(s) will receive the alarms (sms:+15550100)', 'ops topic: 1 subscription(s) pending confirmation: follow the link AWS sent to email:ops@example.com'],
  });
});

test('an e-mail subscription nobody confirmed reaches no one: not ok, and no subscribe hint (the link is the fix)', async () => {
  const { client } = snsWithPages({ first: [{ SubscriptionArn: 'PendingConfirmation', Protocol: 'email', Endpoint: 'ops@example.com', TopicArn: TOPIC }] });
  const { ok, lines } = describeSubscribers(await opsTopicSubscribers(client, TOPIC));
  expect(ok).toBe(false);
  expect(lines).toEqual([`ops topic: NO confirmed subscriber - alarms and budget notifications reach no one (${TOPIC})`, 'ops topic: 1 subscription(s) pending confirmation: follow the link AWS sent to email:ops@example.com']);
});
