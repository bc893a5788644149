import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Validations } from 'aws-cdk-lib';
import { ENV } from '../../shared/env-names';
import type { Section } from './common';

/** Where the two services run and what both their tasks are told. */
export interface Compute {
  readonly cluster: ecs.Cluster;
  /** Private subnets behind the NAT gateway, or public subnets with public IPs when there is none. */
  readonly taskSubnets: ec2.SubnetSelection;
  readonly assignPublicIp: boolean;
  readonly commonEnv: Readonly<Record<string, string>>;
  /** Directory holding the Dockerfiles (the repository root). */
  readonly contextDir: string;
}

export function compute({ stack, cfg }: Section, vpc: ec2.IVpc, stream: kinesis.IStream, contextDir: string): Compute {
  const cluster = new ecs.Cluster(stack, 'Cluster', {
    vpc,
    containerInsightsV2: cfg.containerInsights ? ecs.ContainerInsights.ENABLED : ecs.ContainerInsights.DISABLED,
    // FARGATE_SPOT must be associated with the cluster before a service can ask for it.
    enableFargateCapacityProviders: cfg.consumerSpot || cfg.producerSpot,
  });
  if (!cfg.containerInsights) {
    Validations.of(cluster).acknowledge({
      id: 'AwsSolutions-ECS4',
      reason: 'Container Insights is off only with `-c containerInsights=false` (the lean profile): its per-task metrics and performance logs cost more than the rest of CloudWatch there; the app emits its own EMF metrics and ECS its free CPU/memory service metrics.',
    });
  }
  const nat = cfg.natGateways > 0;
  return {
    cluster,
    taskSubnets: { subnetType: nat ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PUBLIC },
    assignPublicIp: !nat,
    commonEnv: {
      [ENV.mode]: 'aws',
      [ENV.region]: stack.region,
      [ENV.streamName]: stream.streamName,
      [ENV.logLevel]: cfg.logLevel,
    },
    contextDir,
  };
}
