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
 * The KCL 3.x lease table, created before the daemon starts. KCL 3 adds the
 * GSI below with UpdateTable; dynalite rejects that call (it demands
 * ProvisionedThroughput on the new index even in PAY_PER_REQUEST mode), and
 * KCL skips the UpdateTable when the index already exists. In AWS the KCL
 * creates its own table; this is for the emulator only.
 */
export function kclLeaseTableInput(applicationName: string): CreateTableCommandInput {
  return {
    TableName: applicationName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'leaseKey', AttributeType: 'S' },
      { AttributeName: 'leaseOwner', AttributeType: 'S' },
    ],
    KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
    GlobalSecondaryIndexes: [
      {
        IndexName: 'LeaseOwnerToLeaseKeyIndex',
        KeySchema: [
          { AttributeName: 'leaseOwner', KeyType: 'HASH' },
          { AttributeName: 'leaseKey', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
    ],
  };
}
