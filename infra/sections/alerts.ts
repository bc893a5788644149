import { Duration, Validations } from 'aws-cdk-lib';
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
