import { Arn, ArnFormat, Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { DATA_REMOVAL_POLICY, type Section } from './common';
import type { Keys } from './keys';

export interface Messaging {
  /** Trading alerts for people (data key). */
  readonly alertTopic: sns.Topic;
  /** CloudWatch alarms for operators (ops key, which CloudWatch may use). */
  readonly opsTopic: sns.Topic;
  /** Records the consumer could not decode, with the reason. */
  readonly dlq: sqs.Queue;
}

/** Alerts, dead letters, ops. */
export function messaging({ stack, cfg }: Section, { dataKey, opsKey }: Keys): Messaging {
  const alertTopic = new sns.Topic(stack, 'AlertTopic', { displayName: 'tickstream alerts', masterKey: dataKey, enforceSSL: true });
  const opsTopic = new sns.Topic(stack, 'OpsTopic', { displayName: 'tickstream ops alarms', masterKey: opsKey, enforceSSL: true });
  // A topic policy replaces SNS's default one, and `enforceSSL` makes CDK
  // write a policy holding only the TLS deny: with nothing else, CloudWatch
  // and Budgets could not publish at all. Each service gets an explicit
  // Allow, limited to this account's alarms and budgets, as AWS documents:
  // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-actions.html (SNS topic policy for alarm actions)
  // https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-sns-policy.html
  const fromThisAccount = (service: string, sourceArn: string): iam.PolicyStatement =>
    new iam.PolicyStatement({
      sid: `${service.split('.')[0] ?? service}PublishFromThisAccount`,
      principals: [new iam.ServicePrincipal(service)],
      actions: ['sns:Publish'],
      resources: [opsTopic.topicArn],
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account }, ArnLike: { 'aws:SourceArn': sourceArn } },
    });
  opsTopic.addToResourcePolicy(
    fromThisAccount('cloudwatch.amazonaws.com', Arn.format({ service: 'cloudwatch', resource: 'alarm', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }, stack)),
  );
  opsTopic.addToResourcePolicy(fromThisAccount('budgets.amazonaws.com', Arn.format({ service: 'budgets', region: '', resource: '*' }, stack)));
  if (cfg.alertEmail !== undefined) {
    alertTopic.addSubscription(new subscriptions.EmailSubscription(cfg.alertEmail));
    opsTopic.addSubscription(new subscriptions.EmailSubscription(cfg.alertEmail));
  }
  const dlq = new sqs.Queue(stack, 'DeadLetters', {
    encryption: sqs.QueueEncryption.KMS,
    encryptionMasterKey: dataKey,
    dataKeyReuse: Duration.hours(1),
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
    removalPolicy: DATA_REMOVAL_POLICY,
  });
  Validations.of(dlq).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: 'This queue is itself the dead-letter queue: the consumer sends undecodable records here with the reason; it has no consumer that could fail into another DLQ.',
  });
  return { alertTopic, opsTopic, dlq };
}
