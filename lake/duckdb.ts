/**
 * The local lake engine: DuckDB over `<lake>/ticks/**\/*.parquet`, exposed
 * as a view so the same SQL text runs here and on Athena.
 */
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { DuckDBTimestampTZValue, DuckDBTimestampValue } from '@duckdb/node-api';
import { describeError } from '../shared/describe-error';
import { duckdb } from '../shared/parquet';
import { renderQuery } from '../shared/queries';
import { QueryError, dtFilter, sqlString, type Cell, type DateRange, type QueryResult } from './query';

/** The local lake's view name; also what raw SQL refers to. */
const LOCAL_TABLE = 'ticks';

function isoFromMicros(micros: bigint): string {
  return new Date(Number(micros / 1000n)).toISOString();
}

/** `dt` stays VARCHAR as in Glue (DuckDB would otherwise infer a DATE). */
export function lakeViewSql(lakeDir: string, range?: DateRange): string {
  const glob = path.join(lakeDir, 'ticks', '**', '*.parquet');
  return `CREATE OR REPLACE TEMP VIEW ${LOCAL_TABLE} AS SELECT * FROM read_parquet(${sqlString(glob)}, hive_partitioning = true, hive_types = {'dt': VARCHAR})${dtFilter(range)}`;
}

/** Run SQL against the local lake with DuckDB. */
export async function queryLocalLake(lakeDir: string, sql: string, range?: DateRange): Promise<QueryResult> {
  const conn: DuckDBConnection = await (await duckdb()).connect();
  try {
    try {
      await conn.run(lakeViewSql(lakeDir, range));
    } catch (err) {
      throw new QueryError(`no lake at ${lakeDir} (expected ${path.join(lakeDir, 'ticks', 'dt=YYYY-MM-DD', '*.parquet')}): ${describeError(err)}`, { cause: err });
    }
    let reader;
    try {
      reader = await conn.runAndReadAll(renderQuery(sql, LOCAL_TABLE));
    } catch (err) {
      throw new QueryError(`query failed: ${describeError(err)}`, { cause: err });
    }
    const rows = reader.getRows().map((row) =>
      row.map((v): Cell => {
        if (v === null) return null;
        if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
        if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
        if (v instanceof DuckDBTimestampValue || v instanceof DuckDBTimestampTZValue) return isoFromMicros(v.micros);
        return String(v);
      }),
    );
    return { columns: reader.columnNames(), rows };
  } finally {
    conn.closeSync();
  }
}
