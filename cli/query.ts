/**
 * Query the tick lake with the named queries of shared/queries.ts or any SQL.
 *
 *   npm run query -- <name|SQL> [--format table|csv|json] [--lake <dir>]
 *
 * Local mode (default): DuckDB over `<lake>/ticks/**\/*.parquet` exposed as a
 * view `ticks`. AWS mode (TICKSTREAM_MODE=aws): Athena, with the Glue
 * database, workgroup and output location from the environment. Either way
 * the same SQL text runs; `{{table}}` stands for the table.
 *
 * Results are printed to stdout (this is a CLI, not the consumer); errors go
 * to stderr as one plain line and the exit code is 1 (2 for bad usage).
 */
import path from 'node:path';
import type { AthenaClient, ColumnInfo } from '@aws-sdk/client-athena';
import { GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import type { DuckDBConnection } from '@duckdb/node-api';
import { DuckDBTimestampTZValue, DuckDBTimestampValue } from '@duckdb/node-api';
import { QueryError, describeError } from '../consumer/errors';
import { ENV } from '../shared/env-names';
import { sleep } from '../shared/runtime/sleep';
import { ConfigError, EXIT_CONFIG, httpUrl, oneOf, optional, readSettings, text as textSetting, withDefault, type Env, type Setting } from '../shared/runtime/config';
import { closeDuckdb, duckdb } from '../shared/parquet';
import { NAMED_QUERIES, NAMED_QUERY_NAMES, isNamedQuery, renderQuery } from '../shared/queries';

export type OutputFormat = 'table' | 'csv' | 'json';
/** Cell values: numbers, strings (timestamps as ISO-8601 UTC), booleans, null. */
export type Cell = string | number | boolean | null;

export interface QueryResult {
  columns: string[];
  rows: Cell[][];
}

/** The local lake's view name; also what raw SQL refers to. */
export const LOCAL_TABLE = 'ticks';

/** Named query → its SQL; anything else is taken as SQL. */
export function resolveSql(nameOrSql: string): string {
  return isNamedQuery(nameOrSql) ? NAMED_QUERIES[nameOrSql].sql : nameOrSql;
}

function isoFromMicros(micros: bigint): string {
  return new Date(Number(micros / 1000n)).toISOString();
}

function sqlString(s: string): string {
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

export interface AthenaQueryOptions {
  database: string;
  workgroup: string;
  /** s3://bucket/prefix/ for result files. */
  outputLocation: string;
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

/**
 * What `{{table}}` becomes on Athena. Firehose is at-least-once, so after a
 * replay the S3 lake can hold a row twice; rows are a pure function of the
 * tick, so the copies are identical and DISTINCT removes them exactly (the
 * local lake sink never writes them: see consumer/sinks/lake-sink.ts). Trino
 * pushes filters on these columns (dt included) below the DISTINCT, so
 * partition pruning still applies.
 */
export function athenaTable(database: string, dedup = true, range?: DateRange): string {
  const table = `"${database.replace(/"/g, '""')}"."ticks"`;
  const where = dtFilter(range);
  if (dedup) return `(SELECT DISTINCT * FROM ${table}${where}) ticks`;
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
        ResultConfiguration: { OutputLocation: opts.outputLocation },
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

/* ---------------------------------------------------------------- output */

function text(c: Cell): string {
  return c === null ? '' : String(c);
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function formatResult(res: QueryResult, format: OutputFormat): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(res.rows.map((r) => Object.fromEntries(res.columns.map((c, i) => [c, r[i] ?? null]))), null, 2)}\n`;
    case 'csv':
      return [res.columns, ...res.rows.map((r) => r.map(text))].map((r) => r.map(csvField).join(',')).join('\n') + '\n';
    case 'table': {
      const cells = res.rows.map((r) => r.map((c) => (c === null ? 'NULL' : String(c))));
      const widths = res.columns.map((c, i) => Math.max(c.length, ...cells.map((r) => (r[i] ?? '').length)));
      const numeric = res.columns.map((_, i) => res.rows.length > 0 && res.rows.every((r) => r[i] === null || typeof r[i] === 'number'));
      const line = (r: string[]): string => r.map((s, i) => (numeric[i] ? s.padStart(widths[i] ?? 0) : s.padEnd(widths[i] ?? 0))).join(' | ').trimEnd();
      const out = [line(res.columns), widths.map((w) => '-'.repeat(w)).join('-+-'), ...cells.map(line)];
      out.push(`(${res.rows.length} row${res.rows.length === 1 ? '' : 's'})`);
      return out.join('\n') + '\n';
    }
  }
}

/* ------------------------------------------------------------------- CLI */

export interface QueryCliConfig {
  mode: 'local' | 'aws';
  /** Local mode: the lake is `<dataDir>/lake` unless --lake says otherwise. */
  dataDir: string;
  region: string | undefined;
  endpoint: string | undefined;
  database: string | undefined;
  workgroup: string | undefined;
  outputLocation: string | undefined;
}

const QUERY_SETTINGS = {
  mode: { env: ENV.mode, schema: withDefault(oneOf(['local', 'aws']), 'local') },
  dataDir: { env: ENV.dataDir, schema: withDefault(textSetting(), 'data') },
  region: { env: ENV.region, schema: optional(textSetting()) },
  endpoint: { env: ENV.awsEndpoint, schema: optional(httpUrl()) },
  database: { env: ENV.glueDatabase, schema: optional(textSetting()) },
  workgroup: { env: ENV.athenaWorkgroup, schema: optional(textSetting()) },
  outputLocation: { env: ENV.athenaOutput, schema: optional(textSetting()) },
} as const satisfies Record<string, Setting<unknown>>;

/** The only place this CLI reads the environment. */
export function loadQueryCliConfig(env: Env): Readonly<QueryCliConfig> {
  const cfg: QueryCliConfig = readSettings(QUERY_SETTINGS, { env });
  return Object.freeze(cfg);
}

export class UsageError extends Error {}

export interface QueryArgs {
  query: string;
  format: OutputFormat;
  lake: string;
  range: DateRange;
}

export const USAGE = `usage: npm run query -- <name|SQL> [--format table|csv|json] [--lake <dir>] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--date YYYY-MM-DD]
  --from/--to/--date limit the dt partitions read (on Athena: what is scanned and billed)
  --lake defaults to $${ENV.dataDir}/lake (data/lake); ${ENV.mode}=aws queries Athena instead
named queries:
${NAMED_QUERY_NAMES.map((n) => `  ${n.padEnd(16)} ${NAMED_QUERIES[n].description}`).join('\n')}
SQL may name the table as ticks or {{table}}.`;

export function parseArgs(argv: readonly string[], cwd: string, dataDir = 'data'): QueryArgs {
  let query: string | undefined;
  let format: OutputFormat = 'table';
  let lake = path.resolve(cwd, dataDir, 'lake');
  const range: DateRange = {};
  const date = (flag: string, v: string): string => {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(v) || Number.isNaN(Date.parse(`${v}T00:00:00Z`))) throw new UsageError(`${flag} must be a date YYYY-MM-DD, got '${v}'`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--format') {
      const f = value();
      if (f !== 'table' && f !== 'csv' && f !== 'json') throw new UsageError(`--format must be table, csv or json, got '${f}'`);
      format = f;
    } else if (a === '--lake') {
      lake = path.resolve(cwd, value());
    } else if (a === '--from') {
      range.from = date(a, value());
    } else if (a === '--to') {
      range.to = date(a, value());
    } else if (a === '--date') {
      range.from = range.to = date(a, value());
    } else if (a === '--help' || a === '-h') {
      throw new UsageError('');
    } else if (a.startsWith('--')) {
      throw new UsageError(`unknown option ${a}`);
    } else if (query === undefined) {
      query = a;
    } else {
      throw new UsageError(`one query at a time (quote the SQL): unexpected '${a}'`);
    }
  }
  if (query === undefined) throw new UsageError('missing query name or SQL');
  if (range.from !== undefined && range.to !== undefined && range.from > range.to) throw new UsageError(`--from ${range.from} is after --to ${range.to}`);
  return { query, format, lake, range };
}

async function athenaFromConfig(cfg: QueryCliConfig): Promise<{ client: AthenaClient; opts: AthenaQueryOptions }> {
  const missing = [
    [ENV.glueDatabase, cfg.database],
    [ENV.athenaWorkgroup, cfg.workgroup],
    [ENV.athenaOutput, cfg.outputLocation],
  ].filter(([, v]) => !v);
  if (missing.length > 0) throw new UsageError(`AWS mode needs ${missing.map(([k]) => k).join(', ')}`);
  const { AthenaClient: Client } = await import('@aws-sdk/client-athena');
  const client = new Client({ ...(cfg.region ? { region: cfg.region } : {}), ...(cfg.endpoint ? { endpoint: cfg.endpoint } : {}) });
  return { client, opts: { database: cfg.database ?? '', workgroup: cfg.workgroup ?? '', outputLocation: cfg.outputLocation ?? '' } };
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv, out: NodeJS.WritableStream, cwd: string): Promise<number> {
  let args: QueryArgs;
  let cfg: Readonly<QueryCliConfig>;
  try {
    cfg = loadQueryCliConfig(env);
    args = parseArgs(argv, cwd, cfg.dataDir);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`query: invalid configuration: ${err.message}\n`);
      return EXIT_CONFIG;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message ? `${err.message}\n` : ''}${USAGE}\n`);
      return 2;
    }
    throw err;
  }
  try {
    const sql = resolveSql(args.query);
    let result: QueryResult;
    if (cfg.mode === 'aws') {
      const { client, opts } = await athenaFromConfig(cfg);
      result = await queryAthena(client, { ...opts, range: args.range }, sql);
    } else {
      result = await queryLocalLake(args.lake, sql, args.range);
    }
    out.write(formatResult(result, args.format));
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n${USAGE}\n`);
      return 2;
    }
    // A person reads this: one plain line, no stack (describeError strips secrets).
    process.stderr.write(`query failed: ${err instanceof QueryError ? err.message : describeError(err)}\n`);
    return 1;
  } finally {
    await closeDuckdb();
  }
}

if (require.main === module) {
  // `npm run query -- … | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  main(process.argv.slice(2), process.env, process.stdout, process.cwd()).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`${describeError(err)}\n`);
      process.exitCode = 1;
    },
  );
}
