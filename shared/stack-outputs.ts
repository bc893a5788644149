/**
 * The deployed stack's name and the outputs that tools read after
 * `cdk deploy` (scripts/deploy.ts), named once for infra/ and the tools.
 */
export const STACK_NAME = 'Tickstream';

export const STACK_OUTPUTS = {
  /** The SNS topic every alarm and the budget notify. */
  opsTopicArn: 'OpsTopicArn',
  /** What `npm run smoke` (scripts/smoke.ts) writes to and reads back. */
  streamName: 'StreamName',
  latestTableName: 'LatestTableName',
  /** Absent when the stack was deployed with `-c ticksTable=false`. */
  ticksTableName: 'TicksTableName',
  alertsTableName: 'AlertsTableName',
  alertTopicArn: 'AlertTopicArn',
} as const;

/** Where `npm run deploy` leaves the stack's outputs (cdk's --outputs-file,
 *  git-ignored) and where `npm run smoke` reads them by default. */
export const OUTPUTS_FILE = 'tickstream-outputs.json';
