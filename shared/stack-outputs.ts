/**
 * The deployed stack's name and the outputs that tools read after
 * `cdk deploy` (scripts/deploy.ts), named once for infra/ and the tools.
 */
export const STACK_NAME = 'Tickstream';

export const STACK_OUTPUTS = {
  /** The SNS topic every alarm and the budget notify. */
  opsTopicArn: 'OpsTopicArn',
} as const;
