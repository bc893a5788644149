import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { ENV } from '../../shared/env-names';
import type { Section } from './common';

/** Where the two services run and what both their tasks are told. */
export interface Compute {
  readonly cluster: ecs.Cluster;
  readonly privateSubnets: ec2.SubnetSelection;
  readonly commonEnv: Readonly<Record<string, string>>;
  /** Directory holding the Dockerfiles (the repository root). */
  readonly contextDir: string;
}

export function compute({ stack, cfg }: Section, vpc: ec2.IVpc, stream: kinesis.IStream, contextDir: string): Compute {
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
  return {
    cluster,
    privateSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    commonEnv: {
      [ENV.mode]: 'aws',
      [ENV.region]: stack.region,
      [ENV.streamName]: stream.streamName,
      [ENV.logLevel]: cfg.logLevel,
    },
    contextDir,
  };
}
