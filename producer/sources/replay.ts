import { BarFileError, readCsvBars, readParquetBars, type Bar } from '../../shared/bars';
import type { Logger } from '../../shared/logger';
import { TICK_SCHEMA_VERSION, tickProblem, type Tick } from '../../shared/tick';
import { isTimeZone, tradingDay } from '../../shared/trading-day';
import { REFUSALS_LOGGED_PER_REASON } from '../kinesis-writer';
import { systemClock, type Clock } from '../clock';
import { ProducerError } from '../errors';
import { ProducerMetrics } from '../metrics';
import type { TickSource } from './source';

/**
 * Replays historical OHLCV bars as ticks, for backfills and demos.
 *
 * Inputs: CSV (plain or gzipped) and Parquet files as shared/bars.ts reads
 * them, which is also how the backtest reads them: the columns, the symbol
 * rule and the one timestamp rule (zone-less is UTC) are documented there.
 * Rows must be in time order per symbol within a file (a file out of order
 * is refused with the line where it goes back); a bad row is counted,
 * logged (the first few) and skipped.
 *
 * Several inputs are merged in time order with a streaming k-way merge: only
 * one pending bar per input is held in memory, so a file of millions of rows
 * costs no more memory than a file of ten.
 *
 * `previousClose` of a tick is the last close of that symbol's previous
 * trading day in the data (shared/trading-day.ts: the date in `timeZone`,
 * UTC by default); on the first day in the data, where none exists, the
 * first bar's open stands in.
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
  /** The exchange's IANA time zone: its date is the trading day, and ticks carry it (VWAP rolls over with it). Default UTC. */
  readonly timeZone?: string;
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly metrics?: ProducerMetrics;
}

const DAY_MS = 86_400_000;

/** Refuses a file whose rows go back in time for a symbol: the merge needs each input in order. */
async function* inTimeOrder(file: string, bars: AsyncIterable<Bar>): AsyncGenerator<Bar> {
  const last = new Map<string, number>();
  for await (const bar of bars) {
    const prev = last.get(bar.symbol);
    if (prev !== undefined && bar.ts < prev) throw new BarFileError(file, bar.line, `rows are not in time order for ${bar.symbol}; sort the file by timestamp`, 'timestamp');
    last.set(bar.symbol, bar.ts);
    yield bar;
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
export async function* mergeBars<B extends { ts: number }>(inputs: readonly AsyncIterator<B>[]): AsyncGenerator<B> {
  const heap = new MergeHeap<B & { input: number }>();
  try {
    await Promise.all(
      inputs.map(async (it, input) => {
        const r = await it.next();
        if (r.done !== true) heap.push({ ...r.value, input });
      }),
    );
    while (heap.size > 0) {
      const top = heap.pop() as B & { input: number };
      const { input, ...bar } = top;
      yield bar as unknown as B;
      const r = await (inputs[input] as AsyncIterator<B>).next();
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
    if ((opts.csvFiles?.length ?? 0) + (opts.parquetFiles?.length ?? 0) === 0) throw new ProducerError('no replay input files');
    this.log = opts.logger.child({ component: 'replay-source' });
    this.clock = opts.clock ?? systemClock;
    this.metrics = opts.metrics ?? new ProducerMetrics();
    this.speed = opts.speed ?? 1;
    if (!(this.speed > 0)) throw new RangeError(`speed must be > 0, got ${this.speed}`);
    if (opts.timeZone !== undefined && !isTimeZone(opts.timeZone)) throw new RangeError(`timeZone must be an IANA time zone, got ${opts.timeZone}`);
    this.batchSize = opts.batchSize ?? 500;
  }

  private open(): AsyncIterator<Bar>[] {
    const onBadRow = (err: BarFileError): void => {
      this.metrics.inc('replay.bad_rows');
      // The count's key is the tick bound the row breaks, as the writer would
      // name it, or else the column ("bad timestamp"); the log line has the
      // value and where it is.
      const n = this.metrics.refuse(err.bound ?? (err.column === undefined ? err.reason : `bad ${err.column}`));
      // A broken file can have a million bad rows; the count says the rest.
      if (n <= REFUSALS_LOGGED_PER_REASON) this.log.warn('replay row refused', { file: err.file, line: err.line, column: err.column, reason: err.reason });
    };
    const read = { symbol: this.opts.symbol, onBadRow };
    return [
      ...(this.opts.csvFiles ?? []).map((f) => inTimeOrder(f, readCsvBars(f, read))[Symbol.asyncIterator]()),
      ...(this.opts.parquetFiles ?? []).map((f) => inTimeOrder(f, readParquetBars(f, read))[Symbol.asyncIterator]()),
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
    const day = tradingDay(ts, this.opts.timeZone);
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
      ...(this.opts.timeZone === undefined ? {} : { tz: this.opts.timeZone }),
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
