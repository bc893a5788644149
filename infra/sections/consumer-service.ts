import { Arn, Duration, Validations } from 'aws-cdk-lib';
import * as applicationautoscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { DEAD_LETTER_OBJECT_PREFIX } from '../../shared/lake-layout';
import { consumerTaskSize, FIREHOSE_PACK_BYTES } from '../../shared/runtime/deploy-config';
import { ENV } from '../../shared/env-names';
import { KCL_KINESIS_ACTIONS, KCL_MAJOR, KCL_PUBLISHES_METRICS, kclTableActions, kclTableNames } from '../kcl';
import { athenaOutput } from './catalog';
import type { Compute } from './cluster';
import { allow, allowKeyVia, glueDatabaseName, type Section } from './common';
import { fargateTask } from './fargate-task';
import { lakePrefixFinding } from './lake';
import type { Messaging } from './alerts';
import type { AppTables } from './tables';

/** Where the record processors' heartbeats go inside the container (consumer/heartbeat.ts). */
const HEARTBEAT_DIR = '/tmp/tickstream-heartbeats';
/** A processor silent this long is stuck (consumer/health.ts); the KCL calls it every idle interval even without records. */
const HEALTH_STALE_MS = 90_000;

/** Fargate caps stopTimeout at 120 s; the consumer's final checkpoint must fit in it. */
export const CONSUMER_STOP_TIMEOUT_SECONDS = 120;

/** The DynamoDB calls consumer/sinks make on the four app tables (checked by sdk-calls.test.ts). */
const DDB_DATA_ACTIONS = ['dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'] as const;

interface ConsumerDeps {
  readonly compute: Compute;
  readonly stream: kinesis.Stream;
  readonly tables: AppTables;
  readonly messaging: Messaging;
  readonly lakeBucket: s3.Bucket;
  readonly athenaResults: s3.Bucket;
  readonly deliveryStream: firehose.CfnDeliveryStream;
  readonly dataKey: kms.IKey;
}

/** How far the slowest consumer is behind the stream: scales the service out and raises an alarm. */
export function iteratorAge(stream: kinesis.Stream): cloudwatch.Metric {
  return stream.metricGetRecordsIteratorAgeMilliseconds({ statistic: 'Maximum', period: Duration.minutes(1) });
}

/** The consumer: the KCL daemon and its record processors, their grants, and autoscaling on CPU and lag. */
export function consumerService({ stack, cfg }: Section, d: ConsumerDeps): { service: ecs.FargateService; logGroup: logs.LogGroup } {
  const { alertTopic, dlq } = d.messaging;
  // A JVM (the MultiLangDaemon) plus one Node process per leased shard.
  const size = consumerTaskSize(cfg);
  const dataTables = [d.tables.ticks, d.tables.latest, d.tables.state, d.tables.alerts].filter((t) => t !== undefined);
  const { task, logGroup } = fargateTask(stack, {
    id: 'Consumer',
    dockerfile: 'Dockerfile.consumer',
    cpu: size.cpu,
    memoryLimitMiB: size.memoryMiB,
    // Fargate Spot has no ARM64: a Spot consumer stays x86_64 whatever `arm64` says.
    arm64: cfg.arm64 && !cfg.consumerSpot,
    environment: {
      ...d.compute.commonEnv,
      [ENV.appName]: cfg.appName,
      ...(d.tables.ticks === undefined ? { [ENV.ticksHistory]: 'false' } : { [ENV.ticksTable]: d.tables.ticks.tableName }),
      [ENV.checkpointEveryMs]: String(cfg.checkpointMs),
      [ENV.firehoseRecordBytes]: String(cfg.firehosePack ? FIREHOSE_PACK_BYTES : 0),
      [ENV.kclMaxLeasesForWorker]: String(size.maxLeasesForWorker),
      [ENV.jvmHeapMiB]: String(size.jvmHeapMiB),
      [ENV.heartbeatDir]: HEARTBEAT_DIR,
      [ENV.healthStaleMs]: String(HEALTH_STALE_MS),
      [ENV.latestTable]: d.tables.latest.tableName,
      [ENV.stateTable]: d.tables.state.tableName,
      [ENV.alertsTable]: d.tables.alerts.tableName,
      [ENV.alertTopicArn]: alertTopic.topicArn,
      [ENV.deadLetterQueueUrl]: dlq.queueUrl,
      [ENV.deadLetterBucket]: d.lakeBucket.bucketName,
      [ENV.firehoseStream]: d.deliveryStream.ref,
      [ENV.ticksTtlDays]: String(cfg.ticksTtlDays),
      [ENV.glueDatabase]: glueDatabaseName(cfg),
      [ENV.athenaWorkgroup]: cfg.appName,
      [ENV.athenaOutput]: athenaOutput(d.athenaResults),
    },
    // SIGTERM -> the daemon shuts the record processors down -> each one
    // flushes its sinks, writes its symbols' state and checkpoints. 120 s is
    // Fargate's maximum; the KCL's graceful shutdown must finish inside it.
    stopTimeout: Duration.seconds(CONSUMER_STOP_TIMEOUT_SECONDS),
    contextDir: d.compute.contextDir,
    logRetention: cfg.logRetentionDays,
    logKey: d.dataKey,
    // Healthy while the daemon runs and every live record processor made
    // progress within HEALTH_STALE_MS (a sink retry counts; a worker without
    // a lease is healthy): a stuck worker is replaced and its leases move,
    // a transient outage is ridden out. The start period covers the JVM's
    // start and the KCL's first lease assignment.
    healthCheck: {
      command: ['CMD', 'node', '/app/dist/consumer/health.js'], // Dockerfile.consumer's WORKDIR
      interval: Duration.seconds(30),
      timeout: Duration.seconds(10),
      retries: 3,
      startPeriod: Duration.seconds(120),
    },
  });
  const role = task.taskRole;
  allow(role, KCL_KINESIS_ACTIONS, [d.stream.streamArn]);
  const kclTableArns = kclTableNames(cfg.appName).map((t) => Arn.format({ service: 'dynamodb', resource: 'table', resourceName: t }, stack));
  allow(role, kclTableActions(), KCL_MAJOR === 3 ? [...kclTableArns, `${kclTableArns[0] ?? ''}/index/*`] : kclTableArns);
  if (KCL_PUBLISHES_METRICS) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'], // PutMetricData has no resource type; the namespace condition scopes it
        conditions: { StringEquals: { 'cloudwatch:namespace': cfg.appName } },
      }),
    );
  }
  allow(
    role,
    DDB_DATA_ACTIONS,
    dataTables.map((t) => t.tableArn),
  );
  allow(role, ['firehose:PutRecordBatch'], [d.deliveryStream.attrArn]);
  allow(role, ['sns:Publish'], [alertTopic.topicArn]);
  allow(role, ['sqs:SendMessage'], [dlq.queueArn]);
  // A dead letter too large for an SQS message is written whole under
  // dead-letters/ of the lake first (consumer/sinks/sqs-dlq.ts): put only,
  // that prefix only; reading it back is the operator's (npm run dlq).
  allow(role, ['s3:PutObject'], [d.lakeBucket.arnForObjects(`${DEAD_LETTER_OBJECT_PREFIX}*`)]);
  Validations.of(role).acknowledge({
    id: lakePrefixFinding(d.lakeBucket, DEAD_LETTER_OBJECT_PREFIX),
    reason: 'Oversized dead letters are written as dead-letters/dt=<date>/<letter id>.json, one object per letter, so the key is not known in advance; the grant is PutObject only, on that prefix of one bucket.',
  });
  allowKeyVia(role, d.dataKey, ['kinesis', 'dynamodb', 'sns', 'sqs', 's3']);
  if (KCL_MAJOR === 3) {
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/${cfg.appName}/index/*]`,
      reason: 'KCL 3.x creates and queries the leaseOwner GSI on its own lease table; the index name is chosen by the KCL, the table is fixed.',
    });
  }

  const service = new ecs.FargateService(stack, 'ConsumerService', {
    cluster: d.compute.cluster,
    taskDefinition: task,
    // No desiredCount: autoscaling owns it. Set here, every deploy would
    // reset a scaled-out service to this number.
    vpcSubnets: d.compute.taskSubnets,
    assignPublicIp: d.compute.assignPublicIp,
    // Spot: a reclaimed task gets SIGTERM two minutes ahead, the same graceful
    // stop as a deploy (final checkpoint inside the 120 s stop timeout).
    ...(cfg.consumerSpot ? { capacityProviderStrategies: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }] } : {}),
    // Old and new workers may overlap during a deploy: leases simply move.
    minHealthyPercent: 100,
    maxHealthyPercent: 200,
    circuitBreaker: { rollback: true },
  });

  const scaling = service.autoScaleTaskCount({ minCapacity: 1, maxCapacity: cfg.maxConsumerTasks });
  scaling.scaleOnCpuUtilization('Cpu', {
    targetUtilizationPercent: 60,
    scaleOutCooldown: Duration.minutes(2),
    scaleInCooldown: Duration.minutes(10),
  });
  // Scale-out only: a scale-in step on a low iterator age is in alarm
  // whenever the consumer keeps up, and step scaling is not held back by the
  // CPU target tracking, so the two fought (issue 12). Scale-in is the CPU
  // policy's alone.
  scaling.scaleOnMetric('IteratorAge', {
    metric: iteratorAge(d.stream),
    adjustmentType: applicationautoscaling.AdjustmentType.CHANGE_IN_CAPACITY,
    cooldown: Duration.minutes(3),
    scalingSteps: [
      { lower: 60_000, change: +1 },
      { lower: 300_000, change: +2 },
    ],
  });
  return { service, logGroup };
}
