/**
 * Query the tick lake with the named queries of shared/queries.ts or any SQL:
 * a thin CLI over the lake module (lake/), which holds both engines.
 *
 *   npm run query -- <name|SQL> [--format table|csv|json] [--lake <dir>] [--html <out.html>]
 *
 * Local mode (default): DuckDB over `<lake>/ticks/**\/*.parquet` exposed as a
 * view `ticks`. AWS mode (TICKSTREAM_MODE=aws): Athena, with the Glue
 * database, workgroup and output location from the environment. Either way
 * the same SQL text runs; `{{table}}` stands for the table.
 *
 * Results are printed to stdout (this is a CLI, not the consumer); errors go
 * to stderr as one plain line and the exit code is 1 (2 for bad usage).
 * With --html the result goes to a self-contained HTML file instead (a table,
 * and a chart where one fits; cli/report/), printed too only if --format is
 * given; the file's path and size go to stderr.
 */
import path from 'node:path';
import type { AthenaClient } from '@aws-sdk/client-athena';
import { queryAthena, type AthenaQueryOptions } from '../lake/athena';
import { queryLocalLake } from '../lake/duckdb';
import { QueryError, resolveSql, type DateRange, type QueryResult, type Cell } from '../lake/query';
import { describeError } from '../shared/describe-error';
import { ENV } from '../shared/env-names';
import { ConfigError, EXIT_CONFIG, httpUrl, oneOf, optional, readSettings, text as textSetting, withDefault, type Env, type Setting } from '../shared/runtime/config';
import { closeDuckdb } from '../shared/parquet';
import { NAMED_QUERIES, NAMED_QUERY_NAMES, isNamedQuery } from '../shared/queries';
import { ReportPathError, checkReportPath, htmlPathProblem, writeReport } from './report/output';
import { renderQueryHtml } from './report/query-html';

export type OutputFormat = 'table' | 'csv' | 'json';

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
  /** --html: the report file, and whether --format asked for stdout as well. */
  html?: { file: string; alsoPrint: boolean };
}

export const USAGE = `usage: npm run query -- <name|SQL> [--format table|csv|json] [--lake <dir>] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--date YYYY-MM-DD] [--html <out.html>]
  --html writes the result as an HTML report (a table, and a chart where one fits) instead of printing it (also printed with --format)
  --from/--to/--date limit the dt partitions read (on Athena: what is scanned and billed)
  --lake defaults to $${ENV.dataDir}/lake (data/lake); ${ENV.mode}=aws queries Athena instead
named queries:
${NAMED_QUERY_NAMES.map((n) => `  ${n.padEnd(16)} ${NAMED_QUERIES[n].description}`).join('\n')}
SQL may name the table as ticks or {{table}}.`;

export function parseArgs(argv: readonly string[], cwd: string, dataDir = 'data'): QueryArgs {
  let query: string | undefined;
  let format: OutputFormat = 'table';
  let formatGiven = false;
  let html: string | undefined;
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
      formatGiven = true;
    } else if (a === '--html') {
      html = value();
      const problem = htmlPathProblem(html);
      if (problem !== null) throw new UsageError(problem);
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
  return { query, format, lake, range, ...(html === undefined ? {} : { html: { file: html, alsoPrint: formatGiven } }) };
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
    // Before the query, which may scan (and on Athena bill) a lot.
    if (args.html) await checkReportPath(args.html.file);
    const sql = resolveSql(args.query);
    let result: QueryResult;
    let source: string;
    if (cfg.mode === 'aws') {
      const { client, opts } = await athenaFromConfig(cfg);
      result = await queryAthena(client, { ...opts, range: args.range }, sql);
      source = `Athena (database ${opts.database})`;
    } else {
      result = await queryLocalLake(args.lake, sql, args.range);
      source = `the local lake ${args.lake}`;
    }
    if (!args.html || args.html.alsoPrint) out.write(formatResult(result, args.format));
    if (args.html) {
      const named = isNamedQuery(args.query) ? args.query : null;
      const html = renderQueryHtml({
        title: named ?? 'SQL query',
        description: named === null ? null : NAMED_QUERIES[named].description,
        sql,
        source,
        result,
        generatedAt: Date.now(),
      });
      process.stderr.write(`${await writeReport(args.html.file, html)}\n`);
    }
    return 0;
  } catch (err) {
    if (err instanceof ReportPathError) {
      process.stderr.write(`query: ${err.message}\n`);
      return 1;
    }
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
