/**
 * `npm run deploy [-- <cdk deploy options>]`: `cdk deploy`, then whether
 * anyone will hear the alarms.
 *
 * Every alarm and the budget notify the ops topic, but a topic with no
 * confirmed subscriber delivers to no one, silently: an e-mail subscription
 * (`-c alertEmail=…`) stays "PendingConfirmation" until its link is clicked.
 * So after a successful deploy this reads the stack's OpsTopicArn output and
 * lists the topic's subscriptions, and says plainly when none is confirmed,
 * with the one command that fixes it.
 *
 * A failed deploy exits with cdk's status and says what a retry does
 * (README, "First deploy and retry").
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ListSubscriptionsByTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { describeError } from '../shared/describe-error';
import { OUTPUTS_FILE, STACK_NAME, STACK_OUTPUTS } from '../shared/stack-outputs';

export interface Subscriber {
  readonly protocol: string;
  readonly endpoint: string;
}

export interface SubscriberReport {
  readonly topicArn: string;
  readonly confirmed: readonly Subscriber[];
  /** Subscriptions waiting for their confirmation link to be followed. */
  readonly pending: readonly Subscriber[];
}

/** The topic's subscriptions, confirmed and pending (SNS's SubscriptionArn is "PendingConfirmation" until confirmed). */
export async function opsTopicSubscribers(sns: SNSClient, topicArn: string): Promise<SubscriberReport> {
  const confirmed: Subscriber[] = [];
  const pending: Subscriber[] = [];
  let token: string | undefined;
  do {
    const page = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, NextToken: token }));
    for (const sub of page.Subscriptions ?? []) {
      const who = { protocol: sub.Protocol ?? '?', endpoint: sub.Endpoint ?? '?' };
      if (sub.SubscriptionArn?.startsWith('arn:') === true) confirmed.push(who);
      else if (sub.SubscriptionArn === 'PendingConfirmation') pending.push(who);
    }
    token = page.NextToken;
  } while (token !== undefined);
  return { topicArn, confirmed, pending };
}

/** What to tell the operator: `ok` when at least one subscriber will receive the alarms. */
export function describeSubscribers(r: SubscriberReport): { ok: boolean; lines: string[] } {
  const list = (xs: readonly Subscriber[]): string => xs.map((x) => `${x.protocol}:${x.endpoint}`).join(', ');
  const lines: string[] = [];
  if (r.confirmed.length > 0) {
    lines.push(`ops topic: ${r.confirmed.length} confirmed subscriber(s) will receive the alarms (${list(r.confirmed)})`);
  } else {
    lines.push(`ops topic: NO confirmed subscriber - alarms and budget notifications reach no one (${r.topicArn})`);
  }
  if (r.pending.length > 0) lines.push(`ops topic: ${r.pending.length} subscription(s) pending confirmation: follow the link AWS sent to ${list(r.pending)}`);
  if (r.confirmed.length === 0 && r.pending.length === 0) {
    lines.push(`  fix: aws sns subscribe --topic-arn ${r.topicArn} --protocol email --notification-endpoint you@example.com   (then confirm the e-mail)`);
  }
  return { ok: r.confirmed.length > 0, lines };
}

/** The region of an SNS topic ARN (arn:partition:sns:region:account:name). */
export function regionOfArn(arn: string): string {
  const region = arn.split(':')[3];
  if (region === undefined || region === '') throw new Error(`not a regional ARN: ${arn}`);
  return region;
}

/**
 * cdk deploy with an outputs file; the stack's outputs, or cdk's exit status.
 * The file stays in the project root (OUTPUTS_FILE, git-ignored): `npm run
 * smoke` finds the stream and tables there.
 */
function cdkDeploy(args: readonly string[]): { outputs: Record<string, string> } | { status: number } {
  const root = path.join(__dirname, '..');
  const outputsFile = path.join(root, OUTPUTS_FILE);
  const cdk = spawnSync(path.join(root, 'node_modules', '.bin', 'cdk'), ['deploy', STACK_NAME, '--outputs-file', outputsFile, ...args], { cwd: root, stdio: 'inherit' });
  if (cdk.status !== 0) return { status: cdk.status ?? 1 };
  const all = JSON.parse(readFileSync(outputsFile, 'utf8')) as Record<string, Record<string, string> | undefined>;
  return { outputs: all[STACK_NAME] ?? {} };
}

async function main(args: readonly string[]): Promise<number> {
  const deployed = cdkDeploy(args);
  if ('status' in deployed) {
    process.stderr.write(
      'deploy: cdk deploy failed. A failed first deploy rolls back everything it created (the stores are RetainExceptOnCreate), so `npm run deploy` can be run again once the cause is fixed; a failed update rolls back to the last good state.\n',
    );
    return deployed.status;
  }
  const topicArn = deployed.outputs[STACK_OUTPUTS.opsTopicArn];
  if (topicArn === undefined) {
    process.stderr.write(`deploy: the stack has no ${STACK_OUTPUTS.opsTopicArn} output, so the ops topic's subscribers cannot be checked\n`);
    return 1;
  }
  // The same credentials cdk used (the default chain); the region is the topic's.
  const sns = new SNSClient({ region: regionOfArn(topicArn) });
  try {
    const { lines } = describeSubscribers(await opsTopicSubscribers(sns, topicArn));
    for (const l of lines) process.stdout.write(`${l}\n`);
    // The deploy itself succeeded: no subscriber is a warning, not a failure.
    return 0;
  } finally {
    sns.destroy();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`deploy: deployed, but checking the ops topic failed: ${describeError(err)}\n`);
      process.exitCode = 1;
    },
  );
}
