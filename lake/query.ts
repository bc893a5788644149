/**
 * The lake module's contract: what a query returns, its error, and the parts
 * of the SQL both engines share. The CLI (cli/query.ts), a dashboard and the
 * tests all run lake queries through this folder, which imports only
 * shared/: the engines are in lake/duckdb.ts (local) and lake/athena.ts (AWS).
 */
import { NAMED_QUERIES, isNamedQuery } from '../shared/queries';

/** Cell values: numbers, strings (timestamps as ISO-8601 UTC), booleans, null. */
export type Cell = string | number | boolean | null;

export interface QueryResult {
  columns: string[];
  rows: Cell[][];
}

/** A lake query failed (DuckDB or Athena); the message is for a person. */
export class QueryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Named query → its SQL; anything else is taken as SQL. */
export function resolveSql(nameOrSql: string): string {
  return isNamedQuery(nameOrSql) ? NAMED_QUERIES[nameOrSql].sql : nameOrSql;
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
