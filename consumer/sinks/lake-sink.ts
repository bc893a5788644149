/**
 * The local lake: what Firehose + record format conversion produce in AWS,
 * written here with DuckDB. Snappy Parquet under
 * `<dataDir>/lake/ticks/dt=YYYY-MM-DD/<worker>-<shard>-<firstTs>_<lastTs>-<rand>.parquet`,
 * the columns of the Glue table (shared/enriched.ts), `dt` as the Hive
 * partition directory.
 *
 * Buffered like Firehose: rows collect in memory and are written when the
 * buffer reaches `maxRows` or `maxBytes`, when `flushIntervalMs` has passed
 * since the first buffered row, and whenever flush() is called. The
 * processor calls flush() before each checkpoint, so checkpoint frequency
 * bounds how large files get: a checkpoint can never pass rows that are only
 * in memory.
 *
 * Exactly-once rows across replays and lease moves: a record replayed after a
 * crash between "lake flushed" and "state saved" would otherwise be appended
 * twice. Because a symbol's ticks are applied in ts order and each file
 * appears atomically (temp + rename), the lake always holds a prefix of every
 * symbol's ticks, so max(ts) per symbol in the lake is an exact high-water
 * mark: rows at or below it are already there and are dropped. It is read
 * lazily from the files themselves, once per symbol, when the symbol's first
 * row reaches this sink; the lookup reads only the files that can hold a row
 * at or after that row's ts (the file name carries its last ts and the
 * directory its UTC date), because a symbol's later rows are newer still
 * (the processor applies a symbol's ticks in ts order and skips the rest as
 * duplicates). So a processor's start costs what the recent lake holds, not
 * every file ever written: a full scan of a 5,000-file lake cost each new
 * processor 0.7 s of CPU and 140 MB of RSS. That is sound because the KCL
 * MultiLangDaemon runs one processor process per shard lease, and a symbol
 * lives on one shard at a time: a new owner is a new process that rereads
 * the lake. (A zombie that flushes after losing its lease can still
 * duplicate rows; KCL cannot fence that for non-KCL writes.)
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { dtOf, type EnrichedTick } from '../../shared/enriched';
import type { Logger } from '../../shared/logger';
import { duckdb, writeEnrichedParquet } from '../../shared/parquet';
import { SinkWriteError } from '../errors';
import { describeError } from '../../shared/describe-error';
import type { TickSink } from '../ports';
import { safeToken } from './util';

export interface LakeSinkOptions {
  /** The lake goes to `<dataDir>/lake/ticks/`. */
  dataDir: string;
  /** Go into file names, so two workers never pick the same name. */
  workerId: string;
  shardId: string;
  /** Default 100,000 rows. */
  maxRows?: number;
  /** Approximate in-memory bytes; default 64 MiB (Firehose's Parquet minimum). */
  maxBytes?: number;
  /** Default 60 s (Firehose's minimum buffer interval). 0 disables the timer. */
  flushIntervalMs?: number;
  /** Drop rows the lake already holds (see above). Default true. */
  dedupAgainstLake?: boolean;
  logger?: Logger;
}

/** Rough in-memory size of a row: 22 columns of 8 bytes + strings. */
function approxBytes(r: EnrichedTick): number {
  return 200 + 2 * (r.symbol.length + r.source.length + (r.market_state?.length ?? 0));
}

export function lakeTicksDir(dataDir: string): string {
  return path.join(dataDir, 'lake', 'ticks');
}

export class LakeSink implements TickSink {
  readonly name = 'lake';
  private buffer: EnrichedTick[] = [];
  private bufferBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Serialises flushes: one file set at a time keeps the high-water marks exact. */
  private flushing: Promise<void> = Promise.resolve();
  /** Highest ts per symbol already in the lake or in the buffer; -Infinity
   *  when the lake holds none at or after the symbol's first row here. */
  private hwm = new Map<string, number>();
  /** Serialises lookups, so two writes never look one symbol up twice. */
  private lookups: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly maxRows: number;
  private readonly maxBytes: number;
  private readonly intervalMs: number;
  /** Rows written to files / dropped as already in the lake, since start. */
  readonly stats = { rowsWritten: 0, filesWritten: 0, duplicatesDropped: 0 };

  constructor(private readonly opts: LakeSinkOptions) {
    this.maxRows = opts.maxRows ?? 100_000;
    this.maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
    this.intervalMs = opts.flushIntervalMs ?? 60_000;
  }

  async write(rows: readonly EnrichedTick[]): Promise<void> {
    if (this.closed) throw new SinkWriteError(this.name, 'write after close');
    const hwm = this.opts.dedupAgainstLake === false ? undefined : await this.highWaterMarks(rows);
    for (const r of rows) {
      if (hwm) {
        const seen = hwm.get(r.symbol);
        if (seen !== undefined && r.ts <= seen) {
          this.stats.duplicatesDropped++;
          continue;
        }
        hwm.set(r.symbol, r.ts);
      }
      this.buffer.push(r);
      this.bufferBytes += approxBytes(r);
    }
    if (this.buffer.length >= this.maxRows || this.bufferBytes >= this.maxBytes) {
      // Backpressure: the caller waits for the file rather than growing memory.
      await this.flush();
    } else if (this.buffer.length > 0) {
      this.armTimer();
    }
  }

  private armTimer(): void {
    if (this.timer || this.intervalMs <= 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush().catch((err: unknown) => {
        // The rows stay buffered; the next flush() (the processor's, before
        // its checkpoint) retries them and reports the error to its caller.
        this.opts.logger?.error('timed lake flush failed, will retry', { error: describeError(err) });
      });
    }, this.intervalMs);
    // A pending buffer timer must not keep a finished process alive.
    this.timer.unref();
  }

  flush(): Promise<void> {
    const run = this.flushing.then(() => this.flushNow());
    this.flushing = run.catch(() => undefined);
    return run;
  }

  private async flushNow(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.buffer.length === 0) return;
    const rows = this.buffer;
    this.buffer = [];
    this.bufferBytes = 0;
    const byDt = new Map<string, EnrichedTick[]>();
    for (const r of rows) {
      let list = byDt.get(r.dt);
      if (!list) byDt.set(r.dt, (list = []));
      list.push(r);
    }
    // Ascending dt, stopping at the first failure: a crash or an error then
    // leaves every symbol's rows in the lake as a prefix of its ticks, which
    // is what makes max(ts) per symbol a sound high-water mark. (A symbol's
    // later partition written before its earlier one would hide the gap.)
    const partitions = [...byDt.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (let p = 0; p < partitions.length; p++) {
      const [dt, list] = partitions[p] as [string, EnrichedTick[]];
      const file = path.join(lakeTicksDir(this.opts.dataDir), `dt=${dt}`, this.fileName(list));
      try {
        await writeEnrichedParquet(list, file);
        this.stats.rowsWritten += list.length;
        this.stats.filesWritten++;
      } catch (err) {
        const unwritten = new Set(partitions.slice(p).flatMap(([, l]) => l));
        // Back in front of anything written meanwhile, in their original order.
        this.buffer = rows.filter((r) => unwritten.has(r)).concat(this.buffer);
        this.bufferBytes = this.buffer.reduce((n, r) => n + approxBytes(r), 0);
        this.armTimer();
        throw new SinkWriteError(this.name, `writing ${unwritten.size} row(s) to the lake failed: ${describeError(err)}`, { cause: err });
      }
    }
    this.opts.logger?.debug('lake flushed', { rows: rows.length, files: byDt.size });
  }

  private fileName(rows: readonly EnrichedTick[]): string {
    let first = Infinity;
    let last = -Infinity;
    for (const r of rows) {
      if (r.ts < first) first = r.ts;
      if (r.ts > last) last = r.ts;
    }
    return `${safeToken(this.opts.workerId)}-${safeToken(this.opts.shardId)}-${first}_${last}-${randomBytes(4).toString('hex')}.parquet`;
  }

  /** The marks, with every symbol of `rows` not seen before looked up in the lake. */
  private highWaterMarks(rows: readonly EnrichedTick[]): Promise<Map<string, number>> {
    const run = this.lookups.then(async () => {
      // A symbol's first row in the batch is its oldest (ts order per symbol).
      const fresh = new Map<string, number>();
      for (const r of rows) if (!this.hwm.has(r.symbol) && !fresh.has(r.symbol)) fresh.set(r.symbol, r.ts);
      if (fresh.size === 0) return;
      let fromTs = Infinity;
      for (const ts of fresh.values()) if (ts < fromTs) fromTs = ts;
      // On failure nothing is recorded, so the next write looks them up again.
      const found = await readLakeHighWaterMarks(this.opts.dataDir, { symbols: [...fresh.keys()], fromTs });
      for (const symbol of fresh.keys()) this.hwm.set(symbol, found.get(symbol) ?? -Infinity);
    });
    this.lookups = run.catch(() => undefined);
    return run.then(() => this.hwm);
  }

  /**
   * Drop the buffered rows unwritten: the shard's lease is lost, they are
   * past its last checkpoint, and the new owner replays them. Flushing them
   * later (timer, close) would duplicate them in the lake once the new owner
   * has read its high-water marks. Those marks counted the dropped rows, so
   * they are forgotten too and re-read should this sink write again.
   */
  discard(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.buffer = [];
    this.bufferBytes = 0;
    this.hwm = new Map();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }
}

/** `<first>_<last>-<rand>.parquet`: the last ts a file holds, from its name (files of older versions carry none). */
const LAST_TS = /-\d+_(\d+)-[0-9a-f]+\.parquet$/;

/**
 * The lake files that can hold a row with ts >= `fromTs`: partitions of that
 * UTC date or later, and in them every file whose name says its last ts is
 * not older (or says nothing). Temp files (`.tmp-…`) never match.
 */
export async function lakeFilesFrom(dataDir: string, fromTs: number): Promise<string[]> {
  const dir = lakeTicksDir(dataDir);
  if (!existsSync(dir)) return [];
  const fromDt = Number.isFinite(fromTs) ? `dt=${dtOf(fromTs)}` : '';
  const out: string[] = [];
  for (const part of (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory() && d.name.startsWith('dt=') && d.name >= fromDt)) {
    for (const name of await readdir(path.join(dir, part.name))) {
      if (!name.endsWith('.parquet') || name.startsWith('.')) continue;
      const last = LAST_TS.exec(name)?.[1];
      if (last === undefined || Number(last) >= fromTs) out.push(path.join(dir, part.name, name));
    }
  }
  return out;
}

const sqlQuote = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/**
 * max(ts) per symbol (epoch ms) over the lake's files; with `fromTs`, only
 * over the files that can hold a row at or after it (a symbol whose rows are
 * all older is absent), and with `symbols`, only those symbols.
 */
export async function readLakeHighWaterMarks(dataDir: string, scope: { readonly symbols?: readonly string[]; readonly fromTs?: number } = {}): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const files = await lakeFilesFrom(dataDir, scope.fromTs ?? -Infinity);
  // No file, no DuckDB: a processor on a fresh lake never loads it to read.
  if (files.length === 0 || scope.symbols?.length === 0) return out;
  const where = scope.symbols === undefined ? '' : ` WHERE symbol IN (${scope.symbols.map(sqlQuote).join(', ')})`;
  const conn = await (await duckdb()).connect();
  try {
    const res = await conn.runAndReadAll(`SELECT symbol, CAST(epoch_ms(max(ts)) AS DOUBLE) AS hwm FROM read_parquet([${files.map(sqlQuote).join(', ')}])${where} GROUP BY symbol`);
    for (const row of res.getRowObjects()) out.set(String(row.symbol), Number(row.hwm));
    return out;
  } catch (err) {
    throw new SinkWriteError('lake', `reading the lake's high-water marks failed: ${describeError(err)}`, { cause: err });
  } finally {
    conn.closeSync();
  }
}
