import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { ENV } from '../../shared/env-names';
import type { Compute } from './cluster';
import { allow, allowKeyVia, type Section } from './common';
import { fargateTask } from './fargate-task';

interface ProducerDeps {
  readonly compute: Compute;
  readonly stream: kinesis.Stream;
  readonly leaseTable: dynamodb.Table;
  readonly dataKey: kms.IKey;
}

/** The producer: quotes in, PutRecords out, symbol groups shared through the lease table. */
export function producerService({ stack, cfg }: Section, d: ProducerDeps): { service: ecs.FargateService; logGroup: logs.LogGroup } {
  const { task, logGroup } = fargateTask(stack, {
    id: 'Producer',
    dockerfile: 'Dockerfile.producer',
    cpu: 256,
    memoryLimitMiB: 512,
    environment: {
      ...d.compute.commonEnv,
      [ENV.symbols]: cfg.symbols.join(','),
      [ENV.pollIntervalMs]: String(cfg.pollIntervalMs),
      [ENV.source]: cfg.source,
      // One task needs no symbol-group leases, and their heartbeat (a scan
      // and a write per group every 5 s) is ~$5/month of DynamoDB writes.
      // During a rolling deploy the old and the new task then both poll
      // every symbol for a minute: the consumer skips the second copy of
      // each quote (same ts), so the cost is Kinesis records, not data.
      ...(cfg.producerTasks > 1 ? { [ENV.producerLeaseTable]: d.leaseTable.tableName } : {}),
    },
    stopTimeout: Duration.seconds(30),
    contextDir: d.compute.contextDir,
    logRetention: cfg.logRetentionDays,
    logKey: d.dataKey,
    // Fargate Spot has no ARM64.
    arm64: cfg.arm64 && !cfg.producerSpot,
  });
  // Exactly the SDK calls producer/ makes (PutRecords; leases: Scan to see
  // the groups, conditional UpdateItem to take, renew and release them).
  // test/unit/infra/sdk-calls.test.ts fails when the code sends a call that
  // is not granted here.
  allow(task.taskRole, ['kinesis:PutRecords'], [d.stream.streamArn]);
  allow(task.taskRole, ['dynamodb:Scan', 'dynamodb:UpdateItem'], [d.leaseTable.tableArn]);
  allowKeyVia(task.taskRole, d.dataKey, ['kinesis', 'dynamodb']);
  const service = new ecs.FargateService(stack, 'ProducerService', {
    cluster: d.compute.cluster,
    taskDefinition: task,
    desiredCount: cfg.producerTasks,
    ...(cfg.producerSpot ? { capacityProviderStrategies: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }] } : {}),
    vpcSubnets: d.compute.taskSubnets,
    assignPublicIp: d.compute.assignPublicIp,
    minHealthyPercent: 100,
    maxHealthyPercent: 200,
    circuitBreaker: { rollback: true },
  });
  return { service, logGroup };
}
