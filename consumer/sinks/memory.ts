/**
 * In-memory adapters, for unit tests only (the processor's and the sinks').
 * They keep the ports' semantics (idempotent state with stale detection,
 * alert dedup + cooldown through the same gate as SNS and local) and can be
 * told to fail, so the processor's "no checkpoint past an unacknowledged
 * write" rule can be tested without a server.
 */
import type { EnrichedTick } from '../../shared/enriched';
import { SinkWriteError, StateStoreError } from '../errors';
import type { Alert, AlertPublisher, DeadLetter, DeadLetterQueue, PublishResult, RestartLedger, ShardStarts, StateSnapshot, StateStore, TickSink } from '../ports';
import type { AlertLedger } from './alert-gate';
import { DedupCooldownPublisher } from './alert-gate';

export class MemoryTickSink implements TickSink {
  readonly rows: EnrichedTick[] = [];
  /** Calls left to reject before writes succeed again. */
  failNext = 0;
  flushes = 0;
  /** Rows this sink refuses for good: a call holding one fails whole with a
   *  ValidationException, as a BatchWriteItem of 25 does. */
  refuse: ((row: EnrichedTick) => boolean) | undefined;
  /** Calls, with the rows of each, for tests of item isolation. */
  readonly calls: number[] = [];

  constructor(readonly name = 'memory') {}

  write(rows: readonly EnrichedTick[]): Promise<void> {
    this.calls.push(rows.length);
    if (this.failNext > 0) {
      this.failNext--;
      return Promise.reject(new SinkWriteError(this.name, 'injected failure', { cause: transientCause() }));
    }
    const bad = this.refuse === undefined ? undefined : rows.find(this.refuse);
    if (bad !== undefined) {
      const cause = Object.assign(new Error('Number overflow. Attempting to store a number with magnitude larger than supported range'), { name: 'ValidationException' });
      return Promise.reject(new SinkWriteError(this.name, `write of ${rows.length} row(s) failed`, { cause }));
    }
    this.rows.push(...rows.map((r) => ({ ...r })));
    return Promise.resolve();
  }

  flush(): Promise<void> {
    this.flushes++;
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

export class MemoryStateStore implements StateStore {
  readonly items = new Map<string, { last_ts: number; json: string }>();
  failNext = 0;

  get(symbols: readonly string[]): Promise<Map<string, StateSnapshot>> {
    const out = new Map<string, StateSnapshot>();
    for (const s of symbols) {
      const it = this.items.get(s);
      // Round-trip through JSON like the real stores, so tests catch state
      // that does not survive serialisation.
      if (it) out.set(s, { symbol: s, last_ts: it.last_ts, state: JSON.parse(it.json) as unknown });
    }
    return Promise.resolve(out);
  }

  putMany(snapshots: readonly StateSnapshot[]): Promise<{ stale: string[] }> {
    if (this.failNext > 0) {
      this.failNext--;
      return Promise.reject(new StateStoreError('injected failure', { cause: transientCause() }));
    }
    const stale: string[] = [];
    for (const s of snapshots) {
      const cur = this.items.get(s.symbol);
      if (cur && cur.last_ts > s.last_ts) stale.push(s.symbol);
      else this.items.set(s.symbol, { last_ts: s.last_ts, json: JSON.stringify(s.state) });
    }
    return Promise.resolve({ stale });
  }
}

class MemoryLedger implements AlertLedger {
  readonly delivered: Alert[] = [];
  readonly published = new Set<string>();
  readonly pending = new Set<string>();
  readonly last = new Map<string, number>();

  lastPublishedTs(symbol: string): Promise<number | undefined> {
    return Promise.resolve(this.last.get(symbol));
  }
  wasPublished(id: string): Promise<boolean> {
    return Promise.resolve(this.published.has(id));
  }
  claim(alert: Alert): Promise<'claimed' | 'duplicate'> {
    if (this.published.has(alert.id)) return Promise.resolve('duplicate');
    this.pending.add(alert.id);
    return Promise.resolve('claimed');
  }
  deliver(alert: Alert): Promise<string | undefined> {
    this.delivered.push({ ...alert });
    return Promise.resolve(undefined);
  }
  markPublished(alert: Alert): Promise<void> {
    this.pending.delete(alert.id);
    this.published.add(alert.id);
    return Promise.resolve();
  }
  advance(symbol: string, ts: number): Promise<void> {
    if (ts > (this.last.get(symbol) ?? -Infinity)) this.last.set(symbol, ts);
    return Promise.resolve();
  }
}

export class MemoryAlertPublisher implements AlertPublisher {
  private readonly ledger = new MemoryLedger();
  private readonly gate: DedupCooldownPublisher;
  readonly results: { alert: Alert; result: PublishResult }[] = [];

  constructor(cooldownMs = 0) {
    this.gate = new DedupCooldownPublisher(this.ledger, cooldownMs);
  }

  /** Alerts delivered (each at most once per id). */
  get delivered(): readonly Alert[] {
    return this.ledger.delivered;
  }

  async publish(alert: Alert): Promise<PublishResult> {
    const result = await this.gate.publish(alert);
    this.results.push({ alert, result });
    return result;
  }
}

export class MemoryDeadLetterQueue implements DeadLetterQueue {
  readonly letters: DeadLetter[] = [];

  put(letter: DeadLetter): Promise<void> {
    this.letters.push({ ...letter });
    return Promise.resolve();
  }
}

/** Unit tests only: the restart ledger as a map. */
export class MemoryRestartLedger implements RestartLedger {
  readonly items = new Map<string, ShardStarts>();

  recordStart(shardId: string, checkpoint: string): Promise<ShardStarts> {
    const prev = this.items.get(shardId);
    const same = prev?.checkpoint === checkpoint;
    const next: ShardStarts = { checkpoint, starts: same ? prev.starts + 1 : 1 };
    if (same && prev?.suspect !== undefined) next.suspect = prev.suspect;
    this.items.set(shardId, next);
    return Promise.resolve({ ...next });
  }

  markSuspect(shardId: string, checkpoint: string, starts: number, sequenceNumber: string): Promise<void> {
    this.items.set(shardId, { checkpoint, starts, suspect: sequenceNumber });
    return Promise.resolve();
  }

  clear(shardId: string): Promise<void> {
    this.items.delete(shardId);
    return Promise.resolve();
  }
}

/** What an unreachable service looks like to a sink: a transient error (shared/error-class.ts). */
function transientCause(): Error {
  return Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
}
