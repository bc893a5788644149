import dgram from 'node:dgram';
import { addCounters, zeroCounters, type BatchCounters, type BatchStats } from './shard-processor';

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
  errors: number;
  millisBehindLatest?: number;
  /** a sample of put→acknowledged latencies (ms) since the last message */
  latenciesMs: number[];
}

const MAX_LATENCY_SAMPLES = 200;

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

  record(s: BatchStats, errors = 0): void {
    const p = (this.pending ??= { ...zeroCounters(), worker: this.worker, pid: process.pid, shardId: s.shardId, errors: 0, latenciesMs: [] });
    p.shardId = s.shardId;
    addCounters(p, s);
    p.errors += errors;
    if (s.millisBehindLatest !== undefined) p.millisBehindLatest = s.millisBehindLatest;
    // Even sampling keeps datagrams small at any batch size.
    const step = Math.max(1, Math.ceil(s.latenciesMs.length / MAX_LATENCY_SAMPLES));
    for (let i = 0; i < s.latenciesMs.length && p.latenciesMs.length < 4 * MAX_LATENCY_SAMPLES; i += step) p.latenciesMs.push(s.latenciesMs[i]!);
    this.timer ??= setTimeout(() => this.flush(), this.intervalMs);
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
