import { type Duration, RemovalPolicy, Size, type Stack, Validations } from 'aws-cdk-lib';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';

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
  /** Encrypts the log group (its key policy must allow CloudWatch Logs: keys.ts). */
  readonly logKey: kms.IKey;
  /** Graviton: about 20 % cheaper per vCPU-hour; the image is built for linux/arm64. */
  readonly arm64: boolean;
  readonly healthCheck?: ecs.HealthCheck;
}

/**
 * The one writable path of a task's read-only root filesystem. The JVM
 * writes hsperfdata and the daemon its generated properties there
 * (os.tmpdir()). The Dockerfiles declare VOLUME /tmp, so ECS copies the
 * image's /tmp (mode 1777) into the task's bind mount and the non-root user
 * can write it; without that, a bind mount is root-owned 0755.
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/bind-mounts.html
 */
export const TASK_TMP_PATH = '/tmp';

/**
 * A one-container Fargate task (x86_64 or ARM64) with its own log group. NON_BLOCKING
 * logging: if CloudWatch Logs stalls, drop log lines rather than block the
 * process's stderr (for the consumer: the shard and its checkpoint). An init
 * process reaps child processes (the consumer's JVM spawns one node process
 * per shard) and forwards signals, so SIGTERM reaches the app.
 */
export function fargateTask(stack: Stack, t: TaskSpec): { task: ecs.FargateTaskDefinition; logGroup: logs.LogGroup } {
  const name = t.id.toLowerCase();
  const logGroup = new logs.LogGroup(stack, `${t.id}Logs`, { retention: t.logRetention, removalPolicy: RemovalPolicy.DESTROY, encryptionKey: t.logKey });
  const task = new ecs.FargateTaskDefinition(stack, `${t.id}Task`, {
    cpu: t.cpu,
    memoryLimitMiB: t.memoryLimitMiB,
    runtimePlatform: { cpuArchitecture: t.arm64 ? ecs.CpuArchitecture.ARM64 : ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
  });
  task.addContainer(name, {
    image: ecs.ContainerImage.fromAsset(t.contextDir, { file: t.dockerfile, platform: t.arm64 ? Platform.LINUX_ARM64 : Platform.LINUX_AMD64 }),
    logging: ecs.LogDrivers.awsLogs({ streamPrefix: name, logGroup, mode: ecs.AwsLogDriverMode.NON_BLOCKING, maxBufferSize: Size.mebibytes(25) }),
    environment: t.environment,
    stopTimeout: t.stopTimeout,
    ...(t.healthCheck === undefined ? {} : { healthCheck: t.healthCheck }),
    linuxParameters: new ecs.LinuxParameters(stack, `${t.id}Linux`, { initProcessEnabled: true }),
    // Nothing in the image changes at run time, so an exploit cannot plant
    // a file in it either; /tmp is the task's own scratch volume.
    // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/security-tasks-containers.html
    readonlyRootFilesystem: true,
  }).addMountPoints({ sourceVolume: 'tmp', containerPath: TASK_TMP_PATH, readOnly: false });
  task.addVolume({ name: 'tmp' });
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
  return { task, logGroup };
}
