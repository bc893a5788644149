/**
 * The lake's named queries: the original system's three (top movers, volume
 * by hour, anomalies) plus the crossover signals.
 *
 * One SQL text serves DuckDB (local lake, `npm run query`) and Athena
 * (Presto/Trino engine; also usable as Athena named queries from infra/), so
 * it keeps to the common subset:
 * - no `approx_distinct`, `date_format`, `from_unixtime`, `date_parse`,
 *   Presto-style `date_add('day', ...)` (missing in DuckDB);
 * - no `::` casts, `QUALIFY`, `strftime`, `epoch_ms` (missing in Athena);
 * - `date_trunc('hour', ts)`, `extract`, `CAST`, `COUNT(DISTINCT ...)`,
 *   window functions and `ABS` behave the same in both;
 * - every ORDER BY ends in a unique key so both engines return the same order.
 *
 * `previous_close` and `change_pct` are null on ticks whose source knew no
 * previous close (tick v2): such a tick is no mover and no anomaly. The
 * filters say so explicitly, so neither engine's NULL ordering decides.
 *
 * `{{table}}` is replaced by the table reference: the `ticks` view locally,
 * `"<glue database>"."ticks"` on Athena. `ts` is a TIMESTAMP (UTC) in both.
 */
import { ANOMALY_THRESHOLD_PCT } from './enriched';

export type NamedQueryName = 'top-movers' | 'volume-by-hour' | 'anomalies' | 'signals';

export interface NamedQuery {
  description: string;
  sql: string;
}

export const NAMED_QUERIES: Record<NamedQueryName, NamedQuery> = {
  'top-movers': {
    description: 'Largest absolute % change against the previous close, one row per symbol (the tick where it happened; latest tick wins a tie)',
    sql: `SELECT symbol, ts, price, previous_close, change_pct
FROM (
  SELECT symbol, ts, price, previous_close, change_pct,
         ROW_NUMBER() OVER (PARTITION BY symbol ORDER BY ABS(change_pct) DESC, ts DESC) AS rn
  FROM {{table}}
  WHERE change_pct IS NOT NULL
) ranked
WHERE rn = 1
ORDER BY ABS(change_pct) DESC, symbol`,
  },
  'volume-by-hour': {
    description: 'Total volume and tick count per symbol per UTC hour',
    sql: `SELECT symbol, date_trunc('hour', ts) AS hour_start, SUM(volume) AS total_volume, COUNT(*) AS ticks
FROM {{table}}
GROUP BY symbol, date_trunc('hour', ts)
ORDER BY hour_start, symbol`,
  },
  anomalies: {
    description: `Ticks whose |change_pct| exceeds ${ANOMALY_THRESHOLD_PCT} %`,
    sql: `SELECT symbol, ts, price, previous_close, change_pct
FROM {{table}}
WHERE change_pct IS NOT NULL AND ABS(change_pct) > ${ANOMALY_THRESHOLD_PCT}
ORDER BY ts, symbol`,
  },
  signals: {
    description: 'SMA-5/SMA-20 crossover BUY/SELL signals in time order',
    sql: `SELECT symbol, ts, signal, price, sma5, sma20
FROM {{table}}
WHERE signal IS NOT NULL
ORDER BY ts, symbol`,
  },
};

export const NAMED_QUERY_NAMES = Object.keys(NAMED_QUERIES) as NamedQueryName[];

export function isNamedQuery(name: string): name is NamedQueryName {
  return Object.prototype.hasOwnProperty.call(NAMED_QUERIES, name);
}

export function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** Inclusive UTC date bounds on the `dt` partition, YYYY-MM-DD. */
export interface DateRange {
  from?: string;
  to?: string;
}

/**
 * ` WHERE dt …` for a range, '' without one. On Athena this is what keeps a
 * query from scanning the whole lake (partition projection prunes on it);
 * DuckDB prunes the hive directories the same way.
 */
export function dtFilter(range: DateRange | undefined): string {
  const parts: string[] = [];
  if (range?.from !== undefined) parts.push(`dt >= ${sqlString(range.from)}`);
  if (range?.to !== undefined) parts.push(`dt <= ${sqlString(range.to)}`);
  return parts.length === 0 ? '' : ` WHERE ${parts.join(' AND ')}`;
}

/** The Glue ticks table, quoted for Athena. */
export function athenaTicksTable(database: string): string {
  return `"${database.replace(/"/g, '""')}"."ticks"`;
}

/**
 * The ticks table read through SELECT DISTINCT, with an optional ` WHERE …`
 * on it: what `{{table}}` becomes on Athena, for `npm run query` and for the
 * stack's named queries and prepared statements alike. Firehose is
 * at-least-once, so after a redelivery the S3 lake can hold a row twice;
 * rows are a pure function of the tick, so the copies are identical and
 * DISTINCT removes them exactly (the local lake sink never writes them: see
 * consumer/sinks/lake-sink.ts). Trino pushes filters on these columns (dt
 * included) below the DISTINCT, so partition pruning still applies.
 */
export function dedupedTicks(table: string, where = ''): string {
  return `(SELECT DISTINCT * FROM ${table}${where}) ticks`;
}

/**
 * The dt range of an Athena prepared statement: two parameters, from and
 * to (inclusive, YYYY-MM-DD), in that order, as `npm run query --from --to`
 * filters them (dtFilter), so `EXECUTE <name> USING '<from>', '<to>'` scans
 * and answers exactly what the CLI does for that range.
 */
export const DT_RANGE_PARAMETERS = ' WHERE dt >= ? AND dt <= ?';

/**
 * The default range of a saved (named) query on Athena: today and the six
 * days before it (UTC, Athena's session zone), so running one from the
 * console scans a week, not the whole lake. Trino folds current_date to a
 * constant before planning, so partition projection still prunes on it.
 */
export const DT_LAST_7_DAYS = " WHERE dt >= CAST(current_date - INTERVAL '6' DAY AS varchar)";

/** Substitute the table reference for every `{{table}}`. */
export function renderQuery(sql: string, table: string): string {
  return sql.replace(/\{\{table\}\}/g, table);
}
