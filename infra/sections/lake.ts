import { Arn, ArnFormat, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { allow, DATA_REMOVAL_POLICY, glueDatabaseName, type Section } from './common';

/** Lake layout, shared by the Firehose prefix, the Glue location and the projection template. */
export const LAKE_PREFIX = 'ticks/';
const FIREHOSE_PREFIX = `${LAKE_PREFIX}dt=!{partitionKeyFromQuery:dt}/`;
export const FIREHOSE_ERROR_PREFIX = 'errors/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/';
/** Firehose needs >= 64 MiB when converting to Parquet; 128 MiB makes fewer, larger files for Athena. */
const FIREHOSE_BUFFER_MIB = 128;
const FIREHOSE_BUFFER_SECONDS = 300;

interface LakeBuckets {
  readonly lakeBucket: s3.Bucket;
  readonly athenaResults: s3.Bucket;
}

/**
 * The Parquet lake and the Athena results bucket, with server access logs
 * for both. The log bucket is SSE-S3: S3 log delivery cannot write to a
 * KMS-encrypted target bucket.
 */
export function lakeBuckets({ stack }: Section, dataKey: kms.IKey): LakeBuckets {
  const removalPolicy = DATA_REMOVAL_POLICY;
  const accessLogs = new s3.Bucket(stack, 'AccessLogs', {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    lifecycleRules: [{ expiration: Duration.days(365) }],
    removalPolicy,
  });
  const lakeBucket = new s3.Bucket(stack, 'Lake', {
    encryption: s3.BucketEncryption.KMS,
    encryptionKey: dataKey,
    bucketKeyEnabled: true, // one KMS call per object batch instead of per object: Firehose writes many
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    versioned: true,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    serverAccessLogsBucket: accessLogs,
    serverAccessLogsPrefix: 'lake/',
    lifecycleRules: [
      // Not Glacier Flexible Retrieval or Deep Archive: Athena skips objects
      // in those classes, so a query would silently lose old ticks.
      // Intelligent-Tiering moves cold objects to its Infrequent and
      // Archive Instant Access tiers by itself, which Athena reads, with no
      // retrieval fee (its opt-in archive tiers are not enabled here).
      // https://docs.aws.amazon.com/athena/latest/ug/other-notable-limitations.html
      // https://docs.aws.amazon.com/AmazonS3/latest/userguide/intelligent-tiering-overview.html
      { id: 'intelligent-tiering', transitions: [{ storageClass: s3.StorageClass.INTELLIGENT_TIERING, transitionAfter: Duration.days(0) }] },
      // Versioning protects against overwrite/delete; old versions need not live forever.
      { id: 'expire-noncurrent', noncurrentVersionExpiration: Duration.days(30) },
      { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
    ],
    removalPolicy,
  });
  const athenaResults = new s3.Bucket(stack, 'AthenaResults', {
    encryption: s3.BucketEncryption.KMS,
    encryptionKey: dataKey,
    bucketKeyEnabled: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    serverAccessLogsBucket: accessLogs,
    serverAccessLogsPrefix: 'athena-results/',
    lifecycleRules: [{ id: 'expire-results', expiration: Duration.days(30) }],
    removalPolicy,
  });
  return { lakeBucket, athenaResults };
}

/** The ack id cdk-nag gives a wildcard under one prefix of the lake bucket. */
export function lakePrefixFinding(lakeBucket: s3.Bucket, prefix: string): string {
  return `AwsSolutions-IAM5[Resource::<${lakeBucket.stack.getLogicalId(lakeBucket.node.defaultChild as s3.CfnBucket)}.Arn>/${prefix}*]`;
}

/**
 * Firehose: JSON rows in, Parquet out under ticks/dt=<the tick's date>/,
 * converted with the Glue table's schema.
 */
export function lakeDelivery({ stack, cfg }: Section, dataKey: kms.IKey, lakeBucket: s3.Bucket, glueTable: glue.CfnTable): firehose.CfnDeliveryStream {
  const dbName = glueDatabaseName(cfg);
  const firehoseLogGroup = new logs.LogGroup(stack, 'FirehoseLogs', {
    retention: cfg.logRetentionDays as logs.RetentionDays,
    removalPolicy: RemovalPolicy.DESTROY,
    encryptionKey: dataKey,
  });
  const firehoseLogStream = new logs.LogStream(stack, 'FirehoseS3Delivery', { logGroup: firehoseLogGroup, removalPolicy: RemovalPolicy.DESTROY });
  const firehoseRole = new iam.Role(stack, 'FirehoseRole', { assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com') });
  allow(firehoseRole, ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'], [lakeBucket.bucketArn]);
  allow(firehoseRole, ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'], [lakeBucket.arnForObjects(`${LAKE_PREFIX}*`), lakeBucket.arnForObjects('errors/*')]);
  allow(firehoseRole, ['kms:Decrypt', 'kms:GenerateDataKey'], [dataKey.keyArn]);
  allow(firehoseRole, ['glue:GetTable', 'glue:GetTableVersion', 'glue:GetTableVersions'], [
    Arn.format({ service: 'glue', resource: 'catalog' }, stack),
    Arn.format({ service: 'glue', resource: 'database', resourceName: dbName }, stack),
    Arn.format({ service: 'glue', resource: 'table', resourceName: `${dbName}/ticks` }, stack),
  ]);
  allow(firehoseRole, ['logs:PutLogEvents'], [
    Arn.format({ service: 'logs', resource: 'log-group', resourceName: `${firehoseLogGroup.logGroupName}:log-stream:${firehoseLogStream.logStreamName}`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }, stack),
  ]);
  Validations.of(firehoseRole).acknowledge(
    {
      id: lakePrefixFinding(lakeBucket, LAKE_PREFIX),
      reason: 'Firehose writes objects under the ticks/ prefix with names it generates; the grant is limited to that prefix of one bucket.',
    },
    {
      id: lakePrefixFinding(lakeBucket, 'errors/'),
      reason: 'Firehose writes records it could not convert under errors/ with names it generates; limited to that prefix of one bucket.',
    },
  );

  const deliveryStream = new firehose.CfnDeliveryStream(stack, 'LakeDelivery', {
    deliveryStreamType: 'DirectPut',
    deliveryStreamEncryptionConfigurationInput: { keyType: 'CUSTOMER_MANAGED_CMK', keyArn: dataKey.keyArn },
    extendedS3DestinationConfiguration: {
      bucketArn: lakeBucket.bucketArn,
      roleArn: firehoseRole.roleArn,
      prefix: FIREHOSE_PREFIX,
      errorOutputPrefix: FIREHOSE_ERROR_PREFIX,
      bufferingHints: { sizeInMBs: FIREHOSE_BUFFER_MIB, intervalInSeconds: FIREHOSE_BUFFER_SECONDS },
      // Parquet compresses its pages itself (Snappy below); the file must not be gzipped again.
      compressionFormat: 'UNCOMPRESSED',
      encryptionConfiguration: { kmsEncryptionConfig: { awskmsKeyArn: dataKey.keyArn } },
      cloudWatchLoggingOptions: { enabled: true, logGroupName: firehoseLogGroup.logGroupName, logStreamName: firehoseLogStream.logStreamName },
      // Partition by the tick's own date (the JSON's dt), not by arrival time:
      // a replay of last month lands in last month's partitions.
      dynamicPartitioningConfiguration: { enabled: true, retryOptions: { durationInSeconds: 300 } },
      processingConfiguration: {
        enabled: true,
        processors: [
          // Splits a record holding several concatenated JSON rows into rows
          // (a no-op for one-row records). The consumer sends one ~600 B row
          // per record today (consumer/sinks/firehose.ts), and ingestion and
          // conversion are billed in 5 KB steps per record, so it pays ~8x;
          // this processor is what would let it pack ~5 KB of rows per
          // record without a stack change (README, cost levers).
          { type: 'RecordDeAggregation', parameters: [{ parameterName: 'SubRecordType', parameterValue: 'JSON' }] },
          {
            type: 'MetadataExtraction',
            parameters: [
              { parameterName: 'MetadataExtractionQuery', parameterValue: '{dt: .dt}' },
              { parameterName: 'JsonParsingEngine', parameterValue: 'JQ-1.6' },
            ],
          },
        ],
      },
      dataFormatConversionConfiguration: {
        enabled: true,
        // OpenX parses epoch-millisecond numbers into Parquet timestamps (ts, produced_at).
        inputFormatConfiguration: { deserializer: { openXJsonSerDe: {} } },
        outputFormatConfiguration: { serializer: { parquetSerDe: { compression: 'SNAPPY' } } },
        schemaConfiguration: {
          catalogId: stack.account,
          databaseName: dbName,
          tableName: 'ticks',
          region: stack.region,
          roleArn: firehoseRole.roleArn,
          versionId: 'LATEST',
        },
      },
    },
  });
  // The role's policy must exist before Firehose validates access to S3 and Glue.
  const firehosePolicy = firehoseRole.node.tryFindChild('DefaultPolicy');
  if (firehosePolicy !== undefined) deliveryStream.node.addDependency(firehosePolicy);
  deliveryStream.node.addDependency(glueTable);
  return deliveryStream;
}
