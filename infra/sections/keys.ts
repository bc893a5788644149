import { Arn, ArnFormat } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { DATA_REMOVAL_POLICY, type Section } from './common';

export interface Keys {
  readonly dataKey: kms.Key;
  readonly opsKey: kms.Key;
}

/**
 * One CMK for the data plane (stream, tables, lake, queue, alert topic,
 * Firehose, Athena results): $1/month, and a single place to audit or
 * revoke. The ops topic gets its own key because CloudWatch alarms must be
 * allowed to use it, and that grant should not reach the data.
 */
export function keys({ stack, cfg }: Section): Keys {
  const dataKey = new kms.Key(stack, 'DataKey', {
    description: `${cfg.appName} data at rest`,
    enableKeyRotation: true,
    removalPolicy: DATA_REMOVAL_POLICY,
  });
  const opsKey = new kms.Key(stack, 'OpsKey', {
    description: `${cfg.appName} ops alarm topic`,
    enableKeyRotation: true,
    removalPolicy: DATA_REMOVAL_POLICY,
  });
  opsKey.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'CloudWatchAlarmsAndBudgetsPublish',
      // Both publish to the ops topic, which this key encrypts; the topic
      // policy limits them to this account's alarms and budgets.
      // https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-sns-policy.html
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com'), new iam.ServicePrincipal('budgets.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: ['*'], // in a key policy, "*" means this key
    }),
  );
  // CloudWatch Logs encrypts the log groups with the data key (they can
  // hold symbols, prices and error details). The logs service principal
  // needs these actions, limited to this account's log groups by the
  // encryption context, as documented in
  // https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
  dataKey.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'CloudWatchLogsOfThisAccount',
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'], // in a key policy, "*" means this key
      conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': Arn.format({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }, stack) } },
    }),
  );
  return { dataKey, opsKey };
}
