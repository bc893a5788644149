/**
 * The JSON the dashboard server sends and its pages read: one declaration
 * file that both TypeScript projects (the server in the main project, the
 * pages in dashboard/web/) import as types only, so the two cannot drift.
 * A .d.ts because it is never emitted: each project would otherwise write
 * its own copy (CommonJS and ES module) to the same place in dist/.
 */

export type SignalName = 'BUY' | 'SELL';

/** One symbol's line on the market page. */
export interface MarketRow {
  symbol: string;
  /** The tick's own time, epoch ms. */
  ts: number;
  price: number;
  volume: number;
  change_pct: number | null;
  sma5: number | null;
  sma20: number | null;
  /** UP when SMA-5 is above SMA-20, DOWN below, null while either warms up. */
  trend: 'UP' | 'DOWN' | null;
  rsi14: number | null;
  /** Where the price sits in the Bollinger band: 0 % at the lower, 100 % at the upper. */
  bb_pct: number | null;
  volume_ratio: number | null;
  last_signal: SignalName | null;
  /** The tick time of last_signal. */
  last_signal_ts: number | null;
  /** When every sink had stored the row (processor clock), null for history from the lake. */
  stored_at: number | null;
}

/** One point of a symbol's chart. */
export interface ChartPoint {
  ts: number;
  price: number;
  volume: number;
  sma5: number | null;
  sma20: number | null;
  bb_upper: number | null;
  bb_lower: number | null;
  rsi14: number | null;
  signal: SignalName | null;
  anomaly: boolean;
}

export interface SymbolHistory {
  symbol: string;
  points: ChartPoint[];
}

/**
 * A symbol's chart as /api/symbol/<SYM> sends it: one array per field, the
 * same index across arrays. A 100,000-point history as objects is a million
 * values the browser parses into objects and collects again; as columns it
 * parses into a few flat number arrays, a third the bytes and a fraction of
 * the garbage (bench:dashboard measured it). Rare fields are sparse.
 */
export interface ChartColumns {
  symbol: string;
  ts: number[];
  price: number[];
  volume: number[];
  sma5: (number | null)[];
  sma20: (number | null)[];
  bb_upper: (number | null)[];
  bb_lower: (number | null)[];
  rsi14: (number | null)[];
  /** [index, signal] of each BUY/SELL point, in order. */
  signals: [number, SignalName][];
  /** Indexes of the anomalous points, in order. */
  anomalies: number[];
}

export interface AlertItem {
  id: string;
  symbol: string;
  type: string;
  ts: number;
  price: number;
  /** The text the SNS message carries. */
  message: string;
}

export interface ShardView {
  shardId: string;
  /** The worker holding the shard's lease, as its processor last reported. */
  owner: string | null;
  checkpoint: string | null;
  millisBehindLatest: number | null;
  recordsPerSec: number;
  /** Server clock, epoch ms. */
  lastReportAt: number | null;
}

export interface DeadLetterItem {
  id: string;
  kind: string;
  reason: string;
  at: number;
}

export interface ErrorItem {
  what: string;
  code: string;
  at: number;
}

export interface PipelineView {
  /** live: fed by a running pipeline; history: read from the files of a past run; aws: polled from a deployed stack. */
  mode: 'live' | 'history' | 'aws';
  /** What the view is about, e.g. the data directory. */
  source: string;
  produced: number | null;
  consumed: number;
  lag: number | null;
  ticksPerSec: number;
  shards: ShardView[];
  deadLetters: number;
  deadLetterReasons: { reason: string; count: number }[];
  recentDeadLetters: DeadLetterItem[];
  errors: number;
  recentErrors: ErrorItem[];
  /** Status datagrams lost between the processors and the dashboard. */
  reportsLost: number;
  updatedAt: number;
}

/** One server-sent event: everything that changed since the last, per topic asked for. */
export interface LiveEvent {
  /** Market rows changed since the last event, one per symbol (the latest). */
  market?: MarketRow[];
  /** Every new point of the symbol the client follows, in order. */
  points?: ChartPoint[];
  alerts?: AlertItem[];
  pipeline?: PipelineView;
}

export type Topic = 'market' | 'alerts' | 'pipeline';
