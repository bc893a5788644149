import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { TABLE_KEYS, kclTableDefs, type IndexDef, type TableKind } from '../../shared/tables';
import { KCL_MAJOR } from '../kcl';
import { DATA_REMOVAL_POLICY, type Section } from './common';

/** The shape every TABLE_KEYS entry fits (sort key and TTL optional). */
interface TableKeys {
  readonly partitionKey: { readonly name: string; readonly type: 'S' | 'N' };
  readonly sortKey?: { readonly name: string; readonly type: 'S' | 'N' };
  readonly ttlAttribute?: string;
  readonly index?: IndexDef;
}

export type AppTables = Readonly<Record<'latest' | 'state' | 'alerts' | 'producerLeases', dynamodb.Table>> & {
  /** Absent with `-c ticksTable=false`: the lake holds every tick, DynamoDB then only the live view. */
  readonly ticks: dynamodb.Table | undefined;
};

const attr = (a: { name: string; type: 'S' | 'N' }): dynamodb.Attribute => ({
  name: a.name,
  type: a.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER,
});

/**
 * The app's tables and the KCL's. Keys come from shared/tables.ts, the same
 * definitions local/ uses to create the tables on the emulator, so the two
 * cannot disagree.
 */
export function tables({ stack, cfg }: Section, dataKey: kms.IKey): { app: AppTables; kcl: dynamodb.Table[] } {
  // What every table gets, the app's and the KCL's alike.
  const storeProps = {
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
    encryptionKey: dataKey,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    removalPolicy: DATA_REMOVAL_POLICY,
  } as const;
  const table = (id: string, kind: TableKind): dynamodb.Table => {
    const k: TableKeys = TABLE_KEYS[kind];
    const t = new dynamodb.Table(stack, id, {
      partitionKey: attr(k.partitionKey),
      ...(k.sortKey === undefined ? {} : { sortKey: attr(k.sortKey) }),
      ...(k.ttlAttribute === undefined ? {} : { timeToLiveAttribute: k.ttlAttribute }),
      ...storeProps,
    });
    if (k.index !== undefined) {
      t.addGlobalSecondaryIndex({
        indexName: k.index.name,
        partitionKey: attr(k.index.partitionKey),
        sortKey: attr(k.index.sortKey),
        projectionType: dynamodb.ProjectionType.INCLUDE,
        nonKeyAttributes: [...k.index.include],
      });
    }
    return t;
  };
  const app: AppTables = {
    ticks: cfg.ticksTable ? table('TicksTable', 'ticks') : undefined,
    latest: table('LatestTable', 'latest'),
    state: table('StateTable', 'state'),
    alerts: table('AlertsTable', 'alerts'),
    producerLeases: table('ProducerLeasesTable', 'producerLeases'),
  };

  // The KCL's own tables, created here rather than by the KCL on first
  // start: that way they get the data key and PITR like every other store,
  // and `cdk destroy` knows them. The KCL finds them and skips creation
  // (verified against the emulator: "already existing, skipping creation").
  const kclDefs = kclTableDefs(cfg.appName).filter((d) => KCL_MAJOR === 3 || d.name === cfg.appName);
  const kcl: dynamodb.Table[] = [];
  for (const [i, d] of kclDefs.entries()) {
    const t = new dynamodb.Table(stack, ['KclLeaseTable', 'KclWorkerMetricsTable', 'KclCoordinatorStateTable'][i] ?? `KclTable${i}`, {
      tableName: d.name,
      partitionKey: attr(d.partitionKey),
      ...storeProps,
    });
    if (d.gsi && KCL_MAJOR === 3) {
      t.addGlobalSecondaryIndex({
        indexName: d.gsi.name,
        partitionKey: { name: d.gsi.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: d.gsi.sortKey, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.KEYS_ONLY,
      });
    }
    kcl.push(t);
  }
  return { app, kcl };
}
