/**
 * us-east-1 list prices, in one table, each with the page it comes from and
 * the date the figure took effect or was read there. The cost model
 * (tools/cost/model.ts) prices nothing that is not in this table, so a price
 * change is one line here. Free tiers are left out on purpose: the bill of
 * an account past its first year, or one that runs other things.
 */
export interface Price {
  readonly usd: number;
  readonly unit: string;
  readonly asOf: string;
  readonly source: string;
}

const KINESIS = 'https://aws.amazon.com/kinesis/data-streams/pricing/';
const FARGATE = 'https://aws.amazon.com/fargate/pricing/';
const VPC = 'https://aws.amazon.com/vpc/pricing/';
const DYNAMODB = 'https://aws.amazon.com/dynamodb/pricing/on-demand/';
const FIREHOSE = 'https://aws.amazon.com/firehose/pricing/';
const S3 = 'https://aws.amazon.com/s3/pricing/';
const ATHENA = 'https://aws.amazon.com/athena/pricing/';
const CLOUDWATCH = 'https://aws.amazon.com/cloudwatch/pricing/';
const KMS = 'https://aws.amazon.com/kms/pricing/';
const SNS = 'https://aws.amazon.com/sns/pricing/';
const SQS = 'https://aws.amazon.com/sqs/pricing/';
const ECR = 'https://aws.amazon.com/ecr/pricing/';

export const PRICES = {
  kinesisShardHour: { usd: 0.015, unit: 'shard-hour (provisioned)', asOf: '2024-01-01', source: KINESIS },
  kinesisPutUnitMillion: { usd: 0.014, unit: 'million PUT payload units (25 KB each)', asOf: '2024-01-01', source: KINESIS },
  kinesisOnDemandStreamHour: { usd: 0.04, unit: 'stream-hour (on-demand)', asOf: '2024-01-01', source: KINESIS },
  kinesisOnDemandIngestGb: { usd: 0.08, unit: 'GB written (on-demand, 1 KB per record minimum)', asOf: '2024-01-01', source: KINESIS },
  kinesisOnDemandRetrieveGb: { usd: 0.04, unit: 'GB read (on-demand)', asOf: '2024-01-01', source: KINESIS },
  fargateX86VcpuHour: { usd: 0.04048, unit: 'vCPU-hour, Linux x86_64', asOf: '2024-01-01', source: FARGATE },
  fargateX86GbHour: { usd: 0.004445, unit: 'GB-hour, Linux x86_64', asOf: '2024-01-01', source: FARGATE },
  fargateArmVcpuHour: { usd: 0.03238, unit: 'vCPU-hour, Linux ARM64', asOf: '2024-01-01', source: FARGATE },
  fargateArmGbHour: { usd: 0.00356, unit: 'GB-hour, Linux ARM64', asOf: '2024-01-01', source: FARGATE },
  // Spot prices move with spare capacity; the pricing page's "up to 70 %"
  // off x86 on-demand is what is assumed (x86 only: Fargate Spot has no ARM64).
  fargateSpotVcpuHour: { usd: 0.012144, unit: 'vCPU-hour, Fargate Spot x86_64 (70 % off)', asOf: '2024-01-01', source: FARGATE },
  fargateSpotGbHour: { usd: 0.0013335, unit: 'GB-hour, Fargate Spot x86_64 (70 % off)', asOf: '2024-01-01', source: FARGATE },
  publicIpv4Hour: { usd: 0.005, unit: 'public IPv4 address-hour (in use or idle)', asOf: '2024-02-01', source: VPC },
  natGatewayHour: { usd: 0.045, unit: 'NAT gateway-hour', asOf: '2024-01-01', source: VPC },
  natGatewayGb: { usd: 0.045, unit: 'GB processed by a NAT gateway', asOf: '2024-01-01', source: VPC },
  dynamoWriteMillion: { usd: 0.625, unit: 'million write request units (on-demand; 1 KB each)', asOf: '2024-11-01', source: DYNAMODB },
  dynamoReadMillion: { usd: 0.125, unit: 'million read request units (on-demand; 4 KB strongly consistent, 8 KB eventually)', asOf: '2024-11-01', source: DYNAMODB },
  dynamoStorageGbMonth: { usd: 0.25, unit: 'GB-month table storage', asOf: '2024-01-01', source: DYNAMODB },
  dynamoPitrGbMonth: { usd: 0.2, unit: 'GB-month point-in-time recovery', asOf: '2024-01-01', source: DYNAMODB },
  firehoseIngestGb: { usd: 0.029, unit: 'GB ingested, Direct PUT (each record rounded up to 5 KB)', asOf: '2024-01-01', source: FIREHOSE },
  firehoseConversionGb: { usd: 0.018, unit: 'GB converted to Parquet (same 5 KB rounding)', asOf: '2024-01-01', source: FIREHOSE },
  firehosePartitionGb: { usd: 0.02, unit: 'GB through dynamic partitioning', asOf: '2024-01-01', source: FIREHOSE },
  firehosePartitionObjectsThousand: { usd: 0.005, unit: 'thousand S3 objects delivered by dynamic partitioning', asOf: '2024-01-01', source: FIREHOSE },
  firehoseJqHour: { usd: 0.07, unit: 'JQ processing hour (dynamic partitioning)', asOf: '2024-01-01', source: FIREHOSE },
  s3StandardGbMonth: { usd: 0.023, unit: 'GB-month S3 Standard (first 50 TB)', asOf: '2024-01-01', source: S3 },
  s3PutThousand: { usd: 0.005, unit: 'thousand PUT/COPY/POST/LIST requests', asOf: '2024-01-01', source: S3 },
  s3GetThousand: { usd: 0.0004, unit: 'thousand GET requests', asOf: '2024-01-01', source: S3 },
  athenaTb: { usd: 5, unit: 'TB scanned (10 MB minimum per query)', asOf: '2024-01-01', source: ATHENA },
  logsIngestGb: { usd: 0.5, unit: 'GB of log events ingested (standard class)', asOf: '2024-01-01', source: CLOUDWATCH },
  logsStorageGbMonth: { usd: 0.03, unit: 'GB-month archived logs', asOf: '2024-01-01', source: CLOUDWATCH },
  metricMonth: { usd: 0.3, unit: 'custom metric-month (first 10,000; EMF and Container Insights metrics count)', asOf: '2024-01-01', source: CLOUDWATCH },
  alarmMonth: { usd: 0.1, unit: 'standard-resolution alarm-month', asOf: '2024-01-01', source: CLOUDWATCH },
  dashboardMonth: { usd: 3, unit: 'dashboard-month', asOf: '2024-01-01', source: CLOUDWATCH },
  kmsKeyMonth: { usd: 1, unit: 'customer managed key-month', asOf: '2024-01-01', source: KMS },
  kmsRequestsTenThousand: { usd: 0.03, unit: '10,000 KMS requests', asOf: '2024-01-01', source: KMS },
  snsPublishMillion: { usd: 0.5, unit: 'million SNS publishes', asOf: '2024-01-01', source: SNS },
  snsEmailHundredThousand: { usd: 2, unit: '100,000 e-mail notifications', asOf: '2024-01-01', source: SNS },
  sqsRequestMillion: { usd: 0.4, unit: 'million SQS requests (standard)', asOf: '2024-01-01', source: SQS },
  ecrStorageGbMonth: { usd: 0.1, unit: 'GB-month of images in ECR', asOf: '2024-01-01', source: ECR },
} as const satisfies Record<string, Price>;

