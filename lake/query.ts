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

// The SQL pieces live in shared/queries.ts, where infra/ (the stack's
// Athena named queries and prepared statements) reads them too.
export { dtFilter, sqlString, type DateRange } from '../shared/queries';
