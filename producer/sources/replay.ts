import { createReadStream } from 'node:fs';
import { basename, extname } from 'node:path';
import { createInterface } from 'node:readline';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Logger } from '../../shared/logger';
import { TICK_SCHEMA_VERSION, tickProblem, timeProblem, type Tick } from '../../shared/tick';
import { REFUSALS_LOGGED_PER_REASON } from '../kinesis-writer';
import { systemClock, type Clock } from '../clock';
import { ReplayFormatError } from '../errors';
import { ProducerMetrics } from '../metrics';
import type { TickSource } from './source';

/**
 * Replays historical OHLCV bars as ticks, for backfills and demos.
 *
 * Inputs:
 * - CSV with header `timestamp,open,high,low,close,volume` (any column order,
 *   extra columns ignored), either one symbol per file (the symbol comes from
 *   the `symbol` option or the file name, `AAPL.csv` / `aapl_1m.csv` → AAPL)
 *   or with a `symbol` column. Rows must be in time order within a file.
 * - Parquet with the same columns, read through DuckDB in time order.
 *
 * Timestamps: ISO 8601 (`2024-01-02T14:30:00Z`, `2024-01-02 09:30:00`,
 * `2024-01-02`) or epoch seconds/milliseconds. **A timestamp without a zone
 * is taken as UTC**, so `ts` and the lake's `dt` partition are stable no
 * matter which machine replays the file.
 *
 * Several inputs are merged in time order with a streaming k-way merge: only
 * one pending bar per input is held in memory, so a file of millions of rows
 * costs no more memory than a file of ten.
 *
 * `previousClose` of a tick is the last close of that symbol's previous UTC
 * calendar date in the data; on the first date in the data, where none
 * exists, the first bar's open stands in.
 */
export interface ReplaySourceOptions {
  readonly csvFiles?: readonly string[];
  readonly parquetFiles?: readonly string[];
  /** Symbol for single-symbol files without a `symbol` column. */
  readonly symbol?: string;
  /** 1 = real time, 60 = one minute of market time per second, Infinity = max. */
  readonly speed?: number;
  /**
   * Start over at the end. Each pass is shifted forward by whole days (the
   * data's span rounded up), so ticks stay strictly increasing per symbol and
   * keep their time of day.
   */
  readonly loop?: boolean;
  /** Ticks per yielded batch at most. */
  readonly batchSize?: number;
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly metrics?: ProducerMetrics;
}

export interface Bar {
  symbol: string;
  ts: number;
  open: number;
  close: number;
  volume: number;
}

const DAY_MS = 86_400_000;
const SYMBOL_RE = /^[A-Z0-9.^=-]{1,20}$/;

/** Parse a bar timestamp to epoch ms; zone-less values are UTC. */
export function parseTimestamp(raw: string): number | undefined {
  const v = raw.trim();
  if (/^\d+(\.\d+)?$/.test(v)) {
    const n = Number(v);
    // Epoch seconds until the year 2286, milliseconds after that.
    return n < 1e10 ? Math.round(n * 1000) : Math.round(n);
  }
  let iso = v.replace(' ', 'T');
  if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) iso += 'T00:00:00Z';
  else if (!/(Z|[+-]\d{2}:?\d{2})$/i.test(iso)) iso += 'Z';
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms;
}

export function symbolFromFileName(file: string): string | undefined {
  const stem = basename(file, extname(file)).split(/[_\s]/)[0]?.toUpperCase();
  return stem !== undefined && SYMBOL_RE.test(stem) ? stem : undefined;
}

/** Streams bars from a CSV file, row by row. */
async function* readCsvBars(file: string, symbolOption: string | undefined, onBad: (line: number, reason: string) => void): AsyncGenerator<Bar> {
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let header: string[] | undefined;
  let idx: Record<'timestamp' | 'open' | 'close' | 'volume', number> & { symbol: number } = { timestamp: -1, open: -1, close: -1, volume: -1, symbol: -1 };
  let fileSymbol: string | undefined;
  const lastTs = new Map<string, number>();
  let lineNo = 0;
  try {
    for await (const line of lines) {
      lineNo++;
      if (line.trim() === '') continue;
      const cells = line.split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
      if (header === undefined) {
        header = cells.map((c) => c.toLowerCase());
        const col = (name: string): number => header?.indexOf(name) ?? -1;
        idx = { timestamp: col('timestamp'), open: col('open'), close: col('close'), volume: col('volume'), symbol: col('symbol') };
        const missing = (['timestamp', 'open', 'close', 'volume'] as const).filter((k) => idx[k] < 0);
        if (missing.length > 0) throw new ReplayFormatError(file, 1, `header lacks ${missing.join(', ')} (expected timestamp,open,high,low,close,volume)`);
        if (idx.symbol < 0) {
          fileSymbol = symbolOption ?? symbolFromFileName(file);
          if (fileSymbol === undefined) throw new ReplayFormatError(file, 1, 'no symbol column, no symbol option, and the file name is not a symbol');
        }
        continue;
      }
      const symbol = idx.symbol >= 0 ? (cells[idx.symbol] ?? '').toUpperCase() : (fileSymbol as string);
      const ts = parseTimestamp(cells[idx.timestamp] ?? '');
      const open = Number(cells[idx.open]);
      const close = Number(cells[idx.close]);
      const volume = Number(cells[idx.volume]);
      if (!SYMBOL_RE.test(symbol)) onBad(lineNo, `bad symbol ${JSON.stringify(symbol)}`);
      else if (ts === undefined) onBad(lineNo, `bad timestamp ${JSON.stringify(cells[idx.timestamp])}`);
      else if (timeProblem(ts) !== undefined) onBad(lineNo, timeProblem(ts)!);
      else if (!(close > 0) || !Number.isFinite(close)) onBad(lineNo, `bad close ${JSON.stringify(cells[idx.close])}`);
      else if (!(volume >= 0) || !Number.isFinite(volume)) onBad(lineNo, `bad volume ${JSON.stringify(cells[idx.volume])}`);
      else {
        const prev = lastTs.get(symbol);
        if (prev !== undefined && ts < prev) throw new ReplayFormatError(file, lineNo, `rows are not in time order for ${symbol}; sort the file by timestamp`);
        lastTs.set(symbol, ts);
        yield { symbol, ts, open: open > 0 && Number.isFinite(open) ? open : close, close, volume };
      }
    }
  } catch (err) {
    if (err instanceof ReplayFormatError) throw err;
    throw new ReplayFormatError(file, lineNo || undefined, (err as Error).message, { cause: err });
  } finally {
    lines.close();
  }
  if (header === undefined) throw new ReplayFormatError(file, undefined, 'empty file');
}

/** Streams bars from a Parquet file through DuckDB, in time order, chunk by chunk. */
async function* readParquetBars(file: string, symbolOption: string | undefined): AsyncGenerator<Bar> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await conn.run("SET TimeZone = 'UTC'");
    const path = file.replace(/'/g, "''");
    const described = await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${path}')`);
    const columns = new Set(described.getRows().map((r) => String(r[0]).toLowerCase()));
    for (const c of ['timestamp', 'open', 'close', 'volume']) if (!columns.has(c)) throw new ReplayFormatError(file, undefined, `Parquet file lacks column ${c}`);
    let symbolExpr = 'symbol';
    if (!columns.has('symbol')) {
      const s = symbolOption ?? symbolFromFileName(file);
      if (s === undefined) throw new ReplayFormatError(file, undefined, 'no symbol column, no symbol option, and the file name is not a symbol');
      symbolExpr = `'${s}'`;
    }
    // Numeric timestamps are epoch seconds or ms (like CSV); anything else
    // goes through TIMESTAMP, where a zone-less value is UTC.
    const result = await conn.stream(
      `SELECT upper(CAST(${symbolExpr} AS VARCHAR)) AS symbol,
              CASE WHEN typeof("timestamp") IN ('BIGINT','INTEGER','DOUBLE','HUGEINT','UBIGINT','FLOAT','DECIMAL')
                   THEN CASE WHEN CAST("timestamp" AS DOUBLE) < 1e10 THEN CAST("timestamp" AS DOUBLE) * 1000 ELSE CAST("timestamp" AS DOUBLE) END
                   ELSE CAST(epoch_ms(CAST("timestamp" AS TIMESTAMP)) AS DOUBLE) END AS ts,
              CAST(open AS DOUBLE) AS open, CAST(close AS DOUBLE) AS close, CAST(volume AS DOUBLE) AS volume
         FROM read_parquet('${path}')
        ORDER BY ts, symbol`,
    );
    for (;;) {
      const chunk = await result.fetchChunk();
      if (chunk === null || chunk.rowCount === 0) break;
      for (const [symbol, ts, open, close, volume] of chunk.getRows()) {
        const c = Number(close);
        const o = Number(open);
        yield { symbol: String(symbol), ts: Number(ts), open: o > 0 ? o : c, close: c, volume: Number(volume) };
      }
    }
  } catch (err) {
    if (err instanceof ReplayFormatError) throw err;
    throw new ReplayFormatError(file, undefined, (err as Error).message, { cause: err });
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/** A binary min-heap keyed by (ts, input index) so equal timestamps keep input order. */
class MergeHeap<T extends { ts: number; input: number }> {
  private readonly a: T[] = [];
  get size(): number {
    return this.a.length;
  }
  private less(x: T, y: T): boolean {
    return x.ts < y.ts || (x.ts === y.ts && x.input < y.input);
  }
  push(v: T): void {
    const a = this.a;
    a.push(v);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(a[i] as T, a[p] as T)) break;
      [a[i], a[p]] = [a[p] as T, a[i] as T];
      i = p;
    }
  }
  pop(): T | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l] as T, a[m] as T)) m = l;
        if (r < a.length && this.less(a[r] as T, a[m] as T)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m] as T, a[i] as T];
        i = m;
      }
    }
    return top;
  }
}

/** k-way merge of time-ordered bar streams into one time-ordered stream. */
export async function* mergeBars(inputs: readonly AsyncIterator<Bar>[]): AsyncGenerator<Bar> {
  const heap = new MergeHeap<Bar & { input: number }>();
  try {
    await Promise.all(
      inputs.map(async (it, input) => {
        const r = await it.next();
        if (r.done !== true) heap.push({ ...r.value, input });
      }),
    );
    while (heap.size > 0) {
      const top = heap.pop() as Bar & { input: number };
      const { input, ...bar } = top;
      yield bar;
      const r = await (inputs[input] as AsyncIterator<Bar>).next();
      if (r.done !== true) heap.push({ ...r.value, input });
    }
  } finally {
    // Closing the inputs releases file handles and DuckDB connections early.
    await Promise.all(inputs.map(async (it) => it.return?.()));
  }
}

interface SymbolDayState {
  day: number;
  lastClose: number;
  previousClose: number;
  lastTs: number;
}

export class ReplaySource implements TickSource {
  readonly name = 'replay' as const;
  readonly metrics: ProducerMetrics;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly speed: number;
  private readonly batchSize: number;
  private readonly days = new Map<string, SymbolDayState>();

  constructor(private readonly opts: ReplaySourceOptions) {
    if ((opts.csvFiles?.length ?? 0) + (opts.parquetFiles?.length ?? 0) === 0) throw new ReplayFormatError('(none)', undefined, 'no replay input files');
    this.log = opts.logger.child({ component: 'replay-source' });
    this.clock = opts.clock ?? systemClock;
    this.metrics = opts.metrics ?? new ProducerMetrics();
    this.speed = opts.speed ?? 1;
    if (!(this.speed > 0)) throw new RangeError(`speed must be > 0, got ${this.speed}`);
    this.batchSize = opts.batchSize ?? 500;
  }

  private open(): AsyncIterator<Bar>[] {
    const onBad = (file: string) => (line: number, reason: string) => {
      this.metrics.inc('replay.bad_rows');
      // The count's key is the reason without the value ("bad timestamp"),
      // the log line has the value and where it is.
      const n = this.metrics.refuse(reason.replace(/\s+".*$/s, ''));
      // A broken file can have a million bad rows; the count says the rest.
      if (n <= REFUSALS_LOGGED_PER_REASON) this.log.warn('replay row refused', { file, line, reason });
    };
    return [
      ...(this.opts.csvFiles ?? []).map((f) => readCsvBars(f, this.opts.symbol, onBad(f))[Symbol.asyncIterator]()),
      ...(this.opts.parquetFiles ?? []).map((f) => readParquetBars(f, this.opts.symbol)[Symbol.asyncIterator]()),
    ];
  }

  async *ticks(signal: AbortSignal): AsyncIterable<readonly Tick[]> {
    let shift = 0;
    for (let pass = 0; !signal.aborted; pass++) {
      let first: number | undefined;
      let last: number | undefined;
      let wallStart = 0;
      let batch: Tick[] = [];
      for await (const bar of mergeBars(this.open())) {
        if (signal.aborted) return;
        first ??= bar.ts;
        last = bar.ts;
        const tick = this.toTick(bar, shift);
        if (tick === undefined) continue;
        if (Number.isFinite(this.speed)) {
          // Pace by market time: bar at T goes out at wallStart + (T - first) / speed.
          if (wallStart === 0) wallStart = this.clock.now();
          const due = wallStart + (bar.ts - first) / this.speed;
          const wait = due - this.clock.now();
          if (wait > 0) {
            if (batch.length > 0) {
              yield batch;
              batch = [];
            }
            await this.clock.sleep(wait, signal);
            if (signal.aborted) return;
          }
        }
        batch.push(tick);
        if (batch.length >= this.batchSize) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length > 0) yield batch;
      this.log.info('replay pass finished', { pass, ticks: this.metrics.get('replay.ticks') });
      if (this.opts.loop !== true || first === undefined || last === undefined) return;
      shift += Math.ceil((last - first + 1) / DAY_MS) * DAY_MS;
    }
  }

  /**
   * A bar becomes a tick, or is refused (counted by reason, the first few
   * logged). A refused bar changes nothing: not the symbol's day, nor the
   * close that becomes the next day's previous close, so one bad price or
   * timestamp cannot spoil the ticks after it.
   */
  private toTick(bar: Bar, shift: number): Tick | undefined {
    const ts = bar.ts + shift;
    const day = Math.floor(ts / DAY_MS);
    const s = this.days.get(bar.symbol);
    if (s !== undefined && ts <= s.lastTs) {
      this.metrics.inc('replay.duplicate_ts');
      return undefined;
    }
    const newDay = s !== undefined && day > s.day;
    const tick = {
      v: TICK_SCHEMA_VERSION,
      symbol: bar.symbol,
      ts,
      price: bar.close,
      volume: bar.volume,
      previousClose: s === undefined ? bar.open : newDay ? s.lastClose : s.previousClose,
      source: 'replay' as const,
      producedAt: this.clock.now(),
    };
    const problem = tickProblem(tick);
    if (problem !== undefined) {
      this.metrics.inc('replay.bad_rows');
      if (this.metrics.refuse(problem) <= REFUSALS_LOGGED_PER_REASON) this.log.warn('replay bar refused', { symbol: bar.symbol, ts, reason: problem });
      return undefined;
    }
    if (s === undefined) this.days.set(bar.symbol, { day, lastClose: bar.close, previousClose: tick.previousClose, lastTs: ts });
    else {
      if (newDay) {
        s.previousClose = s.lastClose;
        s.day = day;
      }
      s.lastTs = ts;
      s.lastClose = bar.close;
    }
    this.metrics.inc('replay.ticks');
    return tick;
  }
}
