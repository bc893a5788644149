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
  // what the AWS dashboard (dashboard/aws-source.ts) reads besides
  /** The KCL application name, which is also its lease table's name. */
  kclApplicationName: 'KclApplicationName',
  lakeBucketName: 'LakeBucketName',
  athenaWorkgroupName: 'AthenaWorkgroupName',
  deadLetterQueueUrl: 'DeadLetterQueueUrl',
} as const;

/** Where `npm run deploy` leaves the stack's outputs (cdk's --outputs-file,
 *  git-ignored) and where `npm run smoke` and the AWS dashboard read them by default. */
export const OUTPUTS_FILE = 'tickstream-outputs.json';

/**
 * A stack's outputs as key → value, from any of the three shapes: cdk's
 * outputs file (`{"Tickstream": {...}}`), describe-stacks' whole answer
 * (`{"Stacks": [{"Outputs": [...]}]}`) or its `Stacks[0].Outputs` alone.
 */
export function parseOutputs(json: unknown): Record<string, string> {
  const fromList = (list: unknown): Record<string, string> | undefined => {
    if (!Array.isArray(list)) return undefined;
    const out: Record<string, string> = {};
    for (const o of list as { OutputKey?: unknown; OutputValue?: unknown }[]) {
      if (typeof o?.OutputKey === 'string' && typeof o.OutputValue === 'string') out[o.OutputKey] = o.OutputValue;
    }
    return out;
  };
  const asList = fromList(json);
  if (asList !== undefined) return asList;
  if (json !== null && typeof json === 'object') {
    const o = json as Record<string, unknown>;
    const stacks = o.Stacks;
    if (Array.isArray(stacks)) {
      const first = fromList((stacks[0] as { Outputs?: unknown } | undefined)?.Outputs);
      if (first !== undefined) return first;
    }
    const cdk = o[STACK_NAME];
    if (cdk !== null && typeof cdk === 'object') {
      return Object.fromEntries(Object.entries(cdk as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string'));
    }
  }
  throw new Error(`not a ${STACK_NAME} outputs file: expected cdk's --outputs-file JSON or the answer of \`aws cloudformation describe-stacks\``);
}
