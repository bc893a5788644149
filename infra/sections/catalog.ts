import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { glueColumns, PARTITION_COLUMN } from '../../shared/enriched';
import { athenaTicksTable, dedupedTicks, DT_LAST_7_DAYS, DT_RANGE_PARAMETERS, NAMED_QUERIES, NAMED_QUERY_NAMES, renderQuery, type NamedQueryName } from '../../shared/queries';
import { TICK_BOUNDS } from '../../shared/tick';
import { glueDatabaseName, type Section } from './common';
import { LAKE_PREFIX } from './lake';

/**
 * The dt projection spans exactly the days a valid tick can have
 * (shared/tick.ts TICK_BOUNDS), so every stored tick is visible to Athena and
 * the consumer can store nothing Athena cannot see. A fixed end rather than
 * NOW: a tick whose clock runs ahead would otherwise be stored but invisible
 * until its day comes. Queries bound dt anyway (the CLI's --from/--to).
 */
const PROJECTION_START = new Date(TICK_BOUNDS.tsMin).toISOString().slice(0, 10);
const PROJECTION_END = new Date(TICK_BOUNDS.tsMax - 86_400_000).toISOString().slice(0, 10);

/** The Glue database and ticks table over the lake, and the Athena workgroup with the named queries. */
export function catalog({ stack, cfg }: Section, dataKey: kms.IKey, lakeBucket: s3.Bucket, athenaResults: s3.Bucket): glue.CfnTable {
  const dbName = glueDatabaseName(cfg);
  const glueDb = new glue.CfnDatabase(stack, 'GlueDatabase', {
    catalogId: stack.account,
    databaseInput: { name: dbName, description: 'tickstream lake: enriched ticks as Parquet, partitioned by dt' },
  });
  const lakeLocation = `s3://${lakeBucket.bucketName}/${LAKE_PREFIX}`;
  const glueTable = new glue.CfnTable(stack, 'GlueTicksTable', {
    catalogId: stack.account,
    databaseName: dbName,
    tableInput: {
      name: 'ticks',
      description: 'Enriched ticks, columns generated from shared/enriched.ts',
      tableType: 'EXTERNAL_TABLE',
      parameters: {
        classification: 'parquet',
        'parquet.compression': 'SNAPPY',
        // Partition projection: Athena computes the dt partitions from
        // these rules, so there is no crawler and no MSCK REPAIR to run.
        'projection.enabled': 'true',
        'projection.dt.type': 'date',
        'projection.dt.format': 'yyyy-MM-dd',
        'projection.dt.range': `${PROJECTION_START},${PROJECTION_END}`,
        'projection.dt.interval': '1',
        'projection.dt.interval.unit': 'DAYS',
        'storage.location.template': `${lakeLocation}dt=\${dt}/`,
      },
      partitionKeys: [{ name: PARTITION_COLUMN.name, type: PARTITION_COLUMN.type, comment: PARTITION_COLUMN.comment }],
      storageDescriptor: {
        location: lakeLocation,
        columns: glueColumns(),
        inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
        outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
        serdeInfo: {
          serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
          parameters: { 'serialization.format': '1' },
        },
      },
    },
  });
  glueTable.node.addDependency(glueDb);

  const workgroup = new athena.CfnWorkGroup(stack, 'AthenaWorkgroup', {
    name: cfg.appName,
    description: 'tickstream lake queries',
    recursiveDeleteOption: true, // saved query history only; results live in the bucket
    state: 'ENABLED',
    workGroupConfiguration: {
      enforceWorkGroupConfiguration: true,
      publishCloudWatchMetricsEnabled: true,
      // A runaway query stops at 10 GB scanned ($0.05) instead of scanning the whole lake.
      bytesScannedCutoffPerQuery: 10 * 1024 ** 3,
      engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
      resultConfiguration: {
        outputLocation: athenaOutput(athenaResults),
        encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: dataKey.keyArn },
      },
    },
  });
  // Both read the table as `npm run query` does (shared/queries.ts
  // dedupedTicks), so a row Firehose delivered twice counts once, and both
  // scan a bounded range: the saved query the last seven days, the
  // prepared statement the range it is executed with.
  const table = athenaTicksTable(dbName);
  for (const name of NAMED_QUERY_NAMES) {
    const q = new athena.CfnNamedQuery(stack, `Query-${name}`, {
      name,
      description: `${NAMED_QUERIES[name].description} (last 7 days; for any range: EXECUTE ${preparedStatementName(name)} USING '<from>', '<to>')`,
      database: dbName,
      workGroup: workgroup.name,
      queryString: renderQuery(NAMED_QUERIES[name].sql, dedupedTicks(table, DT_LAST_7_DAYS)),
    });
    q.node.addDependency(workgroup);
    q.node.addDependency(glueDb);
    const p = new athena.CfnPreparedStatement(stack, `Statement-${name}`, {
      statementName: preparedStatementName(name),
      workGroup: workgroup.name,
      description: `${NAMED_QUERIES[name].description}; parameters: from, to (YYYY-MM-DD, inclusive)`,
      queryStatement: renderQuery(NAMED_QUERIES[name].sql, dedupedTicks(table, DT_RANGE_PARAMETERS)),
    });
    p.node.addDependency(workgroup);
  }
  return glueTable;
}

/** Athena statement names take no dashes: top-movers -> top_movers. */
export function preparedStatementName(name: NamedQueryName): string {
  return name.replace(/-/g, '_');
}

/** Where Athena writes results: the workgroup's setting, and the consumer's env for its own queries. */
export function athenaOutput(athenaResults: s3.Bucket): string {
  return `s3://${athenaResults.bucketName}/results/`;
}
