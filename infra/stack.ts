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
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { STACK_OUTPUTS } from '../shared/stack-outputs';
import type { InfraConfig } from '../shared/runtime/deploy-config';
import { messaging } from './sections/alerts';
import { catalog } from './sections/catalog';
import { compute } from './sections/cluster';
import type { Section } from './sections/common';
import { consumerService } from './sections/consumer-service';
import { cdkProvidedLambdas, firstDeployOrder } from './sections/first-deploy';
import { budget } from './sections/budget';
import { keys } from './sections/keys';
import { lakeBuckets, lakeDelivery } from './sections/lake';
import { monitoring } from './sections/monitoring';
import { network } from './sections/network';
import { producerService } from './sections/producer-service';
import { tickStream } from './sections/stream';
import { tables, type AppTables } from './sections/tables';

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

/**
 * The sections, in dependency order; each lives in infra/sections/ and
 * creates its resources directly in this stack, so the logical IDs are the
 * ones the single constructor produced (test/unit/infra/template-snapshot.test.ts).
 */
export class TickstreamStack extends Stack {
  readonly stream: kinesis.Stream;
  readonly tables: AppTables;
  readonly lakeBucket: s3.Bucket;
  readonly deliveryStream: firehose.CfnDeliveryStream;
  readonly producerService: ecs.FargateService;
  readonly consumerService: ecs.FargateService;
  readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: TickstreamStackProps) {
    super(scope, id, props);
    const cfg = props.config;
    const section: Section = { stack: this, cfg };

    const stackKeys = keys(section);
    const { dataKey } = stackKeys;
    const vpc = network(section, dataKey);
    this.stream = tickStream(section, dataKey);
    const allTables = tables(section, dataKey);
    this.tables = allTables.app;
    const { lakeBucket, athenaResults } = lakeBuckets(section, dataKey);
    this.lakeBucket = lakeBucket;
    const glueTable = catalog(section, dataKey, lakeBucket, athenaResults);
    this.deliveryStream = lakeDelivery(section, dataKey, lakeBucket, glueTable);
    const msg = messaging(section, stackKeys);

    const cmp = compute(section, vpc, this.stream, props.contextDir ?? repoRoot());
    const producer = producerService(section, { compute: cmp, stream: this.stream, leaseTable: this.tables.producerLeases, dataKey });
    this.producerService = producer.service;
    const consumer = consumerService(section, {
      compute: cmp,
      stream: this.stream,
      tables: this.tables,
      messaging: msg,
      lakeBucket,
      athenaResults,
      deliveryStream: this.deliveryStream,
      dataKey,
    });
    this.consumerService = consumer.service;

    firstDeployOrder(section, { vpc, cluster: cmp.cluster, producer: producer.service, consumer: consumer.service, kclTables: allTables.kcl });

    this.alarms = monitoring(section, {
      stream: this.stream,
      deliveryStream: this.deliveryStream,
      messaging: msg,
      cluster: cmp.cluster,
      producerService: producer.service,
      consumerService: consumer.service,
      appTables: Object.values(this.tables).filter((t): t is dynamodb.Table => t !== undefined),
      kclTables: allTables.kcl,
    });
    budget(section, msg.opsTopic);
    cdkProvidedLambdas(section);

    const out = (id: string, value: string, description: string): void => void new CfnOutput(this, id, { value, description });
    out(STACK_OUTPUTS.streamName, this.stream.streamName, 'Kinesis stream');
    out(STACK_OUTPUTS.kclApplicationName, cfg.appName, 'KCL application (= lease table name)');
    if (this.tables.ticks !== undefined) out(STACK_OUTPUTS.ticksTableName, this.tables.ticks.tableName, 'DynamoDB tick history');
    out(STACK_OUTPUTS.latestTableName, this.tables.latest.tableName, 'DynamoDB latest quote per symbol');
    out(STACK_OUTPUTS.alertsTableName, this.tables.alerts.tableName, 'DynamoDB alert ledger (npm run smoke reads its alert back here)');
    out(STACK_OUTPUTS.lakeBucketName, lakeBucket.bucketName, 'Parquet lake');
    out(STACK_OUTPUTS.athenaWorkgroupName, cfg.appName, 'Athena workgroup with the named queries');
    out(STACK_OUTPUTS.alertTopicArn, msg.alertTopic.topicArn, 'SNS alerts');
    out(STACK_OUTPUTS.opsTopicArn, msg.opsTopic.topicArn, 'SNS ops alarms and budget notifications (npm run deploy checks it has a confirmed subscriber)');
    out(STACK_OUTPUTS.deadLetterQueueUrl, msg.dlq.queueUrl, 'SQS dead letters');
    out('ProducerLogGroup', producer.logGroup.logGroupName, 'aws logs tail <this> --follow');
    out('ConsumerLogGroup', consumer.logGroup.logGroupName, 'aws logs tail <this> --follow');
  }
}
