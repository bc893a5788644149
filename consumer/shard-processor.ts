import { SymbolAnalyzer, type AnalysisConfig, type AnalyzeResult } from '../analytics';
import type { Alert } from '../analytics/alerts';
import type { EnrichedTick } from '../shared/enriched';
import { classifyError } from '../shared/error-class';
import type { Logger } from '../shared/logger';
import { backoffDelay, type BackoffPolicy } from '../shared/runtime/retry';
import { sleep } from '../shared/runtime/sleep';
import type { Tick } from '../shared/tick';
import { ConfigurationStopError } from './errors';
import { describeError, describeErrorChain } from '../shared/describe-error';
import type { AlertPublisher, DeadLetter, DeadLetterKind, DeadLetterQueue, RestartLedger, StateSnapshot, StateStore, TickSink } from './ports';
import { decodeStreamRecord, type DecodeResult } from './records';

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
  /** Called the moment it happens, not at batch end (a batch can wait on a
   *  sink for minutes): consumer errors, retries, dead letters stored. */
  onEvent?: (e: ProcessorEvent) => void;
  /** The rows every sink has just acknowledged, in shard order, and when:
   *  the local dashboard's live view, told now rather than at batch end
   *  (a checkpoint, with its lake flush, can take seconds). */
  onStored?: (rows: readonly EnrichedTick[], storedAt: number) => void;
  /** An alert just published (not a duplicate or a cooled-down one). */
  onPublished?: (alert: Alert) => void;
  /** Backoff between attempts while a sink is down. */
  retryDelayMs?: (attempt: number) => number;
  /** Attempts an unclassified error gets before its items are isolated as
   *  if the store had refused them (default 5). */
  unknownErrorAttempts?: number;
  /** Crash-loop quarantine (see RestartLedger); without it, none. */
  ledger?: RestartLedger;
  /** Starts at one checkpoint before the shard is processed record by record (default 3). */
  quarantineAfter?: number;
  /** Fault injection for the crash-loop test only: a record whose bytes
   *  contain this string kills the process from outside every handler. */
  crashMarker?: string;
}

export type ProcessorEvent =
  | { kind: 'error'; what: string; code: string }
  | { kind: 'retry'; what: string; code: string }
  | { kind: 'deadLetter'; deadLetterKind: DeadLetterKind; id: string; reason: string };

/** The counts a batch adds up; status reports and totals sum the same fields. */
export interface BatchCounters {
  records: number;
  applied: number;
  duplicates: number;
  /** Ticks (or records) dead-lettered, as they are stored. */
  deadLetters: number;
  /** Ticks stored from a redriven row ({"v":1,"rows":[…]}). */
  redriven: number;
  signals: number;
  alertsPublished: number;
  /** Attempts repeated after a transient (or not yet classified) error. */
  sinkRetries: number;
  /** Consumer errors as they happen: one per failing operation (however
   *  many retries or halvings it takes), one per analysis that threw. */
  errors: number;
}

export const COUNTER_KEYS: readonly (keyof BatchCounters)[] = ['records', 'applied', 'duplicates', 'deadLetters', 'redriven', 'signals', 'alertsPublished', 'sinkRetries', 'errors'];

export function zeroCounters(): BatchCounters {
  return { records: 0, applied: 0, duplicates: 0, deadLetters: 0, redriven: 0, signals: 0, alertsPublished: 0, sinkRetries: 0, errors: 0 };
}

/** Counted by the processor's events as they happen (onEvent), and also in
 *  the batch's stats; a reporter that takes both adds these from events only. */
export const EVENT_COUNTERS: readonly (keyof BatchCounters)[] = ['deadLetters', 'errors', 'sinkRetries'];

/** into += from, field by field */
export function addCounters(into: BatchCounters, from: BatchCounters): void {
  for (const k of COUNTER_KEYS) into[k] += from[k];
}

export interface BatchStats extends BatchCounters {
  shardId: string;
  /** Wall-clock ms when the processor took the batch: none of its ticks was
   *  applied before. What shows, after a reshard, that a child shard applied
   *  nothing before its parents were checkpointed at SHARD_END. */
  startedAt: number;
  /** wall-clock ms from producedAt to our sinks' acknowledgement */
  latenciesMs: number[];
  millisBehindLatest?: number;
  /** The sequence number KCL was checkpointed at during this batch, if it was. */
  checkpointedAt?: string;
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

/** One tick on its way through a batch, with where it came from. */
interface Item {
  readonly tick: Tick;
  readonly rec: KclRecord;
  /** Position in an aggregate record; undefined for a single-tick record. */
  readonly index: number | undefined;
}

/** A row and the item it was computed from, on their way to the sinks. */
interface RowItem {
  readonly row: EnrichedTick;
  /** Undefined for a redriven row: it has a record but no tick of this batch. */
  readonly item: Item | undefined;
  readonly rec: KclRecord;
}

interface Refusal<T> {
  readonly value: T;
  readonly reason: string;
}

const DEFAULT_UNKNOWN_ATTEMPTS = 5;
/** While a sink is down: soon at first, then at most every 5 s, for as long as it takes. */
const SINK_DOWN_BACKOFF: BackoffPolicy = { baseMs: 100, maxMs: 5_000 };
const DEFAULT_QUARANTINE_AFTER = 3;

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
 *
 * No record can stop a shard (README "When things go wrong"): every error is
 * classified (shared/error-class.ts). Transient: retried until it passes.
 * Item: the item is isolated and dead-lettered with its reason, and the
 * batch goes on. Configuration: ConfigurationStopError, which stops the
 * worker with one line. A tick whose analysis throws is dead-lettered and
 * its symbol rebuilt from the snapshot plus the ticks applied since. A
 * record that kills the process outright is found by the crash-loop
 * quarantine and dead-lettered.
 */
export class ShardProcessor {
  private shardId = 'unknown';
  private readonly analyzers = new Map<string, SymbolAnalyzer>();
  private readonly dirty = new Set<string>();
  /** Ticks applied since the last checkpoint, in order: what rebuilds a
   *  symbol whose analysis threw (its snapshot + these). */
  private appliedSinceCheckpoint: Tick[] = [];
  private sinceCheckpoint = 0;
  private lastCheckpointAt: number;
  private lastSequence: string | undefined;
  /** The sequence number the shard is checkpointed at (TRIM_HORIZON, … at first). */
  private checkpointedAt = 'unknown';
  private readonly now: () => number;
  private log: Logger;
  private lost = false;
  private quarantine: { starts: number; suspect: string | undefined } | undefined;
  private batch: BatchStats | undefined;

  constructor(private readonly deps: ShardProcessorDeps) {
    this.now = deps.now ?? Date.now;
    this.lastCheckpointAt = this.now();
    this.log = deps.logger;
  }

  /**
   * `startingAt` is the checkpoint KCL resumes from. With a restart ledger,
   * one more start at it is counted; past `quarantineAfter` the shard runs in
   * quarantine (record by record) until it gets past the records it died on.
   */
  async initialize(shardId: string, startingAt?: string | null): Promise<void> {
    this.shardId = shardId;
    this.log = this.deps.logger.child({ shardId });
    this.checkpointedAt = startingAt ?? 'unknown';
    const ledger = this.deps.ledger;
    // The daemon sends a null sequence number when it has none to give.
    if (ledger !== undefined && typeof startingAt === 'string') {
      const s = await this.bestEffort('restart ledger', () => ledger.recordStart(shardId, startingAt));
      if (s !== undefined && s.starts > (this.deps.quarantineAfter ?? DEFAULT_QUARANTINE_AFTER)) {
        this.quarantine = { starts: s.starts, suspect: s.suspect };
        this.log.error('shard restarted repeatedly at the same checkpoint: quarantine, processing record by record', { starts: s.starts, checkpoint: startingAt, suspect: s.suspect });
      }
    }
    this.log.info('shard initialized', { startingAt, quarantine: this.quarantine !== undefined });
  }

  /** Number of symbols held in memory (for tests and status). */
  get symbolsInMemory(): number {
    return this.analyzers.size;
  }

  get inQuarantine(): boolean {
    return this.quarantine !== undefined;
  }

  async processRecords(records: readonly KclRecord[], checkpoint: CheckpointFn, millisBehindLatest?: number): Promise<void> {
    const stats: BatchStats = {
      ...zeroCounters(),
      shardId: this.shardId,
      startedAt: this.now(),
      records: records.length,
      latenciesMs: [],
      ...(millisBehindLatest !== undefined ? { millisBehindLatest } : {}),
    };
    this.batch = stats;
    if (this.quarantine !== undefined && records.length > 0) {
      await this.processQuarantined(records, checkpoint);
    } else if (records.length > 0) {
      await this.apply(records);
      this.lastSequence = records[records.length - 1]!.sequenceNumber;
      this.sinceCheckpoint += records.length;
    }
    if (
      this.lastSequence !== undefined &&
      (this.sinceCheckpoint >= this.deps.checkpointEveryRecords || (this.sinceCheckpoint > 0 && this.now() - this.lastCheckpointAt >= this.deps.checkpointEveryMs))
    ) {
      await this.checkpoint(checkpoint, this.lastSequence);
    }
    this.batch = undefined;
    this.deps.onBatch?.(stats);
  }

  /** KCL's shardEnded: the shard is closed; checkpoint at SHARD_END is mandatory. */
  async shardEnded(checkpoint: CheckpointFn): Promise<void> {
    await this.persist();
    await checkpoint();
    await this.clearLedger();
    this.log.info('shard ended, checkpointed at SHARD_END');
  }

  /** KCL's shutdownRequested (graceful stop): save and checkpoint what we have. */
  async shutdownRequested(checkpoint: CheckpointFn): Promise<void> {
    if (this.lastSequence !== undefined && this.sinceCheckpoint > 0) await this.checkpoint(checkpoint, this.lastSequence);
    else await this.persist();
    await this.clearLedger();
    this.log.info('shutdown requested, checkpointed');
  }

  /**
   * A configuration stop is not a crash: forget this shard's starts, so the
   * restarts it causes never quarantine a record. Best effort: when the
   * ledger's own table is what is misconfigured, no start was counted either.
   */
  async configurationStopped(): Promise<void> {
    try {
      await this.deps.ledger?.clear(this.shardId);
    } catch (err) {
      this.log.warn('could not clear the restart ledger', { error: describeError(err) });
    }
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
    this.appliedSinceCheckpoint = [];
    this.sinceCheckpoint = 0;
    // Rows a sink still buffers are in-memory state too: the process closes
    // its sinks when the daemon ends it, and a close that flushed them would
    // write rows the new owner replays (lake duplicates; see lake-sink.ts).
    for (const s of this.deps.sinks) if (canDiscard(s)) s.discard();
  }

  /**
   * Quarantine: one record at a time, each marked in the ledger before it is
   * touched and checkpointed after it, so a death points at one record. The
   * record it pointed at last time is dead-lettered unprocessed. Once a whole
   * batch has gone through, the shard leaves quarantine.
   */
  private async processQuarantined(records: readonly KclRecord[], checkpoint: CheckpointFn): Promise<void> {
    const q = this.quarantine!;
    const ledger = this.deps.ledger!;
    for (const rec of records) {
      if (rec.sequenceNumber === q.suspect) {
        await this.deadLetter({
          kind: 'crash',
          rec,
          data: rec.data,
          reason: `the record processor died while processing this record (${q.starts - 1} starts at checkpoint ${this.checkpointedAt}); quarantined unprocessed`,
        });
      } else {
        await this.bestEffort('restart ledger', () => ledger.markSuspect(this.shardId, this.checkpointedAt, q.starts, rec.sequenceNumber));
        await this.apply([rec]);
      }
      this.lastSequence = rec.sequenceNumber;
      this.sinceCheckpoint++;
      await this.checkpoint(checkpoint, rec.sequenceNumber);
    }
    this.quarantine = undefined;
    await this.clearLedger();
    this.log.warn('quarantine over: a whole batch went through record by record', { through: this.lastSequence });
  }

  /** Decode, analyse, store, alert and dead-letter one batch of records. */
  private async apply(records: readonly KclRecord[]): Promise<void> {
    const stats = this.batch!;
    // A record holds one tick or an aggregate of one symbol's ticks in ts
    // order (shared/tick.ts); either way the shard's order is kept.
    const items: Item[] = [];
    const redriven: RowItem[] = [];
    const dead: Promise<void>[] = [];
    for (const rec of records) {
      const bytes = Buffer.from(rec.data, 'base64');
      if (this.deps.crashMarker !== undefined && bytes.includes(this.deps.crashMarker)) await crashOutsideEveryHandler(rec);
      let decoded: DecodeResult;
      try {
        decoded = decodeStreamRecord(bytes);
      } catch (err) {
        // decodeRecord never throws by contract; if it ever does, the record
        // is still data, not an exception that stalls the shard.
        this.error('decode', err);
        decoded = { ok: false, reason: `decoding threw: ${describeError(err)}` };
      }
      if (!decoded.ok) dead.push(this.deadLetter({ kind: 'record', rec, data: rec.data, reason: decoded.reason }));
      else if (decoded.kind === 'ticks') decoded.ticks.forEach((tick, i) => items.push({ tick, rec, index: decoded.ticks.length > 1 ? i : undefined }));
      else for (const row of decoded.rows) redriven.push({ row, item: undefined, rec });
    }
    await this.loadMissing(items);

    const rows: RowItem[] = [];
    const alerts: Alert[] = [];
    for (const item of items) {
      const tick = item.tick;
      let r: AnalyzeResult;
      try {
        r = this.analyzers.get(tick.symbol)!.analyze(tick);
      } catch (err) {
        await this.analysisFailed(item, err);
        continue;
      }
      if (r.kind === 'duplicate') {
        stats.duplicates++;
        continue;
      }
      stats.applied++;
      this.appliedSinceCheckpoint.push(tick);
      rows.push({ row: r.row, item, rec: item.rec });
      if (r.row.signal !== null) stats.signals++;
      for (const al of r.alerts) alerts.push(al);
      this.dirty.add(tick.symbol);
    }
    // Redriven rows were computed when their tick was applied; storing them
    // again is idempotent in every sink, and the state is not touched.
    for (const r of redriven) rows.push(r);
    stats.redriven += redriven.length;
    if (rows.length > 0) {
      await this.store(rows);
      if (this.deps.onStored !== undefined) this.deps.onStored(rows.map((r) => r.row), this.now());
    }
    // Alerts in tick order, one at a time: the cooldown depends on order.
    for (const al of alerts) {
      const [res] = await this.deliver('alert publish', [al], ([a]) => this.deps.alerts.publish(a!));
      if (res.done === 'published') {
        stats.alertsPublished++;
        this.deps.onPublished?.(al);
      }
      for (const f of res.refused) this.log.error('alert refused for good, not published', { alert: f.value, reason: f.reason });
    }
    await Promise.all(dead);
    const ackAt = this.now();
    for (const r of rows) if (r.item !== undefined) stats.latenciesMs.push(ackAt - r.row.produced_at);
  }

  /**
   * Every sink gets every row, each sink retried on its own. A row a sink
   * refuses for good is dead-lettered once (kind `row`), with each refusing
   * sink's reason and the sinks that did store it: progress wins over
   * all-or-nothing, and a redrive of the row fills the gaps idempotently.
   */
  private async store(rows: readonly RowItem[]): Promise<void> {
    const sinks = this.deps.sinks;
    const results = await Promise.all(sinks.map((s) => this.deliver(`${s.name} write`, rows, (part) => s.write(part.map((r) => r.row)))));
    const refusedBy = new Map<RowItem, string[]>();
    results.forEach(([res], i) => {
      for (const f of res.refused) {
        const list = refusedBy.get(f.value) ?? [];
        list.push(`${sinks[i]!.name}: ${f.reason}`);
        refusedBy.set(f.value, list);
      }
    });
    for (const [r, reasons] of refusedBy) {
      const refusing = new Set(reasons.map((x) => x.slice(0, x.indexOf(':'))));
      await this.deadLetter({
        kind: 'row',
        rec: r.rec,
        ...(r.item?.index !== undefined ? { index: r.item.index } : {}),
        data: Buffer.from(JSON.stringify(r.item?.tick ?? r.row)).toString('base64'),
        reason: `refused by ${reasons.join('; ')}`,
        row: r.row,
        heldBy: sinks.map((s) => s.name).filter((n) => !refusing.has(n)),
      });
    }
  }

  /**
   * The core threw on a tick: dead-letter it with the error and its stack,
   * and rebuild the symbol's analyzer as it was before it (a throw halfway
   * through analyze() may have updated some indicators): the snapshot, plus
   * the symbol's ticks applied since the last checkpoint, replayed.
   */
  private async analysisFailed(item: Item, err: unknown): Promise<void> {
    const sym = item.tick.symbol;
    this.error('analysis', err);
    await this.deadLetter({
      kind: 'tick',
      rec: item.rec,
      ...(item.index !== undefined ? { index: item.index } : {}),
      data: Buffer.from(JSON.stringify(item.tick)).toString('base64'),
      reason: `analysis failed: ${describeError(err)}`,
      ...(err instanceof Error && err.stack !== undefined ? { stack: err.stack.slice(0, 4000) } : {}),
    });
    this.analyzers.delete(sym);
    await this.loadMissing([item]);
    const a = this.analyzers.get(sym)!;
    for (const t of this.appliedSinceCheckpoint) {
      if (t.symbol !== sym) continue;
      try {
        a.analyze(t);
      } catch (again) {
        // Deterministic code gave a different answer the second time: keep
        // what the snapshot says and say so; a failover would do the same.
        this.error('analysis replay', again);
        this.log.error('rebuilding the symbol failed; it continues from its snapshot', { symbol: sym, error: describeError(again) });
        this.analyzers.set(sym, (await this.freshAnalyzers([sym])).get(sym)!);
        return;
      }
    }
    this.log.warn('symbol rebuilt after an analysis failure', { symbol: sym, ts: item.tick.ts });
  }

  private async checkpoint(checkpoint: CheckpointFn, seq: string): Promise<void> {
    await this.persist();
    await checkpoint(seq);
    this.checkpointedAt = seq;
    if (this.batch !== undefined) this.batch.checkpointedAt = seq;
    this.sinceCheckpoint = 0;
    this.appliedSinceCheckpoint = [];
    this.lastCheckpointAt = this.now();
  }

  /** Flush sinks, then write the snapshots of the symbols touched since the last checkpoint. */
  private async persist(): Promise<void> {
    await Promise.all(this.deps.sinks.map((s) => this.until(`${s.name} flush`, () => s.flush())));
    if (this.dirty.size === 0) return;
    const snaps: StateSnapshot[] = [];
    for (const sym of this.dirty) {
      const a = this.analyzers.get(sym);
      if (a === undefined || a.lastTs === null) continue;
      snaps.push({ symbol: sym, last_ts: a.lastTs, state: a.getState() });
    }
    const [res, results] = await this.deliver('state save', snaps, (part) => this.deps.state.putMany(part));
    const stale = results.flatMap((r) => r.stale);
    if (stale.length > 0) this.log.warn('snapshots older than stored ones were not written', { symbols: stale.slice(0, 20), count: stale.length });
    // A snapshot the store refuses leaves the older one in place: a new
    // owner replays from it, which the idempotent sinks absorb.
    for (const f of res.refused) this.log.error('state snapshot refused for good; the stored one stays', { symbol: f.value.symbol, last_ts: f.value.last_ts, reason: f.reason });
    this.dirty.clear();
  }

  private async loadMissing(items: readonly Item[]): Promise<void> {
    const missing = new Set<string>();
    for (const { tick } of items) if (!this.analyzers.has(tick.symbol)) missing.add(tick.symbol);
    if (missing.size === 0) return;
    for (const [sym, a] of await this.freshAnalyzers([...missing], true)) this.analyzers.set(sym, a);
  }

  /** Analyzers from the symbols' snapshots (or cold, without one). */
  private async freshAnalyzers(symbols: readonly string[], fromSnapshots = false): Promise<Map<string, SymbolAnalyzer>> {
    const out = new Map<string, SymbolAnalyzer>();
    let snaps = new Map<string, StateSnapshot>();
    if (fromSnapshots) {
      const [res, got] = await this.deliver('state load', [symbols], ([syms]) => this.deps.state.get(syms!));
      if (got.length > 0) snaps = got[0]!;
      // Unreadable for good: the symbols start cold, which is visible (their indicators warm up again).
      for (const f of res.refused) this.log.error('state could not be loaded; starting the symbols cold', { symbols: f.value.slice(0, 20), reason: f.reason });
    }
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
      out.set(sym, analyzer ?? new SymbolAnalyzer(sym, this.deps.analysis));
    }
    return out;
  }

  private async deadLetter(d: { kind: DeadLetterKind; rec: KclRecord; index?: number; data: string; reason: string; row?: EnrichedTick; heldBy?: string[]; stack?: string }): Promise<void> {
    const id = `${this.shardId}/${d.rec.sequenceNumber}${d.index === undefined ? '' : `/${d.index}`}`;
    const letter: DeadLetter = {
      id,
      kind: d.kind,
      data_base64: d.data,
      partition_key: d.rec.partitionKey,
      shard_id: this.shardId,
      sequence_number: d.rec.sequenceNumber,
      reason: d.reason,
      ...(d.row !== undefined ? { row: d.row } : {}),
      ...(d.heldBy !== undefined ? { held_by: d.heldBy } : {}),
      ...(d.stack !== undefined ? { stack: d.stack } : {}),
      at: new Date(this.now()).toISOString(),
    };
    this.log.warn('dead letter', { id, kind: d.kind, reason: d.reason.slice(0, 300) });
    const [res] = await this.deliver('dead letter', [letter], ([l]) => this.deps.dlq.put(l!));
    // The queue refused the letter itself: the log line is then the only copy, so it carries everything.
    for (const f of res.refused) this.log.error('dead-letter queue refused the letter; it is kept in this log line', { letter: f.value, reason: f.reason });
    if (this.batch !== undefined) this.batch.deadLetters++;
    this.deps.onEvent?.({ kind: 'deadLetter', deadLetterKind: d.kind, id, reason: d.reason });
  }

  private async clearLedger(): Promise<void> {
    const ledger = this.deps.ledger;
    if (ledger !== undefined) await this.bestEffort('restart ledger', () => ledger.clear(this.shardId));
  }

  private error(what: string, err: unknown): void {
    if (this.batch !== undefined) this.batch.errors++;
    this.deps.onEvent?.({ kind: 'error', what, code: classifyError(err).code });
  }

  /**
   * The crash-loop ledger is a safety net, not a duty: an error it cannot get
   * past (a refusal, after deliver's retries) is logged and the shard goes on
   * without it. Transient errors are still retried and configuration errors
   * still stop the worker, like everywhere else.
   */
  private async bestEffort<T>(what: string, op: () => Promise<T>): Promise<T | undefined> {
    const [res, out] = await this.deliver(what, [undefined], () => op());
    for (const f of res.refused) this.log.error(`${what} failed for good; going on without it`, { reason: f.reason });
    return out[0];
  }

  /** `deliver` for an operation with nothing to isolate: done, or retried; a refusal is retried too. */
  private async until<T>(what: string, op: () => Promise<T>): Promise<T> {
    for (;;) {
      const [res, out] = await this.deliver(what, [undefined], () => op());
      if (res.refused.length === 0) return out[0]!;
      await this.pause(what, 1);
    }
  }

  /**
   * Runs `op` over `items` until every item is written or refused for good.
   * Transient errors: retried with backoff until they pass (or the lease is
   * lost). Configuration: ConfigurationStopError. Item errors (and unknown
   * ones past `unknownErrorAttempts`): the call is split in halves until the
   * refused items stand alone; the others are written. Returns what was
   * refused with the reason, and each successful call's result.
   */
  private async deliver<I, R>(what: string, items: readonly I[], op: (part: readonly I[]) => Promise<R>): Promise<[{ done: R | undefined; refused: Refusal<I>[] }, R[]]> {
    const results: R[] = [];
    const refused: Refusal<I>[] = [];
    // One consumer error per failing operation, however many retries or
    // halvings it takes: the count says how often something went wrong.
    let counted = false;
    const run = async (part: readonly I[]): Promise<void> => {
      let failures = 0;
      for (;;) {
        try {
          results.push(await op(part));
          return;
        } catch (err) {
          if (this.lost) throw new LeaseLostError(`lease lost during ${what}`, { cause: err });
          if (err instanceof ConfigurationStopError || err instanceof LeaseLostError) throw err;
          const c = classifyError(err);
          failures++;
          if (!counted) this.error(what, err);
          counted = true;
          if (c.class === 'config') {
            this.log.error(`${what}: configuration error, stopping the worker`, { error: describeError(err), code: c.code, hint: c.hint });
            throw new ConfigurationStopError(what, c.code, c.hint ?? 'check the configuration', err);
          }
          const permanent = c.class === 'item' || (c.class === 'unknown' && failures >= (this.deps.unknownErrorAttempts ?? DEFAULT_UNKNOWN_ATTEMPTS));
          if (!permanent) {
            this.log.error(`${what} failed; retrying, nothing is checkpointed past it`, { attempt: failures, error: describeError(err), code: c.code, class: c.class });
            if (this.batch !== undefined) this.batch.sinkRetries++;
            this.deps.onEvent?.({ kind: 'retry', what, code: c.code });
            await this.pause(what, failures);
            continue;
          }
          if (part.length === 1) {
            refused.push({ value: part[0]!, reason: describeErrorChain(err) });
            return;
          }
          // Isolate: one bad item fails a whole call (a BatchWriteItem of 25);
          // halves find it in log2(n) calls and write the rest. Writes are
          // idempotent, so repeating the good items is safe.
          const mid = Math.ceil(part.length / 2);
          await run(part.slice(0, mid));
          await run(part.slice(mid));
          return;
        }
      }
    };
    if (items.length > 0) await run(items);
    return [{ done: results.length === 1 ? results[0] : undefined, refused }, results];
  }

  private async pause(_what: string, attempt: number): Promise<void> {
    await sleep(this.deps.retryDelayMs?.(attempt) ?? backoffDelay(attempt - 1, SINK_DOWN_BACKOFF));
  }
}

/**
 * Fault injection for the crash-loop test: an exception thrown from a timer
 * is outside every handler of ours, like a bug in a library callback; Node
 * exits the process with it, and the daemon with us.
 */
async function crashOutsideEveryHandler(rec: KclRecord): Promise<never> {
  setImmediate(() => {
    throw new Error(`injected crash on record ${rec.sequenceNumber}`);
  });
  return new Promise<never>(() => undefined);
}
