import dgram from 'node:dgram';
import { COUNTER_KEYS, EVENT_COUNTERS, zeroCounters, type BatchCounters, type BatchStats, type ProcessorEvent } from './shard-processor';

/**
 * Local mode only: processors report progress to the `npm start` orchestrator
 * as UDP datagrams on 127.0.0.1. Fire-and-forget on purpose: a status line
 * must never slow or block record processing, and stdout is not available
 * (it carries the MultiLangDaemon protocol).
 */
export interface StatusMessage extends BatchCounters {
  worker: string;
  pid: number;
  shardId: string;
  /** Shards this process has started (initialize) since the last message. */
  started?: string[];
  millisBehindLatest?: number;
  /** startedAt of the earliest batch since the last message that applied a
   *  tick (BatchStats.startedAt): no tick of the shard was applied before it
   *  that was not already reported. */
  appliedSince?: number;
  /** a sample of put→acknowledged latencies (ms) since the last message */
  latenciesMs: number[];
}

const MAX_LATENCY_SAMPLES = 200;
/** Batch counters not already reported by event(). */
const BATCH_ONLY = COUNTER_KEYS.filter((k) => !EVENT_COUNTERS.includes(k));

export class StatusReporter {
  private readonly sock = dgram.createSocket('udp4');
  private pending: StatusMessage | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly port: number,
    private readonly worker: string,
    private readonly intervalMs = 250,
  ) {
    this.sock.unref();
    this.sock.on('error', () => undefined);
  }

  record(s: BatchStats): void {
    const p = this.take(s.shardId);
    for (const k of BATCH_ONLY) p[k] += s[k];
    if (s.millisBehindLatest !== undefined) p.millisBehindLatest = s.millisBehindLatest;
    if (s.applied > 0) p.appliedSince = Math.min(p.appliedSince ?? s.startedAt, s.startedAt);
    // Even sampling keeps datagrams small at any batch size.
    const step = Math.max(1, Math.ceil(s.latenciesMs.length / MAX_LATENCY_SAMPLES));
    for (let i = 0; i < s.latenciesMs.length && p.latenciesMs.length < 4 * MAX_LATENCY_SAMPLES; i += step) p.latenciesMs.push(s.latenciesMs[i]!);
  }

  /** Errors, retries and dead letters as they happen: a batch that waits on a sink for minutes still shows them. */
  event(e: ProcessorEvent): void {
    const p = this.take(undefined);
    if (e.kind === 'error') p.errors++;
    else if (e.kind === 'retry') p.sinkRetries++;
    else p.deadLetters++;
  }

  /** A shard's processor has started: the orchestrator stops saying the workers are bootstrapping. */
  started(shardId: string): void {
    const p = this.take(shardId);
    (p.started ??= []).push(shardId);
  }

  private take(shardId: string | undefined): StatusMessage {
    const p = (this.pending ??= { ...zeroCounters(), worker: this.worker, pid: process.pid, shardId: shardId ?? 'unknown', latenciesMs: [] });
    if (shardId !== undefined) p.shardId = shardId;
    this.timer ??= setTimeout(() => this.flush(), this.intervalMs);
    return p;
  }

  flush(): void {
    this.timer = undefined;
    const p = this.pending;
    if (p === undefined) return;
    this.pending = undefined;
    this.sock.send(JSON.stringify(p), this.port, '127.0.0.1');
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.flush();
    setTimeout(() => this.sock.close(), 50).unref();
  }
}
