/**
 * The live view of a running local pipeline, built from nothing but the
 * record processors' status reports (consumer/status.ts): no emulator is
 * polled. Pure and in memory, so it is unit tested without a pipeline.
 */
import { addCounters, zeroCounters, type BatchCounters } from '../consumer/shard-processor';
import { LostReports, type LiveRow, type StatusMessage } from '../consumer/status';
import type { SourceUpdate } from './source';
import type { AlertItem, ChartPoint, DeadLetterItem, ErrorItem, MarketRow, PipelineView, ShardView } from './wire';

/** Recent points kept per symbol: the seconds the lake has not flushed yet, with room to spare. */
const POINTS_PER_SYMBOL = 120;
const RECENT = 200;
/** Rates are taken over this window. */
const RATE_WINDOW_MS = 5000;

export function marketRow(r: LiveRow | Omit<LiveRow, 'stored_at'>, last: { signal: MarketRow['last_signal']; ts: number | null }, storedAt: number | null): MarketRow {
  const band = r.bb_upper !== null && r.bb_lower !== null && r.bb_upper > r.bb_lower ? r.bb_upper - r.bb_lower : null;
  return {
    symbol: r.symbol,
    ts: r.ts,
    price: r.price,
    volume: r.volume,
    change_pct: r.change_pct,
    sma5: r.sma5,
    sma20: r.sma20,
    trend: r.sma5 === null || r.sma20 === null ? null : r.sma5 > r.sma20 ? 'UP' : 'DOWN',
    rsi14: r.rsi14,
    bb_pct: band === null ? null : ((r.price - r.bb_lower!) / band) * 100,
    volume_ratio: r.volume_ratio,
    last_signal: r.signal ?? last.signal,
    last_signal_ts: r.signal !== null ? r.ts : last.ts,
    stored_at: storedAt,
  };
}

export function chartPoint(r: Omit<LiveRow, 'stored_at'>): ChartPoint {
  return { ts: r.ts, price: r.price, volume: r.volume, sma5: r.sma5, sma20: r.sma20, bb_upper: r.bb_upper, bb_lower: r.bb_lower, rsi14: r.rsi14, signal: r.signal, anomaly: r.anomaly };
}

/** A count over a sliding window, for per-second rates. */
class Rate {
  private readonly samples: [number, number][] = [];
  add(at: number, n: number): void {
    if (n > 0) this.samples.push([at, n]);
  }
  perSec(now: number): number {
    while (this.samples.length > 0 && this.samples[0]![0] < now - RATE_WINDOW_MS) this.samples.shift();
    let sum = 0;
    for (const [, n] of this.samples) sum += n;
    return sum / (RATE_WINDOW_MS / 1000);
  }
}

interface ShardState {
  owner: string | null;
  checkpoint: string | null;
  behind: number | null;
  lastReportAt: number | null;
  records: Rate;
}

function pushBounded<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}

export class LiveStore {
  private readonly totals: BatchCounters = zeroCounters();
  private readonly lost = new LostReports();
  private readonly latest = new Map<string, MarketRow>();
  private readonly recentPoints = new Map<string, ChartPoint[]>();
  /** Oldest first. */
  private readonly recentAlerts: AlertItem[] = [];
  private readonly letters: DeadLetterItem[] = [];
  private readonly letterReasons = new Map<string, number>();
  private readonly errorEvents: ErrorItem[] = [];
  private readonly shards = new Map<string, ShardState>();
  private readonly applied = new Rate();

  constructor(private readonly o: { source: string; now?: () => number; produced?: () => number | null }) {}

  private now(): number {
    return this.o.now?.() ?? Date.now();
  }

  /** One processor report, as it arrived at `at`; returns what changed. */
  apply(m: StatusMessage, at: number): SourceUpdate {
    addCounters(this.totals, m);
    this.lost.see(m);
    this.applied.add(at, m.applied);
    if (m.shardId !== 'unknown') {
      const s = this.shards.get(m.shardId) ?? { owner: null, checkpoint: null, behind: null, lastReportAt: null, records: new Rate() };
      s.owner = m.worker;
      s.lastReportAt = at;
      s.records.add(at, m.records);
      if (m.checkpoint !== undefined) s.checkpoint = m.checkpoint;
      if (m.millisBehindLatest !== undefined) s.behind = m.millisBehindLatest;
      this.shards.set(m.shardId, s);
    }
    const rows: SourceUpdate['rows'] = [];
    for (const r of m.rows ?? []) {
      const prev = this.latest.get(r.symbol);
      // datagrams may arrive out of order: an older row never replaces a newer one
      if (prev !== undefined && prev.ts > r.ts) continue;
      const row = marketRow(r, { signal: prev?.last_signal ?? null, ts: prev?.last_signal_ts ?? null }, r.stored_at);
      const point = chartPoint(r);
      this.latest.set(r.symbol, row);
      let pts = this.recentPoints.get(r.symbol);
      if (pts === undefined) this.recentPoints.set(r.symbol, (pts = []));
      if (pts.length === 0 || pts[pts.length - 1]!.ts < point.ts) pushBounded(pts, point, POINTS_PER_SYMBOL);
      rows.push({ row, point });
    }
    const alerts: AlertItem[] = [];
    for (const a of m.alerts ?? []) {
      const item: AlertItem = { id: a.id, symbol: a.symbol, type: a.type, ts: a.ts, price: a.price, message: a.message };
      pushBounded(this.recentAlerts, item, RECENT);
      alerts.push(item);
    }
    for (const l of m.letters ?? []) {
      pushBounded(this.letters, { id: l.id, kind: l.kind, reason: l.reason, at: l.at }, RECENT);
      const key = l.reason.slice(0, 120);
      this.letterReasons.set(key, (this.letterReasons.get(key) ?? 0) + 1);
    }
    for (const e of m.errorEvents ?? []) pushBounded(this.errorEvents, { what: e.what, code: e.code, at: e.at }, RECENT);
    return { rows, alerts, pipeline: true };
  }

  hasSymbol(symbol: string): boolean {
    return this.latest.has(symbol);
  }

  market(): MarketRow[] {
    return [...this.latest.values()];
  }

  points(symbol: string): ChartPoint[] {
    return [...(this.recentPoints.get(symbol) ?? [])];
  }

  /** Newest first. */
  alerts(): AlertItem[] {
    return [...this.recentAlerts].reverse();
  }

  pipeline(): PipelineView {
    const now = this.now();
    const t = this.totals;
    const produced = this.o.produced?.() ?? null;
    const shards: ShardView[] = [...this.shards.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([shardId, s]) => ({
        shardId,
        owner: s.owner,
        checkpoint: s.checkpoint,
        millisBehindLatest: s.behind,
        recordsPerSec: s.records.perSec(now),
        lastReportAt: s.lastReportAt,
      }));
    return {
      mode: 'live',
      source: this.o.source,
      produced,
      consumed: t.applied,
      lag: produced === null ? null : Math.max(0, produced - t.applied - t.deadLetters),
      ticksPerSec: this.applied.perSec(now),
      shards,
      deadLetters: t.deadLetters,
      deadLetterReasons: [...this.letterReasons].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count),
      recentDeadLetters: [...this.letters].reverse(),
      errors: t.errors,
      recentErrors: [...this.errorEvents].reverse(),
      reportsLost: this.lost.lost,
      updatedAt: now,
    };
  }
}
