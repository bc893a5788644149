import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { dtOf } from './enriched';

/** A global secondary index as both CDK and CreateTable take it. */
export interface IndexDef {
  readonly name: string;
  readonly partitionKey: { readonly name: string; readonly type: 'S' | 'N' };
  readonly sortKey: { readonly name: string; readonly type: 'S' | 'N' };
  /** Non-key attributes copied into the index (projection INCLUDE). */
  readonly include: readonly string[];
}

/**
 * The alerts table's published alerts by UTC day, newest first by tick ts:
 * the AWS dashboard's alert feed (dashboard/aws-source.ts) without a Scan.
 *
 * Sparse: `day` is written by markPublished (consumer/sinks/sns-alerts.ts),
 * so an alert enters the index once, when SNS has taken it; a PENDING claim
 * (delivery under way, or a crash before it: the replay delivers it again)
 * and the `cooldown#<symbol>` items have no `day` and stay out.
 *
 * Projection INCLUDE of what the alerts page shows (the keys alert_id, day
 * and ts come with every index entry); not message_id or status, which the
 * page does not show, and every entry is PUBLISHED anyway.
 *
 * Hot partition: one `day` key takes every index write of the day. Each
 * published alert is one index write (under 1 KB: 1 WCU), and the cooldown
 * (alert-gate.ts) lets a symbol publish at most one alert per cooldown of
 * tick time, so the key takes at most symbols / cooldown writes per second
 * of tick time: 2,000 symbols at the default 60 s cooldown is 33/s, and
 * even the market page's 5,000-symbol cap is 83/s, against the 1,000 WCU/s
 * a single partition key sustains. A catch-up after an outage runs tick
 * time faster than the clock, which multiplies that rate by the catch-up's
 * speed while it lasts (the consumer applies ~1,000 ticks/s per vCPU, and
 * most ticks raise no alert). So the key is not sharded (`day#N` would cost N Queries per poll for
 * headroom no configuration here needs); a cooldown of 0 removes the bound,
 * and a stack run that way with thousands of symbols would want it.
 */
export const ALERTS_BY_DAY: IndexDef = {
  name: 'by_day',
  partitionKey: { name: 'day', type: 'S' },
  sortKey: { name: 'ts', type: 'N' },
  include: ['symbol', 'type', 'price', 'message'],
};

/** The alerts index's partition key of an alert at tick time `tsMs`: its UTC date, YYYY-MM-DD (the lake's `dt`). */
export const alertDay = dtOf;

/**
 * Key schemas of the DynamoDB tables the consumer writes. infra/ declares the
 * same keys in CDK; local/ creates these on the emulator.
 */
export const TABLE_KEYS = {
  /** enriched tick history: (symbol, ts) so a replayed write is idempotent */
  ticks: { partitionKey: { name: 'symbol', type: 'S' }, sortKey: { name: 'ts', type: 'N' }, ttlAttribute: 'expires_at' },
  /** one item per symbol: the live view */
  latest: { partitionKey: { name: 'symbol', type: 'S' } },
  /** per-symbol analyzer snapshots written before each KCL checkpoint */
  state: { partitionKey: { name: 'symbol', type: 'S' } },
  /** alert dedup: a conditional put on the deterministic alert id; the AWS dashboard reads the newest through ALERTS_BY_DAY */
  alerts: { partitionKey: { name: 'alert_id', type: 'S' }, index: ALERTS_BY_DAY },
  /** producer symbol-group leases */
  producerLeases: { partitionKey: { name: 'group', type: 'N' } },
} as const;

export type TableKind = keyof typeof TABLE_KEYS;

export function createTableInput(kind: TableKind, tableName: string): CreateTableCommandInput {
  const k = TABLE_KEYS[kind];
  const attrs: { AttributeName: string; AttributeType: 'S' | 'N' }[] = [{ AttributeName: k.partitionKey.name, AttributeType: k.partitionKey.type }];
  const keys: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[] = [{ AttributeName: k.partitionKey.name, KeyType: 'HASH' }];
  if ('sortKey' in k) {
    attrs.push({ AttributeName: k.sortKey.name, AttributeType: k.sortKey.type });
    keys.push({ AttributeName: k.sortKey.name, KeyType: 'RANGE' });
  }
  const input: CreateTableCommandInput = { TableName: tableName, BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: attrs, KeySchema: keys };
  if ('index' in k) {
    const x = k.index;
    for (const a of [x.partitionKey, x.sortKey]) if (!attrs.some((d) => d.AttributeName === a.name)) attrs.push({ AttributeName: a.name, AttributeType: a.type });
    input.GlobalSecondaryIndexes = [
      {
        IndexName: x.name,
        KeySchema: [
          { AttributeName: x.partitionKey.name, KeyType: 'HASH' },
          { AttributeName: x.sortKey.name, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...x.include] },
      },
    ];
  }
  return input;
}

/**
 * The KCL 3.x metadata tables, named after the application. The KCL creates
 * them itself when they are missing, but then with AWS-owned encryption and
 * no point-in-time recovery; created up front (CDK in AWS, local/stack.ts on
 * the emulator) they get the project's key and PITR, and the KCL only checks
 * they exist. Key schemas as in KCL core 3.1.3 and, unchanged, 3.5.1
 * (DynamoDBLeaseSerializer, WorkerMetricStats, CoordinatorState). Core 3.5
 * finds the two extra tables and stays in three-table mode (infra/kcl.ts).
 *
 * On the emulator this is also a necessity: KCL 3 adds the lease table's GSI
 * with UpdateTable, which dynalite rejects (it demands ProvisionedThroughput
 * on the new index even in PAY_PER_REQUEST mode); KCL skips the call when the
 * index exists.
 */
export interface KclTableDef {
  name: string;
  partitionKey: { name: string; type: 'S' };
  gsi?: { name: string; partitionKey: string; sortKey: string };
}

const KCL_LEASE_OWNER_INDEX = 'LeaseOwnerToLeaseKeyIndex';

export function kclTableDefs(applicationName: string): KclTableDef[] {
  return [
    { name: applicationName, partitionKey: { name: 'leaseKey', type: 'S' }, gsi: { name: KCL_LEASE_OWNER_INDEX, partitionKey: 'leaseOwner', sortKey: 'leaseKey' } },
    { name: `${applicationName}-WorkerMetricStats`, partitionKey: { name: 'wid', type: 'S' } },
    { name: `${applicationName}-CoordinatorState`, partitionKey: { name: 'key', type: 'S' } },
  ];
}

export function kclTableInputs(applicationName: string): CreateTableCommandInput[] {
  return kclTableDefs(applicationName).map((d) => {
    const attrs: { AttributeName: string; AttributeType: 'S' }[] = [{ AttributeName: d.partitionKey.name, AttributeType: 'S' }];
    const input: CreateTableCommandInput = {
      TableName: d.name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: attrs,
      KeySchema: [{ AttributeName: d.partitionKey.name, KeyType: 'HASH' }],
    };
    if (d.gsi) {
      attrs.push({ AttributeName: d.gsi.partitionKey, AttributeType: 'S' });
      input.GlobalSecondaryIndexes = [
        {
          IndexName: d.gsi.name,
          KeySchema: [
            { AttributeName: d.gsi.partitionKey, KeyType: 'HASH' },
            { AttributeName: d.gsi.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ];
    }
    return input;
  });
}
