import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

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
  /** alert dedup: a conditional put on the deterministic alert id */
  alerts: { partitionKey: { name: 'alert_id', type: 'S' } },
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
  return { TableName: tableName, BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: attrs, KeySchema: keys };
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
