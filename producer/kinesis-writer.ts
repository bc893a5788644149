import { PutRecordsCommand, type KinesisClient, type PutRecordsResultEntry } from '@aws-sdk/client-kinesis';
import type { Logger } from '../shared/logger';
import { MAX_TICKS_PER_RECORD, encodeTickBatch, tickBatchSize, tickProblem, type Tick } from '../shared/tick';
import { backoffDelay, type BackoffPolicy } from '../shared/runtime/retry';
import { systemClock, type Clock } from './clock';
import { classifyError } from '../shared/error-class';
import { KinesisWriteError, RecordTooLargeError, errorForLog } from './errors';
import { ProducerMetrics } from './metrics';

export interface KinesisWriterOptions {
  streamName: string;
  /** PutRecords limits: 500 records, 5 MiB per call, 1 MiB per record */
  maxBatchRecords?: number;
  maxBatchBytes?: number;
  /** Attempts per record before the writer fails (default 12). */
  maxAttempts?: number;
  /** Concurrent PutRecords calls (default 4). */
  maxInFlight?: number;
  /** Ticks of one symbol packed into one Kinesis record when a backlog
   *  builds up (default 500; 1 = never aggregate). See shared/tick.ts. */
  maxTicksPerRecord?: number;
  /** Unacknowledged records held before enqueue() waits: the backpressure
   *  that slows the source (default 10 × maxBatchRecords). */
  maxBuffered?: number;
  backoff?: BackoffPolicy;
  logger?: Logger;
  clock?: Clock;
  random?: () => number;
  metrics?: ProducerMetrics;
}

export interface WriterStats {
  /** Ticks acknowledged by Kinesis (an aggregate record counts its ticks). */
  recordsSent: number;
  /** Kinesis records acknowledged. */
  kinesisRecords: number;
  putCalls: number;
  retriedRecords: number;
  failedRecords: number;
}

const KINESIS_MAX_RECORD_BYTES = 1024 * 1024;

/** A bad input file can refuse a million ticks: the count says the rest. */
export const REFUSALS_LOGGED_PER_REASON = 5;


interface Entry {
  readonly symbol: string;
  readonly data: Buffer;
  readonly size: number;
  readonly producedAt: number;
  attempts: number;
  /** ticks in this record: 1, or more once sealed into an aggregate */
  readonly count: number;
  /** Sent alone: an item error failed a call it shared, and this finds which record it was. */
  isolate?: boolean;
}

/**
 * Writes ticks to Kinesis with the symbol as partition key.
 *
 * Order under partial failure: PutRecords can reject some entries of a call
 * and accept others. If a call held two ticks of one symbol and only the
 * first failed, its retry would land after the second and the consumer would
 * skip it as stale: a lost tick. So at most ONE record per symbol is
 * unacknowledged at any time, across all calls in flight. Each symbol has a
 * FIFO; a call takes the head of up to 500 "ready" symbols. Failed entries
 * stay at the head of their FIFO and become ready again after a backoff;
 * only they are re-sent, never the entries that succeeded.
 *
 * With a universe of hundreds of symbols calls are full; with a handful of
 * symbols a call carries a handful of records, which is also all a shard
 * would accept per symbol (1,000 records/s per shard).
 *
 * Backpressure: enqueue() resolves once fewer than `maxBuffered` records are
 * unacknowledged, so an async-iterator source is pulled only as fast as
 * Kinesis accepts. flush() resolves when everything is acknowledged.
 */
export class KinesisWriter {
  readonly stats: WriterStats = { recordsSent: 0, kinesisRecords: 0, putCalls: 0, retriedRecords: 0, failedRecords: 0 };
  readonly metrics: ProducerMetrics;
  private readonly maxRecords: number;
  private readonly maxBytes: number;
  private readonly maxAttempts: number;
  private readonly maxInFlight: number;
  private readonly maxTicksPerRecord: number;
  private readonly maxBuffered: number;
  private readonly backoff: BackoffPolicy;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly log: Logger | undefined;
  private readonly queues = new Map<string, Entry[]>();
  /** Symbols whose head may be sent now; a Set keeps arrival order (fairness). */
  private readonly ready = new Set<string>();
  private inFlight = 0;
  private buffered = 0;
  private fatal: KinesisWriteError | undefined;
  private spaceWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private drainWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];

  constructor(
    private readonly client: KinesisClient,
    private readonly o: KinesisWriterOptions,
  ) {
    this.maxRecords = Math.max(1, Math.min(500, o.maxBatchRecords ?? 500));
    this.maxBytes = Math.max(1, Math.min(5 * 1024 * 1024, o.maxBatchBytes ?? 5 * 1024 * 1024));
    this.maxAttempts = o.maxAttempts ?? 12;
    this.maxInFlight = Math.max(1, o.maxInFlight ?? 4);
    this.maxTicksPerRecord = Math.max(1, Math.min(MAX_TICKS_PER_RECORD, o.maxTicksPerRecord ?? 500));
    this.maxBuffered = Math.max(this.maxRecords, o.maxBuffered ?? this.maxRecords * 10);
    this.backoff = o.backoff ?? { baseMs: 50, maxMs: 5_000 };
    this.clock = o.clock ?? systemClock;
    this.random = o.random ?? Math.random;
    this.log = o.logger?.child({ component: 'kinesis-writer' });
    this.metrics = o.metrics ?? new ProducerMetrics();
  }

  /** Records accepted by enqueue() and not yet acknowledged by Kinesis. */
  get pending(): number {
    return this.buffered;
  }

  /**
   * Queue ticks for sending; resolves when there is room for more (not when
   * these are acknowledged). Throws the writer's fatal error, if any.
   */
  async enqueue(ticks: readonly Tick[]): Promise<void> {
    if (this.fatal) throw this.fatal;
    for (const t of ticks) {
      // The last gate before the stream: a tick the consumer would refuse is
      // counted and named here instead of becoming a dead letter there.
      const problem = tickProblem(t);
      if (problem !== undefined) {
        this.refuse(t, problem);
        continue;
      }
      const data = Buffer.from(JSON.stringify(t));
      const size = data.byteLength + Buffer.byteLength(t.symbol);
      if (size > KINESIS_MAX_RECORD_BYTES) throw new RecordTooLargeError(t.symbol, size);
      let q = this.queues.get(t.symbol);
      if (q === undefined) {
        q = [];
        this.queues.set(t.symbol, q);
        this.ready.add(t.symbol);
      }
      q.push({ symbol: t.symbol, data, size, producedAt: t.producedAt, attempts: 0, count: 1 });
      this.buffered++;
    }
    this.pump();
    while (this.buffered >= this.maxBuffered) {
      await new Promise<void>((resolve, reject) => this.spaceWaiters.push({ resolve, reject }));
    }
  }

  /** Resolves when every record enqueued so far is acknowledged. */
  flush(): Promise<void> {
    if (this.fatal) return Promise.reject(this.fatal);
    if (this.buffered === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => this.drainWaiters.push({ resolve, reject }));
  }

  /** Sends all ticks; resolves when every one is acknowledged by Kinesis. */
  async write(ticks: readonly Tick[]): Promise<void> {
    await this.enqueue(ticks);
    await this.flush();
  }

  private refuse(t: Tick, reason: string): void {
    const n = this.metrics.refuse(reason);
    if (n <= REFUSALS_LOGGED_PER_REASON) {
      this.log?.warn('tick refused: the consumer could not store it', { symbol: String(t.symbol), ts: t.ts, reason, ...(n === REFUSALS_LOGGED_PER_REASON ? { note: 'further ticks refused for this reason are only counted' } : {}) });
    }
  }

  private pump(): void {
    while (!this.fatal && this.inFlight < this.maxInFlight && this.ready.size > 0) {
      const batch: Entry[] = [];
      let bytes = 0;
      for (const symbol of this.ready) {
        const q = this.queues.get(symbol);
        const head = q === undefined ? undefined : this.seal(q);
        if (head === undefined) {
          this.ready.delete(symbol);
          continue;
        }
        if (head.isolate === true && batch.length > 0) continue;
        // A record alone always fits a call (it passed the 1 MiB check).
        if (batch.length >= this.maxRecords || (batch.length > 0 && bytes + head.size > this.maxBytes)) break;
        batch.push(head);
        bytes += head.size;
        this.ready.delete(symbol);
        if (head.isolate === true) break;
      }
      if (batch.length === 0) return;
      this.inFlight++;
      void this.send(batch);
    }
  }

  private async send(batch: Entry[]): Promise<void> {
    const started = this.clock.now();
    let results: (PutRecordsResultEntry | undefined)[] | undefined;
    let callError: unknown;
    try {
      this.stats.putCalls++;
      this.metrics.inc('writer.put_calls');
      const res = await this.client.send(
        new PutRecordsCommand({ StreamName: this.o.streamName, Records: batch.map((e) => ({ PartitionKey: e.symbol, Data: e.data })) }),
      );
      results = res.Records ?? [];
      this.metrics.observe('writer.put_ms', this.clock.now() - started);
    } catch (err) {
      callError = err;
    }
    this.inFlight--;
    const now = this.clock.now();
    const failed: Entry[] = [];
    const codes = new Map<string, number>();
    for (let i = 0; i < batch.length; i++) {
      const e = batch[i] as Entry;
      const r = results?.[i];
      if (results !== undefined && r !== undefined && r.ErrorCode === undefined && r.SequenceNumber !== undefined) {
        this.acknowledge(e, now);
      } else {
        const code = results === undefined ? errorName(callError) : (r?.ErrorCode ?? 'MissingResultEntry');
        codes.set(code, (codes.get(code) ?? 0) + 1);
        failed.push(e);
      }
    }
    if (failed.length > 0) this.retryLater(failed, codes, callError);
    this.wake();
    this.pump();
  }

  /**
   * The head record of a symbol's queue. A backlog of single ticks is sealed
   * into one aggregate record first; a sealed head is re-sent unchanged on
   * retry, so what Kinesis ends up holding is the same either way.
   */
  private seal(q: Entry[]): Entry | undefined {
    const head = q[0];
    if (head === undefined || head.count > 1 || head.attempts > 0 || head.isolate === true || q.length === 1 || this.maxTicksPerRecord === 1) return head;
    let k = 0;
    let bytes = 0;
    while (k < q.length && k < this.maxTicksPerRecord) {
      const e = q[k]!;
      if (e.count > 1 || e.attempts > 0 || e.isolate === true) break;
      // symbol bytes count toward the 1 MiB limit with the data (partition key)
      if (k > 0 && tickBatchSize(k + 1, bytes + e.data.byteLength) + Buffer.byteLength(head.symbol) > KINESIS_MAX_RECORD_BYTES) break;
      bytes += e.data.byteLength;
      k++;
    }
    if (k <= 1) return head;
    const parts = q.slice(0, k);
    const data = encodeTickBatch(parts.map((e) => e.data));
    const agg: Entry = { symbol: head.symbol, data, size: data.byteLength + Buffer.byteLength(head.symbol), producedAt: head.producedAt, attempts: 0, count: k };
    q.splice(0, k, agg);
    return agg;
  }

  private acknowledge(e: Entry, now: number): void {
    const q = this.queues.get(e.symbol);
    q?.shift();
    this.buffered -= e.count;
    this.stats.recordsSent += e.count;
    this.stats.kinesisRecords++;
    this.metrics.inc('writer.records_sent', e.count);
    this.metrics.observe('writer.source_to_ack_ms', now - e.producedAt);
    if (q === undefined || q.length === 0) this.queues.delete(e.symbol);
    else this.ready.add(e.symbol);
  }

  private retryLater(failed: Entry[], codes: Map<string, number>, callError: unknown): void {
    // Per-entry failures are throttling or internal errors (transient); a
    // whole call that fails is classified like every sink error.
    const c = callError === undefined ? undefined : classifyError(callError);
    if (c?.class === 'config') {
      this.fail(new KinesisWriteError(`PutRecords failed with ${c.code}; not retryable: ${c.hint ?? 'check the configuration'}`, failed.length, { cause: callError }));
      return;
    }
    if (c?.class === 'item') {
      if (failed.length > 1) {
        // One record failed a call it shared: send each alone to find it.
        for (const e of failed) {
          e.isolate = true;
          this.ready.add(e.symbol);
        }
        return;
      }
      for (const e of failed) this.drop(e, `kinesis: ${c.code}`, callError);
      return;
    }
    let maxAttempt = 0;
    for (const e of failed) {
      e.attempts++;
      maxAttempt = Math.max(maxAttempt, e.attempts);
    }
    if (maxAttempt >= this.maxAttempts) {
      this.stats.failedRecords += failed.length;
      this.metrics.inc('writer.failed_records', failed.length);
      this.fail(new KinesisWriteError(`${failed.length} records still failing after ${maxAttempt} PutRecords attempts`, failed.length, { cause: callError }));
      return;
    }
    this.stats.retriedRecords += failed.length;
    this.metrics.inc('writer.retried_records', failed.length);
    const delay = backoffDelay(maxAttempt - 1, this.backoff, this.random);
    this.log?.warn('PutRecords entries failed, retrying them', {
      failed: failed.length,
      attempt: maxAttempt,
      delayMs: delay,
      errorCodes: Object.fromEntries(codes),
      ...(callError === undefined ? {} : errorForLog(callError)),
    });
    void this.clock.sleep(delay).then(() => {
      for (const e of failed) this.ready.add(e.symbol);
      this.pump();
    });
  }

  /** A record Kinesis refuses for good: its ticks are refused (counted and
   *  named like the ones the gate refuses), and the symbol goes on. */
  private drop(e: Entry, reason: string, cause: unknown): void {
    const q = this.queues.get(e.symbol);
    q?.shift();
    this.buffered -= e.count;
    for (let i = 0; i < e.count; i++) this.metrics.refuse(reason);
    this.log?.warn('record refused by Kinesis, dropped', { symbol: e.symbol, ticks: e.count, reason, ...errorForLog(cause) });
    if (q === undefined || q.length === 0) this.queues.delete(e.symbol);
    else this.ready.add(e.symbol);
  }

  private fail(err: KinesisWriteError): void {
    if (this.fatal) return;
    this.fatal = err;
    this.log?.error('Kinesis writer failed', { failedRecords: err.failedRecords, pending: this.buffered, ...errorForLog(err), cause: errorForLog(err.cause) });
    for (const w of [...this.spaceWaiters, ...this.drainWaiters]) w.reject(err);
    this.spaceWaiters = [];
    this.drainWaiters = [];
  }

  private wake(): void {
    if (this.buffered < this.maxBuffered && this.spaceWaiters.length > 0) {
      const ws = this.spaceWaiters;
      this.spaceWaiters = [];
      ws.forEach((w) => w.resolve());
    }
    if (this.buffered === 0 && this.drainWaiters.length > 0) {
      const ws = this.drainWaiters;
      this.drainWaiters = [];
      ws.forEach((w) => w.resolve());
    }
  }
}

function errorName(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'name' in err && typeof err.name === 'string') return err.name;
  return 'Error';
}
