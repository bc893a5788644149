import { Duration, Validations } from 'aws-cdk-lib';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { DATA_REMOVAL_POLICY, type Section } from './common';

/** The tick stream, provisioned or on demand as configured. */
export function tickStream({ stack, cfg }: Section, dataKey: kms.IKey): kinesis.Stream {
  const stream = new kinesis.Stream(stack, 'Ticks', {
    encryption: kinesis.StreamEncryption.KMS,
    encryptionKey: dataKey,
    retentionPeriod: Duration.hours(24),
    removalPolicy: DATA_REMOVAL_POLICY,
    ...(cfg.streamMode === 'on-demand' ? { streamMode: kinesis.StreamMode.ON_DEMAND } : { streamMode: kinesis.StreamMode.PROVISIONED, shardCount: cfg.shards }),
  });
  Validations.of(stream).acknowledge({
    id: 'AwsSolutions-KDS3',
    reason: 'Deliberately a customer-managed key rather than aws/kinesis: the same rotated CMK encrypts every store, so one key policy governs and one CloudTrail trail audits all access to tick data.',
  });
  return stream;
}
