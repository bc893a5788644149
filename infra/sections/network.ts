import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Section } from './common';

/**
 * NAT, not interface endpoints: the producer must reach Yahoo Finance on
 * the internet, so a NAT gateway is needed anyway (~$33/month + $0.045/GB).
 * Interface endpoints for Kinesis, SNS, SQS, Firehose, Logs, ECR api+dkr
 * (7 services x 2 AZs x $7.30) would add ~$102/month to save NAT data
 * charges worth a few dollars at 10M ticks/day. The free gateway endpoints
 * for S3 and DynamoDB are added: they carry image layers and every
 * DynamoDB write without NAT processing charges.
 */
export function network({ stack, cfg }: Section, logKey: kms.IKey): ec2.Vpc {
  // natGateways = 0 (the lean lever): public subnets only. The tasks get
  // public IPs ($0.005/h each) and their security groups keep CDK's default
  // of no inbound rules, so nothing on the internet can open a connection to
  // them; replies to their own outbound calls still come back.
  const privateSubnets = cfg.natGateways > 0 ? [{ name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 }] : [];
  const flowLogGroup = new logs.LogGroup(stack, 'VpcFlowLogs', {
    retention: cfg.logRetentionDays as logs.RetentionDays,
    removalPolicy: RemovalPolicy.DESTROY,
    encryptionKey: logKey,
  });
  return new ec2.Vpc(stack, 'Vpc', {
    ipAddresses: ec2.IpAddresses.cidr('10.40.0.0/16'),
    maxAzs: 2,
    natGateways: cfg.natGateways,
    // The default security group allows all traffic between its members
    // and all egress; nothing here uses it, and AWS recommends it allow
    // nothing (Security Hub EC2.2). CDK strips its rules with a custom
    // resource (a Lambda aws-cdk-lib provides: see cdkProvidedLambdas in
    // first-deploy.ts, with what cdk-nag says about it).
    // https://docs.aws.amazon.com/vpc/latest/userguide/default-security-group.html
    restrictDefaultSecurityGroup: true,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
      ...privateSubnets,
    ],
    gatewayEndpoints: {
      S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
      DynamoDB: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
    },
    // Rejected traffic only: enough to debug a security group, a fraction of ALL's log volume.
    flowLogs: { rejected: { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup), trafficType: ec2.FlowLogTrafficType.REJECT } },
  });
}
