import dgram from 'node:dgram';
import type { Alert } from '../analytics/alerts';
import type { EnrichedTick } from '../shared/enriched';
import { COUNTER_KEYS, EVENT_COUNTERS, zeroCounters, type BatchCounters, type BatchStats, type ProcessorEvent } from './shard-processor';

/**
 * Local mode only: processors report progress to the `npm start` orchestrator
 * as UDP datagrams on 127.0.0.1. Fire-and-forget on purpose: a status line
 * must never slow or block record processing, and stdout is not available
 * (it carries the MultiLangDaemon protocol).
 *
 * The same channel carries what the local dashboard shows live: the rows the
 * processor stored, the alerts it published, its dead letters and errors.
 * Why UDP and not a stream: a stream socket pushes back (a slow reader would
 * fill the processor's write buffer, and then the processor must either wait
 * or drop by hand), and it needs reconnecting after the orchestrator
 * restarts; a datagram is sent or dropped by the kernel and never waits. What
 * a drop costs is bounded: each report carries a sequence number so the
 * receiver counts what it lost (the pipeline page shows it), a lost row is
 * superseded by the symbol's next one, and counters are only ever lost with
 * their datagram (the loopback drops only when the receiver's buffer is
 * full). Each datagram is kept under MAX_DATAGRAM_BYTES, far under the
 * 64 KB UDP limit: a report too big for one is split into several.
 */
export interface StatusMessage extends BatchCounters {
  worker: string;
  pid: number;
  shardId: string;
  /** Per reporter, +1 a datagram: gaps are lost datagrams. */
  seq?: number;
  /** Shards this process has started (initialize) since the last message. */
  started?: string[];
  millisBehindLatest?: number;
  /** startedAt of the earliest batch since the last message that applied a
   *  tick (BatchStats.startedAt): no tick of the shard was applied before it
   *  that was not already reported. */
  appliedSince?: number;
  /** a sample of put→acknowledged latencies (ms) since the last message */
  latenciesMs: number[];
  /** Rows every sink acknowledged, in shard order. */
  rows?: LiveRow[];
  /** Rows replaced by a later row of their symbol before they were sent
   *  (only past MAX_ROWS_PER_FLUSH in one flush). */
  rowsCoalesced?: number;
  alerts?: LiveAlert[];
  letters?: LiveLetter[];
  errorEvents?: LiveError[];
  /** The sequence number the shard was last checkpointed at. */
  checkpoint?: string;
}

/** The columns of a stored row the dashboard shows. */
const LIVE_COLUMNS = ['symbol', 'ts', 'price', 'volume', 'change_pct', 'sma5', 'sma20', 'rsi14', 'bb_upper', 'bb_lower', 'volume_ratio', 'signal', 'anomaly', 'volume_spike', 'produced_at'] as const satisfies readonly (keyof EnrichedTick)[];

/** A stored row as the dashboard shows it, and when it was stored. */
export type LiveRow = Pick<EnrichedTick, (typeof LIVE_COLUMNS)[number]> & {
  /** Processor's clock when every sink (DynamoDB included) had acknowledged it. */
  stored_at: number;
};

/** A published alert, with the text the SNS message carries. */
type LiveAlert = Pick<Alert, 'id' | 'symbol' | 'type' | 'ts' | 'price' | 'message'>;

export interface LiveLetter {
  id: string;
  kind: string;
  /** The reason, cut at MAX_REASON_CHARS (the dead-letter file has all of it). */
  reason: string;
  at: number;
}

interface LiveError {
  what: string;
  code: string;
  at: number;
}

const MAX_LATENCY_SAMPLES = 200;
/** Past this many rows in one flush, only a symbol's latest row is kept. */
const MAX_ROWS_PER_FLUSH = 2000;
const MAX_EVENTS_PER_FLUSH = 100;
const MAX_REASON_CHARS = 1000;
/** Half the UDP limit: room for the head and for a row's worst case. */
export const MAX_DATAGRAM_BYTES = 32 * 1024;
/** Batch counters not already reported by event(). */
const BATCH_ONLY = COUNTER_KEYS.filter((k) => !EVENT_COUNTERS.includes(k));

function liveRow(r: EnrichedTick, storedAt: number): LiveRow {
  const out: Record<string, unknown> = { stored_at: storedAt };
  for (const k of LIVE_COLUMNS) out[k] = r[k];
  return out as LiveRow;
}

/** The pending report and, past the row budget, where each symbol's row sits in it. */
interface Pending {
  msg: StatusMessage;
  rowAt: Map<string, number> | undefined;
}

export class StatusReporter {
  private readonly sock = dgram.createSocket('udp4');
  private pending: Pending | undefined;
  private timer: NodeJS.Timeout | undefined;
  private seq = 0;

  constructor(
    private readonly port: number,
    private readonly worker: string,
    private readonly intervalMs = 250,
  ) {
    this.sock.unref();
    this.sock.on('error', () => undefined);
  }

  record(s: BatchStats): void {
    const pending = this.take(s.shardId);
    const p = pending.msg;
    for (const k of BATCH_ONLY) p[k] += s[k];
    if (s.millisBehindLatest !== undefined) p.millisBehindLatest = s.millisBehindLatest;
    if (s.applied > 0) p.appliedSince = Math.min(p.appliedSince ?? s.startedAt, s.startedAt);
    // Even sampling keeps datagrams small at any batch size.
    const step = Math.max(1, Math.ceil(s.latenciesMs.length / MAX_LATENCY_SAMPLES));
    for (let i = 0; i < s.latenciesMs.length && p.latenciesMs.length < 4 * MAX_LATENCY_SAMPLES; i += step) p.latenciesMs.push(s.latenciesMs[i]!);
    if (s.checkpointedAt !== undefined) p.checkpoint = s.checkpointedAt;
  }

  /** Rows every sink has acknowledged (ShardProcessorDeps.onStored). */
  stored(shardId: string, rows: readonly EnrichedTick[], storedAt: number): void {
    const pending = this.take(shardId);
    for (const r of rows) this.addRow(pending, liveRow(r, storedAt));
  }

  /** An alert just published (ShardProcessorDeps.onPublished). */
  published(shardId: string, a: Alert): void {
    const list = (this.take(shardId).msg.alerts ??= []);
    // alerts are rare (a cooldown per symbol); the cap only guards a flood
    if (list.length < MAX_ROWS_PER_FLUSH) list.push({ id: a.id, symbol: a.symbol, type: a.type, ts: a.ts, price: a.price, message: a.message });
  }

  /**
   * Every row while a flush holds few; past the budget a symbol's newer row
   * replaces its older one, so a flush stays bounded by the shard's symbols
   * whatever the rate (the dashboard's market needs the latest; the chart's
   * history is in the lake).
   */
  private addRow(pending: Pending, row: LiveRow): void {
    const rows = (pending.msg.rows ??= []);
    if (rows.length < MAX_ROWS_PER_FLUSH) {
      rows.push(row);
      return;
    }
    if (pending.rowAt === undefined) {
      pending.rowAt = new Map();
      rows.forEach((r, i) => pending.rowAt!.set(r.symbol, i));
    }
    const at = pending.rowAt.get(row.symbol);
    if (at === undefined) {
      pending.rowAt.set(row.symbol, rows.length);
      rows.push(row);
    } else {
      rows[at] = row;
      pending.msg.rowsCoalesced = (pending.msg.rowsCoalesced ?? 0) + 1;
    }
  }

  /** Errors, retries and dead letters as they happen: a batch that waits on a sink for minutes still shows them. */
  event(e: ProcessorEvent): void {
    const p = this.take(undefined).msg;
    const at = Date.now();
    if (e.kind === 'error') {
      p.errors++;
      const list = (p.errorEvents ??= []);
      if (list.length < MAX_EVENTS_PER_FLUSH) list.push({ what: e.what, code: e.code, at });
    } else if (e.kind === 'retry') p.sinkRetries++;
    else {
      p.deadLetters++;
      const list = (p.letters ??= []);
      if (list.length < MAX_EVENTS_PER_FLUSH) list.push({ id: e.id, kind: e.deadLetterKind, reason: e.reason.slice(0, MAX_REASON_CHARS), at });
    }
  }

  /** A shard's processor has started: the orchestrator stops saying the workers are bootstrapping. */
  started(shardId: string): void {
    const p = this.take(shardId).msg;
    (p.started ??= []).push(shardId);
  }

  private take(shardId: string | undefined): Pending {
    const p = (this.pending ??= { msg: { ...zeroCounters(), worker: this.worker, pid: process.pid, shardId: shardId ?? 'unknown', latenciesMs: [] }, rowAt: undefined });
    if (shardId !== undefined) p.msg.shardId = shardId;
    this.timer ??= setTimeout(() => this.flush(), this.intervalMs);
    return p;
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const p = this.pending;
    if (p === undefined) return;
    this.pending = undefined;
    for (const d of splitReport(p.msg, () => ++this.seq)) this.sock.send(d, this.port, '127.0.0.1');
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.flush();
    setTimeout(() => this.sock.close(), 50).unref();
  }
}

type ListKey = 'rows' | 'alerts' | 'letters' | 'errorEvents';
const LIST_KEYS: readonly ListKey[] = ['rows', 'alerts', 'letters', 'errorEvents'];

/**
 * One report as datagrams of at most MAX_DATAGRAM_BYTES: the first carries
 * the counters and as many list items as fit, the rest carry only list items
 * (their counters are zero, so the receiver can add every datagram alike).
 * Items are serialised once and the datagrams assembled from their text.
 */
export function splitReport(m: StatusMessage, nextSeq: () => number): string[] {
  const lists = LIST_KEYS.map((k) => [k, (m[k] ?? []).map((x) => JSON.stringify(x))] as const).filter(([, items]) => items.length > 0);
  const bare: StatusMessage = { ...m };
  for (const k of LIST_KEYS) delete bare[k];
  const out: string[] = [];
  let head: StatusMessage = bare;
  let i = 0;
  let j = 0;
  do {
    const withSeq = JSON.stringify({ ...head, seq: nextSeq() });
    let text = withSeq.slice(0, -1);
    let size = Buffer.byteLength(text) + 1;
    let first = true;
    while (i < lists.length) {
      const [key, items] = lists[i]!;
      const opening = `,"${key}":[`;
      let part = '';
      let partBytes = 0;
      let n = 0;
      while (j < items.length) {
        const item = items[j]!;
        const add = Buffer.byteLength(item) + (n > 0 ? 1 : 0);
        // An item alone over the budget is still sent (a datagram of its own):
        // it is at most one row or one cut reason, far under 64 KB.
        if (size + opening.length + partBytes + add + 1 > MAX_DATAGRAM_BYTES && !(first && n === 0)) break;
        part += (n > 0 ? ',' : '') + item;
        partBytes += add;
        n++;
        j++;
      }
      if (n > 0) {
        text += `${opening}${part}]`;
        size += opening.length + partBytes + 1;
        first = false;
      }
      if (j < items.length) break;
      i++;
      j = 0;
    }
    out.push(`${text}}`);
    head = { ...zeroCounters(), worker: m.worker, pid: m.pid, shardId: m.shardId, latenciesMs: [] };
  } while (i < lists.length);
  return out;
}

/**
 * Datagrams lost between one set of reporters and a receiver, from the gaps
 * in each reporter's sequence numbers (per pid: one reporter a process).
 */
export class LostReports {
  lost = 0;
  private readonly lastByPid = new Map<number, number>();

  see(m: Pick<StatusMessage, 'pid' | 'seq'>): void {
    if (m.seq === undefined) return;
    const last = this.lastByPid.get(m.pid);
    // a late datagram (below the last) was counted lost when the gap opened: take it back
    if (last !== undefined && m.seq > last + 1) this.lost += m.seq - last - 1;
    else if (last !== undefined && m.seq < last) this.lost = Math.max(0, this.lost - 1);
    this.lastByPid.set(m.pid, Math.max(last ?? 0, m.seq));
  }
}
