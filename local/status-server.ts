import dgram from 'node:dgram';
import { addCounters, zeroCounters, type BatchCounters } from '../consumer/shard-processor';
import { LostReports, type StatusMessage } from '../consumer/status';

export interface ConsumerTotals extends BatchCounters {
  /** Shards whose record processor has started, by any worker. */
  shardsStarted: Set<string>;
  /** latest millisBehindLatest per shard */
  behindByShard: Map<string, number>;
  /** A sliding sample (the oldest are dropped past 200,000): slice it with
   *  latenciesSince(), not by index, in a long run. */
  latenciesMs: number[];
  /** Latency samples ever received, dropped ones included. */
  latencySamples: number;
  /** Per record-processor pid, its worker and the shards it reported on
   *  (one in practice: the daemon starts a process per shard). */
  processors: Map<number, { worker: string; shards: Set<string> }>;
  firstAppliedAt: number | undefined;
  /** Per shard, the processor's own clock when it took the first batch that
   *  applied a tick there (StatusMessage.appliedSince): a lower bound on its
   *  first write, so "after the parents' SHARD_END" can be checked. */
  firstAppliedByShard: Map<string, number>;
  workers: Set<string>;
  /** Datagrams lost on the way (`lost.lost`). */
  reportsLost: LostReports;
}

export function emptyTotals(): ConsumerTotals {
  return { ...zeroCounters(), shardsStarted: new Set(), behindByShard: new Map(), latenciesMs: [], latencySamples: 0, processors: new Map(), firstAppliedAt: undefined, firstAppliedByShard: new Map(), workers: new Set(), reportsLost: new LostReports() };
}

/** Adds one processor report to the totals; `now` is when it arrived. */
export function addStatus(t: ConsumerTotals, m: StatusMessage, now: number): void {
  addCounters(t, m);
  t.reportsLost.see(m);
  for (const s of m.started ?? []) t.shardsStarted.add(s);
  t.workers.add(m.worker);
  if (m.shardId !== 'unknown') {
    const p = t.processors.get(m.pid) ?? { worker: m.worker, shards: new Set<string>() };
    p.shards.add(m.shardId);
    t.processors.set(m.pid, p);
  }
  if (m.millisBehindLatest !== undefined) t.behindByShard.set(m.shardId, m.millisBehindLatest);
  if (t.firstAppliedAt === undefined && m.applied > 0) t.firstAppliedAt = now;
  if (m.appliedSince !== undefined) {
    const seen = t.firstAppliedByShard.get(m.shardId);
    // datagrams can arrive out of order: keep the earliest
    if (seen === undefined || m.appliedSince < seen) t.firstAppliedByShard.set(m.shardId, m.appliedSince);
  }
  // bounded: a long run keeps a sliding sample
  for (const l of m.latenciesMs) t.latenciesMs.push(l);
  t.latencySamples += m.latenciesMs.length;
  if (t.latenciesMs.length > 200_000) t.latenciesMs.splice(0, t.latenciesMs.length - 100_000);
}

/** The latency samples received since `t.latencySamples` was `mark`
 *  (as many as the sliding sample still holds). */
export function latenciesSince(t: ConsumerTotals, mark: number): number[] {
  const fresh = Math.min(t.latenciesMs.length, Math.max(0, t.latencySamples - mark));
  return fresh === 0 ? [] : t.latenciesMs.slice(t.latenciesMs.length - fresh);
}

/** Collects the record processors' UDP progress reports (consumer/status.ts). */
export class StatusServer {
  readonly totals: ConsumerTotals = emptyTotals();
  // A larger receive buffer rides out a busy event loop (the producer runs in
  // this process); Linux caps it at net.core.rmem_max, and what is still
  // dropped is counted (reportsLost).
  private readonly sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 8 * 1024 * 1024 });
  private readonly listeners = new Set<(m: StatusMessage, at: number) => void>();
  port = 0;

  /** Every report as it arrives, with its arrival time on this clock (e.g.
   *  to time a takeover per shard from a kill). Returns the unsubscribe. */
  onReport(listener: (m: StatusMessage, at: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async start(): Promise<number> {
    this.sock.on('message', (buf) => this.onMessage(buf));
    await new Promise<void>((resolve) => this.sock.bind(0, '127.0.0.1', resolve));
    this.port = this.sock.address().port;
    return this.port;
  }

  private onMessage(buf: Buffer): void {
    let m: StatusMessage;
    try {
      m = JSON.parse(buf.toString('utf8')) as StatusMessage;
    } catch {
      return;
    }
    const at = Date.now();
    addStatus(this.totals, m, at);
    for (const l of this.listeners) {
      try {
        l(m, at);
      } catch {
        /* a listener's error is its own */
      }
    }
  }

  close(): void {
    this.sock.close();
  }
}

export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
