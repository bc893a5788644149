/**
 * The consumer's ports: what the record processor needs from the outside
 * world, and nothing about how it is provided. Each port has an AWS adapter,
 * a local adapter (emulator, local lake, files) and, for unit tests only, an
 * in-memory one (consumer/sinks/memory.ts).
 *
 * Checkpoint contract (DESIGN.md "State and checkpoints"): before the
 * processor checkpoints KCL at sequence number N, every record up to N must
 * be acknowledged by every port: `await sink.flush()` on each TickSink, every
 * `publish`/`put` promise settled, then `StateStore.putMany`, then checkpoint.
 */
import type { Alert as CoreAlert } from '../analytics/alerts';
import type { EnrichedTick } from '../shared/enriched';

export type { AlertType } from '../analytics/alerts';

/**
 * The part of the analytics core's alert that the alert ports use: `id` is
 * deterministic (hash of symbol, type and tick ts), so a replay yields the
 * same id; `ts` is the tick's own time, and cooldowns are measured on it,
 * never on the wall clock. Narrower than the core's, so an adapter cannot
 * come to depend on fields the core may change.
 */
export type Alert = Pick<CoreAlert, 'id' | 'symbol' | 'type' | 'ts' | 'price' | 'message'>;

/** Where enriched ticks go: DynamoDB ticks/latest, Firehose, the local lake. */
export interface TickSink {
  /** For logs and metrics. */
  readonly name: string;
  /**
   * Hand over a batch, in stream order. Resolves once the sink has accepted
   * every row: for unbuffered sinks (DynamoDB, Firehose) that is a durable
   * acknowledgement; a buffering sink (the local lake) may only have queued
   * them. Rejects with a SinkError if the batch could not be accepted; the
   * caller must then not checkpoint past it (a retry of the same rows is safe).
   */
  write(rows: readonly EnrichedTick[]): Promise<void>;
  /** Resolves when everything written before the call is durable. */
  flush(): Promise<void>;
  /** Flush, then release timers and handles. */
  close(): Promise<void>;
}

export interface StateSnapshot {
  symbol: string;
  /** ts of the last tick applied to `state`: ticks at or before it are duplicates. */
  last_ts: number;
  /** The analyzer's plain-data state (JSON-serialisable). `unknown` on the way
   *  back: the core validates it before restoring. */
  state: unknown;
}

export interface StateStore {
  /** Snapshots of the symbols that have one; absent symbols are simply missing from the map. */
  get(symbols: readonly string[]): Promise<Map<string, StateSnapshot>>;
  /**
   * Save snapshots. A snapshot older than the stored one (`last_ts` lower: a
   * worker that lost its lease writing late) is not written and is reported
   * in `stale`; that is not an error.
   */
  putMany(snapshots: readonly StateSnapshot[]): Promise<{ stale: string[] }>;
}

/**
 * 'published': delivered now. 'duplicate': this alert id was already
 * delivered (a replay). 'cooldown': suppressed because the symbol alerted
 * less than the cooldown before, in tick time.
 */
export type PublishResult = 'published' | 'duplicate' | 'cooldown';

export interface AlertPublisher {
  /** Resolves once the outcome is durable (dedup record written, message accepted). */
  publish(alert: Alert): Promise<PublishResult>;
}

/**
 * What was dead-lettered:
 * - `record`: the record's bytes could not be decoded or validated; `data_base64` is the record as read.
 * - `tick`: one tick of a valid record could not be analysed (the core threw); `data_base64` is that tick's JSON.
 * - `row`: a sink refused the enriched row for good (a value it cannot store); `data_base64` is the tick's
 *   JSON and `row` the enriched row, so a redrive can store exactly the row that was computed then.
 * - `crash`: the record killed the record processor on every attempt (crash-loop quarantine).
 */
export type DeadLetterKind = 'record' | 'tick' | 'row' | 'crash';

export interface DeadLetter {
  /** Stable id `<shard_id>/<sequence_number>[/<tick index>]`: a replay dead-letters under the same id. */
  id: string;
  kind: DeadLetterKind;
  /** The bytes to redrive, base64: the raw record (`record`, `crash`) or one tick's JSON (`tick`, `row`). */
  data_base64: string;
  /** The record's partition key (the symbol): a redrive puts it back on the same key. */
  partition_key: string;
  shard_id: string;
  sequence_number: string;
  reason: string;
  /** `row` only: the enriched row a sink refused. */
  row?: EnrichedTick;
  /** `row` only: the sinks that had already stored the row when another refused it (progress wins). */
  held_by?: string[];
  /** `tick` only: the stack of the error the core threw, for the bug report. */
  stack?: string;
  /** ISO-8601 time the record was dead-lettered. */
  at: string;
}

export interface DeadLetterQueue {
  /** Resolves once the dead letter is durably stored. */
  put(letter: DeadLetter): Promise<void>;
}

/**
 * Crash-loop bookkeeping per shard (one item per shard, written at start-up
 * and on a clean stop, never per batch). A processor that dies is restarted
 * at the same checkpoint; `starts` counts those restarts, so after a few the
 * shard is processed record by record (`suspect` = the record about to be
 * processed) and the record that kills it is dead-lettered.
 */
export interface ShardStarts {
  /** The checkpoint these starts began at. */
  checkpoint: string;
  /** Starts at that checkpoint, this one included. */
  starts: number;
  /** Quarantine: the record being processed when the processor last died. */
  suspect?: string;
}

export interface RestartLedger {
  /** Count one more start of `shardId` at `checkpoint` (a different checkpoint starts over at 1). */
  recordStart(shardId: string, checkpoint: string): Promise<ShardStarts>;
  /** Quarantine: about to process `sequenceNumber`, the shard being checkpointed at `checkpoint`. */
  markSuspect(shardId: string, checkpoint: string, starts: number, sequenceNumber: string): Promise<void>;
  /** A clean stop, a configuration stop, or progress out of quarantine: forget the starts. */
  clear(shardId: string): Promise<void>;
}
