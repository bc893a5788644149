/**
 * What the KCL MultiLangDaemon needs from AWS, in one place, so the KCL 2.x vs
 * 3.x decision is one constant here (it must match consumer/kcl/pom.xml).
 *
 * The KCL's metadata tables are named after the application name. The stack
 * declares them itself (infra/stack.ts, kclTableDefs in shared/tables.ts), so
 * they are CloudFormation resources with the data key and PITR like every
 * other store (the KCL finds them and skips creating its own); the consumer
 * role gets exactly those table ARNs.
 */
export type KclMajor = 2 | 3;

/**
 * consumer/kcl/pom.xml pins the MultiLangDaemon 3.1.3 on KCL core 3.5.1 (our
 * launcher sets the leader lock, which only core >= 3.2 exposes; README,
 * "Known KCL behaviour"). The core version is what decides the tables and
 * calls below; a unit test checks this against the pom.
 */
export const KCL_MAJOR: KclMajor = 3;

/**
 * The KCL's own CloudWatch metrics are OFF (multilang `metricsLevel = NONE`):
 * the issue asks for metrics through EMF logs with no PutMetricData calls, and
 * the lag signal we alarm on is the stream's own GetRecords.IteratorAgeMilliseconds,
 * which Kinesis publishes for free. With this false the consumer role has no
 * cloudwatch:PutMetricData at all. Flip it (and the properties) to get the
 * KCL's per-shard metrics; the grant is then scoped to the KCL's namespace.
 */
export const KCL_PUBLISHES_METRICS = false;

/**
 * Table names the KCL derives from the application name. Core 3.5 can keep
 * worker metrics and coordinator state in the lease table (single-table
 * mode), but only for an application that never had the separate tables: it
 * finds ours (the stack and the local stack create all three) and stays in
 * three-table mode (table migration INIT), leader lock in CoordinatorState,
 * as on 3.1.3. Moving to one table is KCL's 2-phase migration, not done.
 */
export function kclTableNames(appName: string, major: KclMajor = KCL_MAJOR): string[] {
  return major === 3 ? [appName, `${appName}-WorkerMetricStats`, `${appName}-CoordinatorState`] : [appName];
}

/** DynamoDB actions the KCL performs on its metadata tables (AWS's documented minimum). */
export function kclTableActions(major: KclMajor = KCL_MAJOR): string[] {
  const base = [
    'dynamodb:CreateTable',
    'dynamodb:DescribeTable',
    'dynamodb:Scan',
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
  ];
  // KCL 3.x adds the leaseOwner GSI to the lease table with UpdateTable and
  // reads it with Query; 2.x only scans the lease table. DescribeTable must
  // stay on all three tables: core 3.5 calls it on WorkerMetricStats and
  // CoordinatorState at every start to choose the table mode, and any answer
  // but ResourceNotFound (AccessDenied) fails the Scheduler's initialisation
  // (Legacy*DAODelegate.initialize()).
  return major === 3 ? [...base, 'dynamodb:UpdateTable', 'dynamodb:Query'] : base;
}

/** Kinesis actions for POLLING retrieval (no enhanced fan-out, so no consumer ARNs). */
export const KCL_KINESIS_ACTIONS = [
  'kinesis:DescribeStream',
  'kinesis:DescribeStreamSummary',
  'kinesis:GetRecords',
  'kinesis:GetShardIterator',
  'kinesis:ListShards',
] as const;
