/**
 * The deployed stack's name and the outputs that tools read after
 * `cdk deploy` (scripts/deploy.ts), named once for infra/ and the tools.
 */
export const STACK_NAME = 'Tickstream';

export const STACK_OUTPUTS = {
  /** The SNS topic every alarm and the budget notify. */
  opsTopicArn: 'OpsTopicArn',
  streamName: 'StreamName',
  /** The KCL application name, which is also its lease table's name. */
  kclApplicationName: 'KclApplicationName',
  /** Absent when the stack keeps no DynamoDB tick history. */
  ticksTableName: 'TicksTableName',
  latestTableName: 'LatestTableName',
  lakeBucketName: 'LakeBucketName',
  athenaWorkgroupName: 'AthenaWorkgroupName',
  alertTopicArn: 'AlertTopicArn',
  deadLetterQueueUrl: 'DeadLetterQueueUrl',
} as const;

/**
 * The outputs as a tool is given them: cdk's `--outputs-file` JSON
 * (`{ "Tickstream": { "Key": "value" } }`) or the AWS CLI's
 * `aws cloudformation describe-stacks --stack-name Tickstream --query 'Stacks[0].Outputs'`
 * (`[{ "OutputKey": …, "OutputValue": … }]`). Returns key -> value.
 */
export function parseStackOutputs(json: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(json)) {
    for (const o of json as { OutputKey?: unknown; OutputValue?: unknown }[]) if (typeof o.OutputKey === 'string' && typeof o.OutputValue === 'string') out[o.OutputKey] = o.OutputValue;
    return out;
  }
  const stack = (json as Record<string, unknown> | null)?.[STACK_NAME];
  if (typeof stack === 'object' && stack !== null) for (const [k, v] of Object.entries(stack)) if (typeof v === 'string') out[k] = v;
  return out;
}
