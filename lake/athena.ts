/**
 * The AWS lake engine: Athena over the Glue table Firehose fills. The same
 * SQL text as the local engine runs here; `{{table}}` becomes athenaTable.
 */
import type { AthenaClient, ColumnInfo } from '@aws-sdk/client-athena';
import { GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { describeError } from '../shared/describe-error';
import { athenaTicksTable, dedupedTicks, renderQuery } from '../shared/queries';
import { QueryError, dtFilter, type Cell, type DateRange, type QueryResult } from './query';
import { sleep } from '../shared/runtime/sleep';

export interface AthenaQueryOptions {
  database: string;
  workgroup: string;
  /** s3://bucket/prefix/ for result files; absent: the workgroup's own (the stack's workgroup sets one). */
  outputLocation?: string;
  /** Default 500 ms, growing to 5 s. */
  pollMs?: number;
  /** Default 10 minutes. */
  timeoutMs?: number;
  /** Read the table through SELECT DISTINCT (default true): see athenaTable. */
  dedup?: boolean;
  range?: DateRange;
}

/** Athena returns every value as a string; its column types say what it was. */
function athenaCell(v: string | undefined, info: ColumnInfo | undefined): Cell {
  if (v === undefined) return null;
  switch (info?.Type?.toLowerCase()) {
    case 'tinyint':
    case 'smallint':
    case 'integer':
    case 'bigint':
    case 'double':
    case 'float':
    case 'real':
    case 'decimal': {
      const n = Number(v);
      return Number.isFinite(n) && (Number.isSafeInteger(n) || !/^-?\d+$/.test(v)) ? n : v;
    }
    case 'boolean':
      return v === 'true';
    case 'timestamp':
      // "2024-01-02 03:04:05.000" (UTC) -> ISO-8601, as the DuckDB path prints.
      return /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/.test(v) ? new Date(`${v.replace(' ', 'T')}Z`).toISOString() : v;
    default:
      return v;
  }
}

/** What `{{table}}` becomes on Athena: deduplicated (shared/queries.ts dedupedTicks) unless told otherwise. */
export function athenaTable(database: string, dedup = true, range?: DateRange): string {
  const table = athenaTicksTable(database);
  const where = dtFilter(range);
  if (dedup) return dedupedTicks(table, where);
  return where === '' ? table : `(SELECT * FROM ${table}${where}) ticks`;
}

/** Run SQL on Athena: start, poll until done, page through the results. */
export async function queryAthena(client: AthenaClient, opts: AthenaQueryOptions, sql: string): Promise<QueryResult> {
  const table = athenaTable(opts.database, opts.dedup ?? true, opts.range);
  let id: string | undefined;
  try {
    const started = await client.send(
      new StartQueryExecutionCommand({
        QueryString: renderQuery(sql, table),
        WorkGroup: opts.workgroup,
        QueryExecutionContext: { Database: opts.database },
        ...(opts.outputLocation !== undefined ? { ResultConfiguration: { OutputLocation: opts.outputLocation } } : {}),
      }),
    );
    id = started.QueryExecutionId;
  } catch (err) {
    throw new QueryError(`Athena StartQueryExecution failed: ${describeError(err)}`, { cause: err });
  }
  if (!id) throw new QueryError('Athena returned no QueryExecutionId');
  const deadline = Date.now() + (opts.timeoutMs ?? 600_000);
  let delay = opts.pollMs ?? 500;
  for (;;) {
    const exec = await client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
    const status = exec.QueryExecution?.Status;
    if (status?.State === 'SUCCEEDED') break;
    if (status?.State === 'FAILED' || status?.State === 'CANCELLED') {
      throw new QueryError(`Athena query ${id} ${status.State}: ${status.StateChangeReason ?? status.AthenaError?.ErrorMessage ?? 'no reason given'}`);
    }
    if (Date.now() > deadline) throw new QueryError(`Athena query ${id} still ${status?.State ?? 'unknown'} after the timeout`);
    await sleep(delay);
    delay = Math.min(5000, Math.round(delay * 1.5));
  }
  let columns: string[] = [];
  let info: ColumnInfo[] = [];
  const rows: Cell[][] = [];
  let token: string | undefined;
  let first = true;
  do {
    const page = await client.send(new GetQueryResultsCommand({ QueryExecutionId: id, NextToken: token, MaxResults: 1000 }));
    if (first) {
      info = page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
      columns = info.map((c) => c.Name ?? c.Label ?? '');
    }
    const data = page.ResultSet?.Rows ?? [];
    data.forEach((r, i) => {
      const values = (r.Data ?? []).map((d) => d.VarCharValue);
      // For SELECT, the first row of the first page repeats the column names.
      if (first && i === 0 && values.length === columns.length && values.every((v, j) => v === columns[j])) return;
      rows.push(values.map((v, j) => athenaCell(v, info[j])));
    });
    first = false;
    token = page.NextToken;
  } while (token);
  return { columns, rows };
}
