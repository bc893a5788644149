/**
 * Snappy Parquet writer for enriched ticks, shared by the local lake sink and
 * the backtest CLI. The Parquet schema is derived from ENRICHED_COLUMNS, the
 * same list the Glue table and the Firehose JSON come from.
 *
 * `dt` is not a Parquet column: it is the Hive partition directory
 * (`dt=YYYY-MM-DD/`), exactly as Firehose dynamic partitioning + Glue lay it out.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api';
import { DuckDBDataChunk, DuckDBInstance, DuckDBTimestampValue, DOUBLE, VARCHAR, BOOLEAN, BIGINT, TIMESTAMP } from '@duckdb/node-api';
import type { DuckDBType, DuckDBValue } from '@duckdb/node-api';
import type { ColumnType, EnrichedTick } from './enriched';
import { ENRICHED_COLUMNS, duckdbType } from './enriched';

let instancePromise: Promise<DuckDBInstance> | undefined;

/** One in-memory DuckDB per process: creating an instance costs ~tens of ms
 *  and a thread pool; each write takes its own connection instead. */
export function duckdb(): Promise<DuckDBInstance> {
  instancePromise ??= DuckDBInstance.create(':memory:', { threads: '2' });
  return instancePromise;
}

/** Release the process-wide instance (tests, CLI exit). Safe to call twice. */
export async function closeDuckdb(): Promise<void> {
  const p = instancePromise;
  instancePromise = undefined;
  if (p) (await p).closeSync();
}

function logicalType(t: ColumnType): DuckDBType {
  switch (t) {
    case 'string':
      return VARCHAR;
    case 'double':
      return DOUBLE;
    case 'bigint':
      return BIGINT;
    case 'boolean':
      return BOOLEAN;
    case 'timestamp':
      return TIMESTAMP;
  }
}

const CHUNK_TYPES: readonly DuckDBType[] = ENRICHED_COLUMNS.map((c) => logicalType(c.type));
/** DuckDB's vector size: a data chunk holds at most this many rows. */
const CHUNK_ROWS = 2048;

const CREATE_COLUMNS = ENRICHED_COLUMNS.map((c) => `"${c.name}" ${duckdbType(c.type)}${c.nullable ? '' : ' NOT NULL'}`).join(', ');

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

type Converter = (v: unknown) => DuckDBValue;
const identity: Converter = (v) => (v ?? null) as DuckDBValue;
/** ts/produced_at are epoch ms in JSON; DuckDB TIMESTAMP is microseconds. */
const fromEpochMs: Converter = (v) => (v === null || v === undefined ? null : new DuckDBTimestampValue(BigInt(v as number) * 1000n));
const toBigInt: Converter = (v) => (v === null || v === undefined ? null : BigInt(v as number));
function converterFor(t: ColumnType): Converter {
  return t === 'timestamp' ? fromEpochMs : t === 'bigint' ? toBigInt : identity;
}
/** Resolved once per column, not per value. */
const CONVERTERS: readonly { name: string; convert: Converter }[] = ENRICHED_COLUMNS.map((c) => ({
  name: c.name,
  convert: converterFor(c.type),
}));

/**
 * Fill the temp table column by column in 2048-row data chunks: one N-API
 * call per column per chunk instead of one per value, which is what makes
 * Appender.appendX row by row slow (see bench/consumer.ts for the figures).
 */
function appendRows(appender: DuckDBAppender, rows: readonly EnrichedTick[]): void {
  for (let start = 0; start < rows.length; start += CHUNK_ROWS) {
    const end = Math.min(rows.length, start + CHUNK_ROWS);
    const chunk = DuckDBDataChunk.create(CHUNK_TYPES, end - start);
    const columns = CONVERTERS.map(({ name, convert }) => {
      const col = new Array<DuckDBValue>(end - start);
      for (let i = start; i < end; i++) col[i - start] = convert((rows[i] as unknown as Record<string, unknown>)[name]);
      return col;
    });
    chunk.setColumns(columns);
    appender.appendDataChunk(chunk);
  }
  appender.flushSync();
}

/**
 * Write `rows` as one Snappy Parquet file at `finalPath`. The file appears
 * atomically: it is written to a hidden temp file in the same directory and
 * renamed, so a reader (DuckDB glob, Athena) never sees a half-written file
 * and a crash leaves only a `.tmp-*` file that no `*.parquet` glob matches.
 */
export async function writeEnrichedParquet(rows: readonly EnrichedTick[], finalPath: string): Promise<void> {
  const dir = path.dirname(finalPath);
  await mkdir(dir, { recursive: true });
  const tmpPath = path.join(dir, `.tmp-${path.basename(finalPath)}-${randomBytes(6).toString('hex')}`);
  const table = `t_${randomBytes(6).toString('hex')}`;
  const conn: DuckDBConnection = await (await duckdb()).connect();
  try {
    await conn.run(`CREATE TEMP TABLE ${table} (${CREATE_COLUMNS})`);
    const appender = await conn.createAppender(table);
    try {
      appendRows(appender, rows);
    } finally {
      appender.closeSync();
    }
    await conn.run(`COPY ${table} TO ${sqlString(tmpPath)} (FORMAT parquet, COMPRESSION snappy)`);
    await rename(tmpPath, finalPath);
  } catch (err) {
    await rm(tmpPath, { force: true });
    throw err;
  } finally {
    try {
      await conn.run(`DROP TABLE IF EXISTS ${table}`);
    } finally {
      conn.closeSync();
      collectNativeGarbage();
    }
  }
}

/**
 * The data chunks, appender and results of a write hold native DuckDB memory
 * that is freed only when V8 collects their JS wrappers, and a record
 * processor's JS heap grows too little for V8 to collect often: measured,
 * 3,000 writes of 40 rows took a process from 89 to 181 MB RSS, which the
 * 60-minute soak saw as every local record processor growing ~30 MB per 10
 * minutes. The wrappers die young, so a minor collection (a scavenge) after
 * each write is enough: the same 3,000 writes stay at 102-108 MB, and a write
 * still takes ~7 ms (a full collection also kept it flat but cost ~18 ms).
 * Only where the process allows it (the local record processors run with
 * --expose-gc, local/pipeline.ts); elsewhere this is a no-op.
 */
function collectNativeGarbage(): void {
  (globalThis as { gc?: (o?: { type: 'minor' | 'major' }) => void }).gc?.({ type: 'minor' });
}
