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

/**
 * DynamoDB actions the KCL performs on its metadata tables, which the stack
 * creates (infra/sections/tables.ts) before any consumer task starts
 * (infra/sections/first-deploy.ts).
 *
 * No CreateTable and no UpdateTable: KCL core 3.5.1 (the version the pom
 * pins) calls them only on tables or indexes that do not exist yet, and the
 * stack creates all three tables and the lease table's GSI. From the source
 * at tag v3.5.1 of github.com/awslabs/amazon-kinesis-client:
 * - amazon-kinesis-client/src/main/java/software/amazon/kinesis/leases/dynamodb/DynamoDBLeaseRefresher.java
 *   lines 221-226: createTableIfNotExists returns as soon as DescribeTable
 *   finds the lease table; CreateTable (line 240) only when it does not.
 *   Lines 340-378: createLeaseOwnerToLeaseKeyIndexIfNotExists returns the
 *   status when DescribeTable shows the GSI; UpdateTable (line 397) only
 *   when it is missing. UpdateContinuousBackups (line 213) only with
 *   leaseTablePitrEnabled, default false (LeaseManagementConfig.java line
 *   73) and not set by consumer/kcl/properties.ts; the stack enables PITR.
 * - coordinator/delegate/LegacyTableCoordinatorStateDAODelegate.java lines
 *   76-90 and worker/metricstats/delegate/LegacyTableWorkerMetricStatsDAODelegate.java
 *   lines 71-86: the other two tables are only described, never created,
 *   by the core 3.5 code that reads them. utils/DdbUtil.java's tableCreator
 *   (line 70) has no caller in 3.5.1, and coordinator/DynamoDbAsyncToSyncClientAdapter.java
 *   (line 85) only forwards the lock client's calls; nothing asks it to
 *   create the lock table.
 * DescribeTable stays on all three (see below); losing CreateTable means a
 * KCL pointed at a missing table fails with AccessDenied instead of
 * creating an unencrypted one outside the stack.
 */
export function kclTableActions(major: KclMajor = KCL_MAJOR): string[] {
  const base = [
    'dynamodb:DescribeTable',
    'dynamodb:Scan',
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
  ];
  // KCL 3.x reads the leaseOwner GSI (which the stack creates) with Query;
  // 2.x only scans the lease table. DescribeTable must
  // stay on all three tables: core 3.5 calls it on WorkerMetricStats and
  // CoordinatorState at every start to choose the table mode, and any answer
  // but ResourceNotFound (AccessDenied) fails the Scheduler's initialisation
  // (Legacy*DAODelegate.initialize()).
  return major === 3 ? [...base, 'dynamodb:Query'] : base;
}

/** Kinesis actions for POLLING retrieval (no enhanced fan-out, so no consumer ARNs). */
export const KCL_KINESIS_ACTIONS = [
  'kinesis:DescribeStream',
  'kinesis:DescribeStreamSummary',
  'kinesis:GetRecords',
  'kinesis:GetShardIterator',
  'kinesis:ListShards',
] as const;
