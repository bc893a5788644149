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
      sid: 'CloudWatchAlarmsPublish',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: ['*'], // in a key policy, "*" means this key
    }),
  );
  return { dataKey, opsKey };
}
