/**
 * The read-only IAM policy the AWS dashboard runs with (`npm run dashboard --
 * --print-iam-policy`): one list of the actions its source calls, each on
 * the stack's own resources. test/unit/dashboard/iam-policy.test.ts checks
 * the SDK commands dashboard/aws-source.ts and lake/athena.ts send against
 * this list, both ways.
 */
import { ALERTS_BY_DAY } from '../shared/tables';
import type { AwsSourceNames } from './aws-source';

export interface PolicyTarget {
  region: string;
  /** The account id; a placeholder prints when unknown. */
  account: string;
  names: AwsSourceNames;
  /** The lake bucket Athena reads and the bucket it writes results to (the stack's athena results bucket). */
  lakeBucket: string;
  athenaResultsBucket: string;
  /** The stack's data key (tables, queue and lake are encrypted with it). */
  dataKeyArn: string;
}

interface Grant {
  /** Why the dashboard needs it, printed as the statement's Sid. */
  sid: string;
  actions: string[];
  resources: (t: PolicyTarget) => string[];
}

const dynamoArn = (t: PolicyTarget, table: string): string => `arn:aws:dynamodb:${t.region}:${t.account}:table/${table}`;

/** Every action, in one place. The SDK commands the source sends are the dynamodb, sqs and athena ones. */
export const AWS_SOURCE_GRANTS: readonly Grant[] = [
  // Scan: every symbol, for a market page; BatchGetItem: the followed symbols alone, for symbol pages
  { sid: 'LatestRows', actions: ['dynamodb:Scan', 'dynamodb:BatchGetItem'], resources: (t) => [dynamoArn(t, t.names.latestTable)] },
  { sid: 'RecentHistory', actions: ['dynamodb:Query'], resources: (t) => (t.names.ticksTable === undefined ? [] : [dynamoArn(t, t.names.ticksTable)]) },
  // the index alone: the table itself (the dedup ledger, its cooldown items) stays unreadable
  { sid: 'PublishedAlertsByDay', actions: ['dynamodb:Query'], resources: (t) => (t.names.alertsTable === undefined ? [] : [`${dynamoArn(t, t.names.alertsTable)}/index/${ALERTS_BY_DAY.name}`]) },
  { sid: 'LeaseOwnersAndCheckpoints', actions: ['dynamodb:Scan'], resources: (t) => [dynamoArn(t, t.names.leaseTable)] },
  {
    sid: 'DeadLetterDepthNeverReceive',
    actions: ['sqs:GetQueueAttributes'],
    resources: (t) => {
      // https://sqs.<region>.amazonaws.com/<account>/<name> -> arn:aws:sqs:<region>:<account>:<name>
      const name = t.names.deadLetterQueueUrl.split('/').pop() ?? '';
      return [`arn:aws:sqs:${t.region}:${t.account}:${name}`];
    },
  },
  {
    sid: 'OlderHistoryThroughAthena',
    actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults'],
    resources: (t) => (t.names.athena === undefined ? [] : [`arn:aws:athena:${t.region}:${t.account}:workgroup/${t.names.athena.workgroup}`]),
  },
  // What Athena does with the caller's own permissions while it runs the query:
  // read the Glue table and the lake's objects, write the result files.
  {
    sid: 'AthenaReadsTheCatalog',
    actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartitions'],
    resources: (t) =>
      t.names.athena === undefined ? [] : [`arn:aws:glue:${t.region}:${t.account}:catalog`, `arn:aws:glue:${t.region}:${t.account}:database/${t.names.athena.database}`, `arn:aws:glue:${t.region}:${t.account}:table/${t.names.athena.database}/*`],
  },
  { sid: 'AthenaReadsTheLake', actions: ['s3:GetObject', 's3:ListBucket', 's3:GetBucketLocation'], resources: (t) => (t.names.athena === undefined ? [] : [`arn:aws:s3:::${t.lakeBucket}`, `arn:aws:s3:::${t.lakeBucket}/*`]) },
  {
    sid: 'AthenaWritesItsResults',
    actions: ['s3:GetObject', 's3:PutObject', 's3:ListBucket', 's3:GetBucketLocation', 's3:AbortMultipartUpload'],
    resources: (t) => (t.names.athena === undefined ? [] : [`arn:aws:s3:::${t.athenaResultsBucket}`, `arn:aws:s3:::${t.athenaResultsBucket}/*`]),
  },
  // The stack encrypts its tables, queue and buckets with its own key: reading needs Decrypt, Athena's results GenerateDataKey.
  { sid: 'DecryptTheStacksData', actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: (t) => [t.dataKeyArn] },
];

/** The policy document, statements without a resource left out. */
export function dashboardPolicy(t: PolicyTarget): { Version: string; Statement: { Sid: string; Effect: 'Allow'; Action: string[]; Resource: string[] }[] } {
  return {
    Version: '2012-10-17',
    Statement: AWS_SOURCE_GRANTS.map((g) => ({ Sid: g.sid, Effect: 'Allow' as const, Action: g.actions, Resource: g.resources(t) })).filter((s) => s.Resource.length > 0),
  };
}
