/**
 * The whole tickstream pipeline as one stack:
 *
 *   producer (Fargate) ──PutRecords──▶ Kinesis (KMS) ──▶ consumer (Fargate, KCL)
 *        consumer ──▶ DynamoDB ticks/latest/state/alerts (KMS, PITR)
 *                 ──▶ Firehose (SSE) ──Parquet, dt=──▶ S3 lake (KMS) ◀── Glue table ◀── Athena
 *                 ──▶ SNS alerts (KMS)        ──▶ SQS dead letters (KMS)
 *   EMF logs ──▶ CloudWatch metrics ──▶ alarms ──▶ SNS ops topic (KMS), dashboard
 *
 * Env-agnostic on purpose (no account/region at synth): no context lookups, so
 * `cdk synth` runs offline in CI with no credentials. The two AZs therefore
 * come from Fn::GetAZs at deploy time rather than from a lookup.
 *
 * Least privilege: data-plane permissions are written as explicit action
 * lists on explicit ARNs (see `allow`) rather than with the L2 `grant*`
 * helpers, because those emit wildcard actions (`s3:GetObject*`,
 * `kms:GenerateDataKey*`, ...) that the issue rules out on data resources.
 */
import * as path from 'node:path';
import { existsSync } from 'node:fs';
import { Arn, ArnFormat, CfnOutput, Duration, RemovalPolicy, Size, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as applicationautoscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { DEAD_LETTER_OBJECT_PREFIX } from '../shared/lake-layout';
import { glueColumns, PARTITION_COLUMN } from '../shared/enriched';
import { ENV } from '../shared/env-names';
import { TABLE_KEYS, kclTableDefs, type TableKind } from '../shared/tables';
import { TICK_BOUNDS } from '../shared/tick';
import { METRIC, METRICS_NAMESPACE, SERVICE_DIMENSION, SERVICES, type MetricName, type ServiceName } from '../shared/metrics';
import { NAMED_QUERIES, NAMED_QUERY_NAMES, renderQuery } from '../shared/queries';
import type { InfraConfig } from './config';
import { KCL_KINESIS_ACTIONS, KCL_MAJOR, KCL_PUBLISHES_METRICS, kclTableActions, kclTableNames } from './kcl';

/** The shape every TABLE_KEYS entry fits (sort key and TTL optional). */
interface TableKeys {
  readonly partitionKey: { readonly name: string; readonly type: 'S' | 'N' };
  readonly sortKey?: { readonly name: string; readonly type: 'S' | 'N' };
  readonly ttlAttribute?: string;
}
/** Lake layout, shared by the Firehose prefix, the Glue location and the projection template. */
const LAKE_PREFIX = 'ticks/';
const FIREHOSE_PREFIX = `${LAKE_PREFIX}dt=!{partitionKeyFromQuery:dt}/`;
export const FIREHOSE_ERROR_PREFIX = 'errors/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/';
/** Firehose needs >= 64 MiB when converting to Parquet; 128 MiB makes fewer, larger files for Athena. */
const FIREHOSE_BUFFER_MIB = 128;
const FIREHOSE_BUFFER_SECONDS = 300;
/** Fargate caps stopTimeout at 120 s; the consumer's final checkpoint must fit in it. */
export const CONSUMER_STOP_TIMEOUT_SECONDS = 120;
/**
 * The dt projection spans exactly the days a valid tick can have
 * (shared/tick.ts TICK_BOUNDS), so every stored tick is visible to Athena and
 * the consumer can store nothing Athena cannot see. A fixed end rather than
 * NOW: a tick whose clock runs ahead would otherwise be stored but invisible
 * until its day comes. Queries bound dt anyway (the CLI's --from/--to).
 */
const PROJECTION_START = new Date(TICK_BOUNDS.tsMin).toISOString().slice(0, 10);
const PROJECTION_END = new Date(TICK_BOUNDS.tsMax - 86_400_000).toISOString().slice(0, 10);

export interface TickstreamStackProps extends StackProps {
  readonly config: InfraConfig;
  /** Directory holding the Dockerfiles (the repository root). */
  readonly contextDir?: string;
}

/** The repository root: where package.json is, whether run from infra/ (tsx) or dist/infra/ (tsc). */
function repoRoot(from: string = __dirname): string {
  let dir = from;
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'Dockerfile.consumer'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no repository root (package.json + Dockerfile.consumer) above ${from}`);
    dir = up;
  }
}

/** One explicit, wildcard-free statement; the only way data-plane permissions are granted here. */
function allow(grantee: iam.IGrantable, actions: readonly string[], resources: readonly string[]): void {
  grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...actions], resources: [...resources] }));
}

/** The DynamoDB calls consumer/sinks make on the four app tables (checked by sdk-calls.test.ts). */
const DDB_DATA_ACTIONS = ['dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'] as const;
/** What a principal needs on the CMK to use a DynamoDB table, SQS queue or SNS topic encrypted with it. */
const KMS_USE_ACTIONS = ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'] as const;

/** What differs between the producer's and the consumer's Fargate task. */
interface TaskSpec {
  /** Construct-id prefix ("Producer" -> ProducerLogs, ProducerTask, ProducerLinux) and, lower-cased, the container name and log stream prefix. */
  readonly id: string;
  readonly dockerfile: string;
  readonly cpu: number;
  readonly memoryLimitMiB: number;
  readonly environment: Record<string, string>;
  readonly stopTimeout: Duration;
  readonly contextDir: string;
  readonly logRetention: logs.RetentionDays;
}

/**
 * A one-container x86 Fargate task with its own log group. NON_BLOCKING
 * logging: if CloudWatch Logs stalls, drop log lines rather than block the
 * process's stderr (for the consumer: the shard and its checkpoint). An init
 * process reaps child processes (the consumer's JVM spawns one node process
 * per shard) and forwards signals, so SIGTERM reaches the app.
 */
function fargateTask(scope: Construct, t: TaskSpec): { task: ecs.FargateTaskDefinition; logGroup: logs.LogGroup } {
  const name = t.id.toLowerCase();
  const logGroup = new logs.LogGroup(scope, `${t.id}Logs`, { retention: t.logRetention, removalPolicy: RemovalPolicy.DESTROY });
  const task = new ecs.FargateTaskDefinition(scope, `${t.id}Task`, {
    cpu: t.cpu,
    memoryLimitMiB: t.memoryLimitMiB,
    runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
  });
  task.addContainer(name, {
    image: ecs.ContainerImage.fromAsset(t.contextDir, { file: t.dockerfile, platform: Platform.LINUX_AMD64 }),
    logging: ecs.LogDrivers.awsLogs({ streamPrefix: name, logGroup, mode: ecs.AwsLogDriverMode.NON_BLOCKING, maxBufferSize: Size.mebibytes(25) }),
    environment: t.environment,
    stopTimeout: t.stopTimeout,
    linuxParameters: new ecs.LinuxParameters(scope, `${t.id}Linux`, { initProcessEnabled: true }),
  });
  return { task, logGroup };
}

export class TickstreamStack extends Stack {
  readonly stream: kinesis.Stream;
  readonly tables: Readonly<Record<'ticks' | 'latest' | 'state' | 'alerts' | 'producerLeases', dynamodb.Table>>;
  readonly lakeBucket: s3.Bucket;
  readonly deliveryStream: firehose.CfnDeliveryStream;
  readonly producerService: ecs.FargateService;
  readonly consumerService: ecs.FargateService;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: TickstreamStackProps) {
    super(scope, id, props);
    const cfg = props.config;
    const contextDir = props.contextDir ?? repoRoot();
    const removalPolicy = RemovalPolicy.RETAIN;
    const glueDatabaseName = cfg.appName.replace(/-/g, '_');

    // ---------------------------------------------------------------- keys
    // One CMK for the data plane (stream, tables, lake, queue, alert topic,
    // Firehose, Athena results): $1/month, and a single place to audit or
    // revoke. The ops topic gets its own key because CloudWatch alarms must be
    // allowed to use it, and that grant should not reach the data.
    const dataKey = new kms.Key(this, 'DataKey', {
      description: `${cfg.appName} data at rest`,
      enableKeyRotation: true,
      removalPolicy,
    });
    const opsKey = new kms.Key(this, 'OpsKey', {
      description: `${cfg.appName} ops alarm topic`,
      enableKeyRotation: true,
      removalPolicy,
    });
    opsKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'], // in a key policy, "*" means this key
      }),
    );

    // ---------------------------------------------------------------- network
    // NAT, not interface endpoints: the producer must reach Yahoo Finance on
    // the internet, so a NAT gateway is needed anyway (~$33/month + $0.045/GB).
    // Interface endpoints for Kinesis, SNS, SQS, Firehose, Logs, ECR api+dkr
    // (7 services x 2 AZs x $7.30) would add ~$102/month to save NAT data
    // charges worth a few dollars at 10M ticks/day. The free gateway endpoints
    // for S3 and DynamoDB are added: they carry image layers and every
    // DynamoDB write without NAT processing charges.
    const flowLogGroup = new logs.LogGroup(this, 'VpcFlowLogs', {
      retention: cfg.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr('10.40.0.0/16'),
      maxAzs: 2,
      natGateways: cfg.natGateways,
      restrictDefaultSecurityGroup: false,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
      ],
      gatewayEndpoints: {
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
        DynamoDB: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
      },
      // Rejected traffic only: enough to debug a security group, a fraction of ALL's log volume.
      flowLogs: { rejected: { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup), trafficType: ec2.FlowLogTrafficType.REJECT } },
    });

    // ---------------------------------------------------------------- stream
    this.stream = new kinesis.Stream(this, 'Ticks', {
      encryption: kinesis.StreamEncryption.KMS,
      encryptionKey: dataKey,
      retentionPeriod: Duration.hours(24),
      removalPolicy,
      ...(cfg.streamMode === 'on-demand' ? { streamMode: kinesis.StreamMode.ON_DEMAND } : { streamMode: kinesis.StreamMode.PROVISIONED, shardCount: cfg.shards }),
    });
    Validations.of(this.stream).acknowledge({
      id: 'AwsSolutions-KDS3',
      reason: 'Deliberately a customer-managed key rather than aws/kinesis: the same rotated CMK encrypts every store, so one key policy governs and one CloudTrail trail audits all access to tick data.',
    });

    // ---------------------------------------------------------------- tables
    // Keys come from shared/tables.ts, the same definitions local/ uses to
    // create the tables on the emulator, so the two cannot disagree.
    const attr = (a: { name: string; type: 'S' | 'N' }): dynamodb.Attribute => ({
      name: a.name,
      type: a.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER,
    });
    // What every table gets, the app's and the KCL's alike.
    const storeProps = {
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: dataKey,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy,
    } as const;
    const table = (id: string, kind: TableKind): dynamodb.Table => {
      const k: TableKeys = TABLE_KEYS[kind];
      return new dynamodb.Table(this, id, {
        partitionKey: attr(k.partitionKey),
        ...(k.sortKey === undefined ? {} : { sortKey: attr(k.sortKey) }),
        ...(k.ttlAttribute === undefined ? {} : { timeToLiveAttribute: k.ttlAttribute }),
        ...storeProps,
      });
    };
    this.tables = {
      ticks: table('TicksTable', 'ticks'),
      latest: table('LatestTable', 'latest'),
      state: table('StateTable', 'state'),
      alerts: table('AlertsTable', 'alerts'),
      producerLeases: table('ProducerLeasesTable', 'producerLeases'),
    };

    // The KCL's own tables, created here rather than by the KCL on first
    // start: that way they get the data key and PITR like every other store,
    // and `cdk destroy` knows them. The KCL finds them and skips creation
    // (verified against the emulator: "already existing, skipping creation").
    const kclDefs = kclTableDefs(cfg.appName).filter((d) => KCL_MAJOR === 3 || d.name === cfg.appName);
    for (const [i, d] of kclDefs.entries()) {
      const t = new dynamodb.Table(this, ['KclLeaseTable', 'KclWorkerMetricsTable', 'KclCoordinatorStateTable'][i] ?? `KclTable${i}`, {
        tableName: d.name,
        partitionKey: attr(d.partitionKey),
        ...storeProps,
      });
      if (d.gsi && KCL_MAJOR === 3) {
        t.addGlobalSecondaryIndex({
          indexName: d.gsi.name,
          partitionKey: { name: d.gsi.partitionKey, type: dynamodb.AttributeType.STRING },
          sortKey: { name: d.gsi.sortKey, type: dynamodb.AttributeType.STRING },
          projectionType: dynamodb.ProjectionType.KEYS_ONLY,
        });
      }
    }

    // ---------------------------------------------------------------- buckets
    // Server access logs for the two data buckets. SSE-S3: S3 log delivery
    // cannot write to a KMS-encrypted target bucket.
    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(365) }],
      removalPolicy,
    });
    this.lakeBucket = new s3.Bucket(this, 'Lake', {
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
        { id: 'glacier-after-90-days', transitions: [{ storageClass: s3.StorageClass.GLACIER, transitionAfter: Duration.days(90) }] },
        // Versioning protects against overwrite/delete; old versions need not live forever.
        { id: 'expire-noncurrent', noncurrentVersionExpiration: Duration.days(30) },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ],
      removalPolicy,
    });
    const athenaResults = new s3.Bucket(this, 'AthenaResults', {
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

    // ---------------------------------------------------------------- Glue + Athena
    const glueDb = new glue.CfnDatabase(this, 'GlueDatabase', {
      catalogId: this.account,
      databaseInput: { name: glueDatabaseName, description: 'tickstream lake: enriched ticks as Parquet, partitioned by dt' },
    });
    const lakeLocation = `s3://${this.lakeBucket.bucketName}/${LAKE_PREFIX}`;
    const glueTable = new glue.CfnTable(this, 'GlueTicksTable', {
      catalogId: this.account,
      databaseName: glueDatabaseName,
      tableInput: {
        name: 'ticks',
        description: 'Enriched ticks, columns generated from shared/enriched.ts',
        tableType: 'EXTERNAL_TABLE',
        parameters: {
          classification: 'parquet',
          'parquet.compression': 'SNAPPY',
          // Partition projection: Athena computes the dt partitions from
          // these rules, so there is no crawler and no MSCK REPAIR to run.
          'projection.enabled': 'true',
          'projection.dt.type': 'date',
          'projection.dt.format': 'yyyy-MM-dd',
          'projection.dt.range': `${PROJECTION_START},${PROJECTION_END}`,
          'projection.dt.interval': '1',
          'projection.dt.interval.unit': 'DAYS',
          'storage.location.template': `${lakeLocation}dt=\${dt}/`,
        },
        partitionKeys: [{ name: PARTITION_COLUMN.name, type: PARTITION_COLUMN.type, comment: PARTITION_COLUMN.comment }],
        storageDescriptor: {
          location: lakeLocation,
          columns: glueColumns(),
          inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
          serdeInfo: {
            serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
            parameters: { 'serialization.format': '1' },
          },
        },
      },
    });
    glueTable.node.addDependency(glueDb);

    const workgroup = new athena.CfnWorkGroup(this, 'AthenaWorkgroup', {
      name: cfg.appName,
      description: 'tickstream lake queries',
      recursiveDeleteOption: true, // saved query history only; results live in the bucket
      state: 'ENABLED',
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        // A runaway query stops at 10 GB scanned ($0.05) instead of scanning the whole lake.
        bytesScannedCutoffPerQuery: 10 * 1024 ** 3,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: `s3://${athenaResults.bucketName}/results/`,
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: dataKey.keyArn },
        },
      },
    });
    const athenaTable = `"${glueDatabaseName}"."ticks"`;
    for (const name of NAMED_QUERY_NAMES) {
      const q = new athena.CfnNamedQuery(this, `Query-${name}`, {
        name,
        description: NAMED_QUERIES[name].description,
        database: glueDatabaseName,
        workGroup: workgroup.name,
        queryString: renderQuery(NAMED_QUERIES[name].sql, athenaTable),
      });
      q.node.addDependency(workgroup);
      q.node.addDependency(glueDb);
    }

    // ---------------------------------------------------------------- Firehose
    const firehoseLogGroup = new logs.LogGroup(this, 'FirehoseLogs', {
      retention: cfg.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const firehoseLogStream = new logs.LogStream(this, 'FirehoseS3Delivery', { logGroup: firehoseLogGroup, removalPolicy: RemovalPolicy.DESTROY });
    const firehoseRole = new iam.Role(this, 'FirehoseRole', { assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com') });
    allow(firehoseRole, ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'], [this.lakeBucket.bucketArn]);
    allow(firehoseRole, ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'], [this.lakeBucket.arnForObjects(`${LAKE_PREFIX}*`), this.lakeBucket.arnForObjects('errors/*')]);
    allow(firehoseRole, ['kms:Decrypt', 'kms:GenerateDataKey'], [dataKey.keyArn]);
    allow(firehoseRole, ['glue:GetTable', 'glue:GetTableVersion', 'glue:GetTableVersions'], [
      Arn.format({ service: 'glue', resource: 'catalog' }, this),
      Arn.format({ service: 'glue', resource: 'database', resourceName: glueDatabaseName }, this),
      Arn.format({ service: 'glue', resource: 'table', resourceName: `${glueDatabaseName}/ticks` }, this),
    ]);
    allow(firehoseRole, ['logs:PutLogEvents'], [
      Arn.format({ service: 'logs', resource: 'log-group', resourceName: `${firehoseLogGroup.logGroupName}:log-stream:${firehoseLogStream.logStreamName}`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }, this),
    ]);
    Validations.of(firehoseRole).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(this.lakeBucket.node.defaultChild as s3.CfnBucket)}.Arn>/${LAKE_PREFIX}*]`,
        reason: 'Firehose writes objects under the ticks/ prefix with names it generates; the grant is limited to that prefix of one bucket.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(this.lakeBucket.node.defaultChild as s3.CfnBucket)}.Arn>/errors/*]`,
        reason: 'Firehose writes records it could not convert under errors/ with names it generates; limited to that prefix of one bucket.',
      },
    );

    this.deliveryStream = new firehose.CfnDeliveryStream(this, 'LakeDelivery', {
      deliveryStreamType: 'DirectPut',
      deliveryStreamEncryptionConfigurationInput: { keyType: 'CUSTOMER_MANAGED_CMK', keyArn: dataKey.keyArn },
      extendedS3DestinationConfiguration: {
        bucketArn: this.lakeBucket.bucketArn,
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
            catalogId: this.account,
            databaseName: glueDatabaseName,
            tableName: 'ticks',
            region: this.region,
            roleArn: firehoseRole.roleArn,
            versionId: 'LATEST',
          },
        },
      },
    });
    // The role's policy must exist before Firehose validates access to S3 and Glue.
    const firehosePolicy = firehoseRole.node.tryFindChild('DefaultPolicy');
    if (firehosePolicy !== undefined) this.deliveryStream.node.addDependency(firehosePolicy);
    this.deliveryStream.node.addDependency(glueTable);

    // ---------------------------------------------------------------- alerts, dead letters, ops
    const alertTopic = new sns.Topic(this, 'AlertTopic', { displayName: 'tickstream alerts', masterKey: dataKey, enforceSSL: true });
    const opsTopic = new sns.Topic(this, 'OpsTopic', { displayName: 'tickstream ops alarms', masterKey: opsKey, enforceSSL: true });
    if (cfg.alertEmail !== undefined) {
      alertTopic.addSubscription(new subscriptions.EmailSubscription(cfg.alertEmail));
      opsTopic.addSubscription(new subscriptions.EmailSubscription(cfg.alertEmail));
    }
    const dlq = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: dataKey,
      dataKeyReuse: Duration.hours(1),
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy,
    });
    Validations.of(dlq).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue: the consumer sends undecodable records here with the reason; it has no consumer that could fail into another DLQ.',
    });

    // ---------------------------------------------------------------- ECS
    const cluster = new ecs.Cluster(this, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
    const privateSubnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };

    const commonEnv: Record<string, string> = {
      [ENV.mode]: 'aws',
      [ENV.region]: this.region,
      [ENV.streamName]: this.stream.streamName,
      [ENV.logLevel]: cfg.logLevel,
    };

    // producer
    const { task: producerTask, logGroup: producerLogs } = fargateTask(this, {
      id: 'Producer',
      dockerfile: 'Dockerfile.producer',
      cpu: 256,
      memoryLimitMiB: 512,
      environment: {
        ...commonEnv,
        [ENV.symbols]: cfg.symbols.join(','),
        [ENV.pollIntervalMs]: String(cfg.pollIntervalMs),
        [ENV.source]: cfg.source,
        [ENV.producerLeaseTable]: this.tables.producerLeases.tableName,
      },
      stopTimeout: Duration.seconds(30),
      contextDir,
      logRetention: cfg.logRetentionDays,
    });
    // Exactly the SDK calls producer/ makes (PutRecords; leases: Scan to see
    // the groups, conditional UpdateItem to take, renew and release them).
    // test/unit/infra/sdk-calls.test.ts fails when the code sends a call that
    // is not granted here.
    allow(producerTask.taskRole, ['kinesis:PutRecords'], [this.stream.streamArn]);
    allow(producerTask.taskRole, ['dynamodb:Scan', 'dynamodb:UpdateItem'], [this.tables.producerLeases.tableArn]);
    allow(producerTask.taskRole, KMS_USE_ACTIONS, [dataKey.keyArn]);
    this.producerService = new ecs.FargateService(this, 'ProducerService', {
      cluster,
      taskDefinition: producerTask,
      desiredCount: cfg.producerTasks,
      vpcSubnets: privateSubnets,
      assignPublicIp: false,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
    });

    // consumer
    const { task: consumerTask, logGroup: consumerLogs } = fargateTask(this, {
      id: 'Consumer',
      dockerfile: 'Dockerfile.consumer',
      // A JVM (the MultiLangDaemon) plus one Node process per leased shard.
      cpu: 1024,
      memoryLimitMiB: 2048,
      environment: {
        ...commonEnv,
        [ENV.appName]: cfg.appName,
        [ENV.ticksTable]: this.tables.ticks.tableName,
        [ENV.latestTable]: this.tables.latest.tableName,
        [ENV.stateTable]: this.tables.state.tableName,
        [ENV.alertsTable]: this.tables.alerts.tableName,
        [ENV.alertTopicArn]: alertTopic.topicArn,
        [ENV.deadLetterQueueUrl]: dlq.queueUrl,
        [ENV.deadLetterBucket]: this.lakeBucket.bucketName,
        [ENV.firehoseStream]: this.deliveryStream.ref,
        [ENV.ticksTtlDays]: String(cfg.ticksTtlDays),
        [ENV.glueDatabase]: glueDatabaseName,
        [ENV.athenaWorkgroup]: cfg.appName,
        [ENV.athenaOutput]: `s3://${athenaResults.bucketName}/results/`,
      },
      // SIGTERM -> the daemon shuts the record processors down -> each one
      // flushes its sinks, writes its symbols' state and checkpoints. 120 s is
      // Fargate's maximum; the KCL's graceful shutdown must finish inside it.
      stopTimeout: Duration.seconds(CONSUMER_STOP_TIMEOUT_SECONDS),
      contextDir,
      logRetention: cfg.logRetentionDays,
    });
    const consumerRole = consumerTask.taskRole;
    allow(consumerRole, KCL_KINESIS_ACTIONS, [this.stream.streamArn]);
    const kclTableArns = kclTableNames(cfg.appName).map((t) => Arn.format({ service: 'dynamodb', resource: 'table', resourceName: t }, this));
    allow(consumerRole, kclTableActions(), KCL_MAJOR === 3 ? [...kclTableArns, `${kclTableArns[0] ?? ''}/index/*`] : kclTableArns);
    if (KCL_PUBLISHES_METRICS) {
      consumerRole.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['cloudwatch:PutMetricData'],
          resources: ['*'], // PutMetricData has no resource type; the namespace condition scopes it
          conditions: { StringEquals: { 'cloudwatch:namespace': cfg.appName } },
        }),
      );
    }
    allow(
      consumerRole,
      DDB_DATA_ACTIONS,
      [this.tables.ticks, this.tables.latest, this.tables.state, this.tables.alerts].map((t) => t.tableArn),
    );
    allow(consumerRole, ['firehose:PutRecordBatch'], [this.deliveryStream.attrArn]);
    allow(consumerRole, ['sns:Publish'], [alertTopic.topicArn]);
    allow(consumerRole, ['sqs:SendMessage'], [dlq.queueArn]);
    // A dead letter too large for an SQS message is written whole under
    // dead-letters/ of the lake first (consumer/sinks/sqs-dlq.ts): put only,
    // that prefix only; reading it back is the operator's (npm run dlq).
    allow(consumerRole, ['s3:PutObject'], [this.lakeBucket.arnForObjects(`${DEAD_LETTER_OBJECT_PREFIX}*`)]);
    Validations.of(consumerRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(this.lakeBucket.node.defaultChild as s3.CfnBucket)}.Arn>/${DEAD_LETTER_OBJECT_PREFIX}*]`,
      reason: 'Oversized dead letters are written as dead-letters/dt=<date>/<letter id>.json, one object per letter, so the key is not known in advance; the grant is PutObject only, on that prefix of one bucket.',
    });
    allow(consumerRole, KMS_USE_ACTIONS, [dataKey.keyArn]);
    if (KCL_MAJOR === 3) {
      Validations.of(consumerRole).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/${cfg.appName}/index/*]`,
        reason: 'KCL 3.x creates and queries the leaseOwner GSI on its own lease table; the index name is chosen by the KCL, the table is fixed.',
      });
    }

    this.consumerService = new ecs.FargateService(this, 'ConsumerService', {
      cluster,
      taskDefinition: consumerTask,
      // No desiredCount: autoscaling owns it. Set here, every deploy would
      // reset a scaled-out service to this number.
      vpcSubnets: privateSubnets,
      assignPublicIp: false,
      // Old and new workers may overlap during a deploy: leases simply move.
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
    });

    for (const task of [producerTask, consumerTask]) {
      Validations.of(task).acknowledge({
        id: 'AwsSolutions-ECS2',
        reason: 'The environment holds resource names and tuning values from shared/env-names.ts, no secrets; tasks get AWS credentials from their task role.',
      });
      if (task.executionRole !== undefined) {
        Validations.of(task.executionRole).acknowledge({
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason: 'CDK-generated execution role: ecr:GetAuthorizationToken has no resource-level permissions and must be granted on "*"; image pulls are scoped to the asset repository.',
        });
      }
    }

    // ---------------------------------------------------------------- autoscaling
    const scaling = this.consumerService.autoScaleTaskCount({ minCapacity: 1, maxCapacity: cfg.maxConsumerTasks });
    scaling.scaleOnCpuUtilization('Cpu', {
      targetUtilizationPercent: 60,
      scaleOutCooldown: Duration.minutes(2),
      scaleInCooldown: Duration.minutes(10),
    });
    const iteratorAge = this.stream.metricGetRecordsIteratorAgeMilliseconds({ statistic: 'Maximum', period: Duration.minutes(1) });
    scaling.scaleOnMetric('IteratorAge', {
      metric: iteratorAge,
      adjustmentType: applicationautoscaling.AdjustmentType.CHANGE_IN_CAPACITY,
      cooldown: Duration.minutes(3),
      scalingSteps: [
        { upper: 5_000, change: -1 },
        { lower: 60_000, change: +1 },
        { lower: 300_000, change: +2 },
      ],
    });

    // ---------------------------------------------------------------- alarms
    const app = (service: ServiceName, name: MetricName, statistic = 'Sum'): cloudwatch.Metric =>
      new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName: name, dimensionsMap: { [SERVICE_DIMENSION]: service }, statistic, period: Duration.minutes(1) });
    const fh = (name: string, statistic = 'Sum'): cloudwatch.Metric =>
      new cloudwatch.Metric({ namespace: 'AWS/Firehose', metricName: name, dimensionsMap: { DeliveryStreamName: this.deliveryStream.ref }, statistic, period: Duration.minutes(5) });
    const alarm = (id: string, props: cloudwatch.AlarmProps): void => {
      const a = new cloudwatch.Alarm(this, id, props);
      a.addAlarmAction(new cwActions.SnsAction(opsTopic));
      a.addOkAction(new cwActions.SnsAction(opsTopic));
      this.alarms.push(a);
    };
    alarm('IteratorAgeAlarm', {
      alarmDescription: 'Consumers are more than a minute behind the stream (GetRecords.IteratorAgeMilliseconds)',
      metric: iteratorAge,
      threshold: 60_000,
      evaluationPeriods: 5,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm('DeadLetterAlarm', {
      alarmDescription: 'Records are arriving in the dead-letter queue',
      metric: dlq.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(5) }),
      threshold: 0,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm('ConsumerErrorsAlarm', {
      alarmDescription: 'The record processors report errors (EMF ConsumerErrors)',
      metric: app(SERVICES.consumer, METRIC.consumerErrors),
      threshold: 0,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm('FirehoseDeliveryAlarm', {
      alarmDescription: 'Firehose failed to deliver to S3',
      metric: fh('DeliveryToS3.Success', 'Minimum'),
      threshold: 1,
      evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm('FirehoseConversionAlarm', {
      alarmDescription: 'Firehose could not convert records to Parquet (they went to errors/)',
      metric: fh('FailedConversion.Records'),
      threshold: 0,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm('ProducerSourceAlarm', {
      alarmDescription: 'The producer keeps failing to fetch quotes from its source',
      metric: app(SERVICES.producer, METRIC.sourceFailures),
      threshold: 5,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm('ProducerPutFailuresAlarm', {
      alarmDescription: 'Kinesis rejects producer records after retries (throttling: add shards)',
      metric: app(SERVICES.producer, METRIC.putRecordsFailed),
      threshold: 0,
      evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // ---------------------------------------------------------------- dashboard
    // Math-expression ids must be unique within one graph, hence the id parameter.
    const perSecond = (id: string, m: cloudwatch.Metric, label: string): cloudwatch.MathExpression =>
      new cloudwatch.MathExpression({ expression: `${id} / PERIOD(${id})`, usingMetrics: { [id]: m }, label, period: Duration.minutes(1) });
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: `${cfg.appName}-pipeline` });
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Ticks per second',
        left: [perSecond('produced', app(SERVICES.producer, METRIC.ticksProduced), 'produced'), perSecond('processed', app(SERVICES.consumer, METRIC.ticksProcessed), 'processed')],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Lag (ms)',
        left: [iteratorAge.with({ label: 'iterator age (max)' }), app(SERVICES.consumer, METRIC.millisBehindLatest, 'Maximum').with({ label: 'KCL millisBehindLatest (max)' })],
        width: 12,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Signals and alerts',
        left: [app(SERVICES.consumer, METRIC.signals), app(SERVICES.consumer, METRIC.alertsPublished), app(SERVICES.consumer, METRIC.alertsDeduplicated)],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Errors',
        left: [
          app(SERVICES.consumer, METRIC.consumerErrors),
          app(SERVICES.consumer, METRIC.deadLetters),
          app(SERVICES.producer, METRIC.sourceFailures),
          app(SERVICES.producer, METRIC.putRecordsFailed),
          fh('FailedConversion.Records'),
        ],
        width: 12,
      }),
    );
    dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 }));

    // ---------------------------------------------------------------- outputs
    const out = (id: string, value: string, description: string): void => void new CfnOutput(this, id, { value, description });
    out('StreamName', this.stream.streamName, 'Kinesis stream');
    out('KclApplicationName', cfg.appName, 'KCL application (= lease table name)');
    out('TicksTableName', this.tables.ticks.tableName, 'DynamoDB tick history');
    out('LatestTableName', this.tables.latest.tableName, 'DynamoDB latest quote per symbol');
    out('LakeBucketName', this.lakeBucket.bucketName, 'Parquet lake');
    out('AthenaWorkgroupName', cfg.appName, 'Athena workgroup with the named queries');
    out('AlertTopicArn', alertTopic.topicArn, 'SNS alerts');
    out('DeadLetterQueueUrl', dlq.queueUrl, 'SQS dead letters');
    out('ProducerLogGroup', producerLogs.logGroupName, 'aws logs tail <this> --follow');
    out('ConsumerLogGroup', consumerLogs.logGroupName, 'aws logs tail <this> --follow');
  }
}
