import { SymbolAnalyzer, type AnalysisConfig } from '../analytics';
import type { EnrichedTick } from '../shared/enriched';
import type { Logger } from '../shared/logger';
import { decodeRecord, type Tick } from '../shared/tick';
import { describeError } from './errors';
import type { Alert, AlertPublisher, DeadLetterQueue, StateSnapshot, StateStore, TickSink } from './ports';

/** One Kinesis record as the MultiLangDaemon hands it over. */
export interface KclRecord {
  data: string;
  partitionKey: string;
  sequenceNumber: string;
  subSequenceNumber?: number;
  approximateArrivalTimestamp?: number;
}

export interface ShardProcessorDeps {
  sinks: readonly TickSink[];
  state: StateStore;
  alerts: AlertPublisher;
  dlq: DeadLetterQueue;
  logger: Logger;
  analysis: AnalysisConfig;
  checkpointEveryRecords: number;
  checkpointEveryMs: number;
  now?: () => number;
  /** Called after each batch is durably handled; the local status channel. */
  onBatch?: (s: BatchStats) => void;
  /** Backoff between attempts while a sink is down. */
  retryDelayMs?: (attempt: number) => number;
}

/** The counts a batch adds up; status reports and totals sum the same fields. */
export interface BatchCounters {
  records: number;
  applied: number;
  duplicates: number;
  deadLetters: number;
  signals: number;
  alertsPublished: number;
  sinkRetries: number;
}

export const COUNTER_KEYS: readonly (keyof BatchCounters)[] = ['records', 'applied', 'duplicates', 'deadLetters', 'signals', 'alertsPublished', 'sinkRetries'];

export function zeroCounters(): BatchCounters {
  return { records: 0, applied: 0, duplicates: 0, deadLetters: 0, signals: 0, alertsPublished: 0, sinkRetries: 0 };
}

/** into += from, field by field */
export function addCounters(into: BatchCounters, from: BatchCounters): void {
  for (const k of COUNTER_KEYS) into[k] += from[k];
}

export interface BatchStats extends BatchCounters {
  shardId: string;
  /** wall-clock ms from producedAt to our sinks' acknowledgement */
  latenciesMs: number[];
  millisBehindLatest?: number;
}

/** What the processor needs from KCL: checkpoint at a sequence number. */
export type CheckpointFn = (sequenceNumber?: string) => Promise<void>;

/** A sink that buffers rows (the local lake) and can drop them unwritten.
 *  Optional, so the TickSink port stays as it is. */
interface DiscardableSink {
  discard(): void;
}

function canDiscard(s: TickSink): s is TickSink & DiscardableSink {
  return typeof (s as Partial<DiscardableSink>).discard === 'function';
}

export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
}

/**
 * The consumer's per-shard logic, free of the KCL binding so it can be unit
 * tested and benchmarked. The protocol (DESIGN.md "State and checkpoints"):
 *
 * 1. Records of the shard are applied in order; state is per symbol.
 * 2. A symbol met for the first time is restored from its snapshot; a tick not
 *    newer than the symbol's last applied ts is a duplicate: counted, no output.
 * 3. Each batch's rows and alerts are acknowledged by every sink before the
 *    next batch is taken: a failing sink is retried here, in place, because
 *    the analyzers have already moved past those ticks and would treat a
 *    redelivery as duplicates.
 * 4. At a checkpoint, sinks are flushed, then the snapshots of every symbol
 *    touched since the last one are written (with their last ts), then KCL is
 *    checkpointed. A snapshot therefore never claims a tick whose output is
 *    not durable, and a crash anywhere costs only replay.
 */
export class ShardProcessor {
  private shardId = 'unknown';
  private readonly analyzers = new Map<string, SymbolAnalyzer>();
  private readonly dirty = new Set<string>();
  private sinceCheckpoint = 0;
  private lastCheckpointAt: number;
  private lastSequence: string | undefined;
  private readonly now: () => number;
  private log: Logger;
  private lost = false;

  constructor(private readonly deps: ShardProcessorDeps) {
    this.now = deps.now ?? Date.now;
    this.lastCheckpointAt = this.now();
    this.log = deps.logger;
  }

  initialize(shardId: string): void {
    this.shardId = shardId;
    this.log = this.deps.logger.child({ shardId });
    this.log.info('shard initialized');
  }

  /** Number of symbols held in memory (for tests and status). */
  get symbolsInMemory(): number {
    return this.analyzers.size;
  }

  async processRecords(records: readonly KclRecord[], checkpoint: CheckpointFn, millisBehindLatest?: number): Promise<void> {
    const stats: BatchStats = {
      ...zeroCounters(),
      shardId: this.shardId,
      records: records.length,
      latenciesMs: [],
      ...(millisBehindLatest !== undefined ? { millisBehindLatest } : {}),
    };
    if (records.length > 0) {
      // A record holds one tick or an aggregate of one symbol's ticks in ts
      // order (shared/tick.ts); either way the shard's order is kept.
      const ticks: (Tick | undefined)[] = [];
      const dead: Promise<void>[] = [];
      for (let i = 0; i < records.length; i++) {
        const rec = records[i]!;
        const decoded = decodeRecord(Buffer.from(rec.data, 'base64'));
        if (decoded.ok) {
          for (const t of decoded.ticks) ticks.push(t);
        } else {
          stats.deadLetters++;
          dead.push(this.deadLetter(rec, decoded.reason));
        }
      }
      await this.loadMissing(ticks);

      const rows: EnrichedTick[] = [];
      const alerts: Alert[] = [];
      for (const tick of ticks) {
        if (tick === undefined) continue;
        const a = this.analyzers.get(tick.symbol)!;
        const r = a.analyze(tick);
        if (r.kind === 'duplicate') {
          stats.duplicates++;
          continue;
        }
        stats.applied++;
        rows.push(r.row);
        if (r.row.signal !== null) stats.signals++;
        for (const al of r.alerts) alerts.push(al);
        this.dirty.add(tick.symbol);
      }
      if (rows.length > 0) {
        stats.sinkRetries += await this.untilDone('sink write', () => Promise.all(this.deps.sinks.map((s) => s.write(rows))).then(() => undefined));
      }
      // Alerts in tick order, one at a time: the cooldown depends on order.
      for (const al of alerts) {
        const res = await this.untilDoneValue('alert publish', () => this.deps.alerts.publish(al));
        if (res === 'published') stats.alertsPublished++;
      }
      await Promise.all(dead);
      const ackAt = this.now();
      for (const r of rows) stats.latenciesMs.push(ackAt - r.produced_at);
      this.lastSequence = records[records.length - 1]!.sequenceNumber;
      this.sinceCheckpoint += records.length;
    }
    if (
      this.lastSequence !== undefined &&
      (this.sinceCheckpoint >= this.deps.checkpointEveryRecords || (this.sinceCheckpoint > 0 && this.now() - this.lastCheckpointAt >= this.deps.checkpointEveryMs))
    ) {
      await this.checkpoint(checkpoint, this.lastSequence);
    }
    this.deps.onBatch?.(stats);
  }

  /** KCL's shardEnded: the shard is closed; checkpoint at SHARD_END is mandatory. */
  async shardEnded(checkpoint: CheckpointFn): Promise<void> {
    await this.persist();
    await checkpoint();
    this.log.info('shard ended, checkpointed at SHARD_END');
  }

  /** KCL's shutdownRequested (graceful stop): save and checkpoint what we have. */
  async shutdownRequested(checkpoint: CheckpointFn): Promise<void> {
    if (this.lastSequence !== undefined && this.sinceCheckpoint > 0) await this.checkpoint(checkpoint, this.lastSequence);
    else await this.persist();
    this.log.info('shutdown requested, checkpointed');
  }

  /**
   * Lease lost: another worker owns the shard now and will resume from the
   * last checkpoint and the snapshots written with it. Writing our newer
   * in-memory state could only race with it, so it is dropped unwritten.
   */
  leaseLost(): void {
    this.lost = true;
    this.log.warn('lease lost, dropping in-memory state', { symbols: this.analyzers.size });
    this.analyzers.clear();
    this.dirty.clear();
    this.sinceCheckpoint = 0;
    // Rows a sink still buffers are in-memory state too: the process closes
    // its sinks when the daemon ends it, and a close that flushed them would
    // write rows the new owner replays (lake duplicates; see lake-sink.ts).
    for (const s of this.deps.sinks) if (canDiscard(s)) s.discard();
  }

  private async checkpoint(checkpoint: CheckpointFn, seq: string): Promise<void> {
    await this.persist();
    await checkpoint(seq);
    this.sinceCheckpoint = 0;
    this.lastCheckpointAt = this.now();
  }

  /** Flush sinks, then write the snapshots of the symbols touched since the last checkpoint. */
  private async persist(): Promise<void> {
    await this.untilDone('sink flush', () => Promise.all(this.deps.sinks.map((s) => s.flush())).then(() => undefined));
    if (this.dirty.size === 0) return;
    const snaps: StateSnapshot[] = [];
    for (const sym of this.dirty) {
      const a = this.analyzers.get(sym);
      if (a === undefined || a.lastTs === null) continue;
      snaps.push({ symbol: sym, last_ts: a.lastTs, state: a.getState() });
    }
    const res = await this.untilDoneValue('state save', () => this.deps.state.putMany(snaps));
    if (res.stale.length > 0) this.log.warn('snapshots older than stored ones were not written', { symbols: res.stale.slice(0, 20), count: res.stale.length });
    this.dirty.clear();
  }

  private async loadMissing(ticks: readonly (Tick | undefined)[]): Promise<void> {
    const missing = new Set<string>();
    for (const t of ticks) if (t !== undefined && !this.analyzers.has(t.symbol)) missing.add(t.symbol);
    if (missing.size === 0) return;
    const symbols = [...missing];
    const snaps = await this.untilDoneValue('state load', () => this.deps.state.get(symbols));
    for (const sym of symbols) {
      const snap = snaps.get(sym);
      let analyzer: SymbolAnalyzer | undefined;
      if (snap !== undefined) {
        try {
          analyzer = SymbolAnalyzer.fromState(snap.state, this.deps.analysis);
        } catch (err) {
          // A snapshot we cannot read is not a reason to stall the shard, but
          // starting cold is visible: indicators warm up again for this symbol.
          this.log.error('corrupt snapshot ignored, starting the symbol cold', { symbol: sym, error: describeError(err) });
        }
      }
      this.analyzers.set(sym, analyzer ?? new SymbolAnalyzer(sym, this.deps.analysis));
    }
  }

  private async deadLetter(rec: KclRecord, reason: string): Promise<void> {
    this.log.warn('dead letter', { sequenceNumber: rec.sequenceNumber, reason: reason.slice(0, 300) });
    await this.untilDone('dead letter', () =>
      this.deps.dlq.put({ id: `${this.shardId}/${rec.sequenceNumber}`, kind: 'record', data_base64: rec.data, partition_key: rec.partitionKey, shard_id: this.shardId, sequence_number: rec.sequenceNumber, reason, at: new Date(this.now()).toISOString() }),
    );
  }

  /** Retries `op` until it succeeds; returns the number of retries. Stops
   *  only when the lease is lost (the new owner replays from the checkpoint). */
  private async untilDone(what: string, op: () => Promise<void>): Promise<number> {
    let retries = 0;
    await this.untilDoneValue(what, op, () => retries++);
    return retries;
  }

  private async untilDoneValue<T>(what: string, op: () => Promise<T>, onRetry?: () => void): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await op();
      } catch (err) {
        if (this.lost) throw new LeaseLostError(`lease lost during ${what}`, { cause: err });
        const delay = this.deps.retryDelayMs?.(attempt) ?? Math.min(5000, 100 * 2 ** Math.min(attempt, 6));
        this.log.error(`${what} failed; retrying, nothing is checkpointed past it`, { attempt, delayMs: delay, error: describeError(err) });
        onRetry?.();
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }
}
