/**
 * The local lake: what Firehose + record format conversion produce in AWS,
 * written here with DuckDB. Snappy Parquet under
 * `<dataDir>/lake/ticks/dt=YYYY-MM-DD/<worker>-<shard>-<firstTs>-<rand>.parquet`,
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
 * once per process, lazily, from the files themselves (one DuckDB scan of
 * `symbol, ts`). That is sound because the KCL MultiLangDaemon runs one
 * processor process per shard lease, and a symbol lives on one shard at a
 * time: a new owner is a new process that rereads the lake. (A zombie that
 * flushes after losing its lease can still duplicate rows; KCL cannot fence
 * that for non-KCL writes.)
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { EnrichedTick } from '../../shared/enriched';
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
  /** Highest ts per symbol already in the lake or in the buffer. */
  private hwm: Map<string, number> | undefined;
  private hwmLoading: Promise<Map<string, number>> | undefined;
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
    const hwm = this.opts.dedupAgainstLake === false ? undefined : await this.highWaterMarks();
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
    const first = rows[0]?.ts ?? 0;
    return `${safeToken(this.opts.workerId)}-${safeToken(this.opts.shardId)}-${first}-${randomBytes(4).toString('hex')}.parquet`;
  }

  private highWaterMarks(): Promise<Map<string, number>> {
    if (this.hwm) return Promise.resolve(this.hwm);
    this.hwmLoading ??= readLakeHighWaterMarks(this.opts.dataDir).then(
      (m) => (this.hwm = m),
      (err: unknown) => {
        this.hwmLoading = undefined; // let the next write try again
        throw err;
      },
    );
    return this.hwmLoading;
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
    this.hwm = undefined;
    this.hwmLoading = undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }
}

/** max(ts) per symbol over every Parquet file of the lake (epoch ms). */
export async function readLakeHighWaterMarks(dataDir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const dir = lakeTicksDir(dataDir);
  if (!existsSync(dir)) return out;
  const glob = path.join(dir, '**', '*.parquet').replace(/'/g, "''");
  const conn = await (await duckdb()).connect();
  try {
    const files = await conn.runAndReadAll(`SELECT count(*) AS n FROM glob('${glob}')`);
    if (Number(files.getRowObjects()[0]?.n ?? 0) === 0) return out;
    const res = await conn.runAndReadAll(`SELECT symbol, CAST(epoch_ms(max(ts)) AS DOUBLE) AS hwm FROM read_parquet('${glob}') GROUP BY symbol`);
    for (const row of res.getRowObjects()) out.set(String(row.symbol), Number(row.hwm));
    return out;
  } catch (err) {
    throw new SinkWriteError('lake', `reading the lake's high-water marks failed: ${describeError(err)}`, { cause: err });
  } finally {
    conn.closeSync();
  }
}
