/**
 * The local source: a running `npm start` pushes its processors' reports
 * (LiveStore), and the Parquet lake and the alert/dead-letter files under the
 * data directory hold the history (DuckDB, the `lake/` module's engine).
 * Without a running pipeline (`npm run dashboard` after a run), everything
 * comes from those files.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { StatusMessage } from '../consumer/status';
import { ALERTS_FILE, DEAD_LETTERS_FILE, readJsonLines } from '../consumer/sinks/local-files';
import { queryLocalLake } from '../lake/duckdb';
import { QueryError, sqlString, type Cell } from '../lake/query';
import { SYMBOL_RE } from '../shared/tick';
import { LiveStore, marketRow } from './live-store';
import type { DashboardSource, SourceUpdate } from './source';
import type { AlertItem, ChartPoint, MarketRow, PipelineView, SignalName, SymbolHistory } from './wire';

/** The most points a chart is given from the lake: enough for hours of minute bars. */
const MAX_HISTORY_POINTS = 20_000;
const RECENT = 200;

export interface LiveFeed {
  /** StatusServer.onReport: every processor report as it arrives. */
  onReport(listener: (m: StatusMessage, at: number) => void): () => void;
  /** Ticks the producer has sent so far; null before it started. */
  produced(): number | null;
  /** When this run started: lake rows produced before it belong to earlier runs. */
  since: number;
}

const num = (c: Cell | undefined): number | null => (typeof c === 'number' ? c : c === null || c === undefined ? null : Number(c));
const signalOf = (c: Cell | undefined): SignalName | null => (c === 'BUY' || c === 'SELL' ? c : null);

/** The lake's columns the pages use; epoch_ms makes the timestamps plain numbers (DuckDB only: this never runs on Athena). */
const POINT_COLUMNS = 'epoch_ms(ts) AS ts, price, volume, sma5, sma20, bb_upper, bb_lower, rsi14, signal, anomaly';

function pointFromCells(c: Cell[]): ChartPoint {
  return { ts: num(c[0])!, price: num(c[1])!, volume: num(c[2])!, sma5: num(c[3]), sma20: num(c[4]), bb_upper: num(c[5]), bb_lower: num(c[6]), rsi14: num(c[7]), signal: signalOf(c[8]), anomaly: c[9] === true };
}

export class LocalSource implements DashboardSource {
  readonly description: string;
  private readonly lakeDir: string;
  private readonly store: LiveStore | undefined;
  private readonly listeners = new Set<(u: SourceUpdate) => void>();
  private readonly unsubscribe: (() => void) | undefined;

  constructor(private readonly o: { dataDir: string; live?: LiveFeed }) {
    this.lakeDir = path.join(o.dataDir, 'lake');
    const live = o.live;
    this.description = live !== undefined ? `live: the local pipeline, data in ${o.dataDir}` : `history: the files in ${o.dataDir}`;
    if (live !== undefined) {
      const store = new LiveStore({ source: this.description, produced: () => live.produced() });
      this.store = store;
      this.unsubscribe = live.onReport((m, at) => {
        const u = store.apply(m, at);
        for (const l of this.listeners) l(u);
      });
    }
  }

  subscribe(listener: (u: SourceUpdate) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** In live mode only this run's rows (a data directory keeps earlier runs' lake too). */
  private runFilter(): string {
    return this.o.live === undefined ? '' : `epoch_ms(produced_at) >= ${Math.floor(this.o.live.since)}`;
  }

  private async lake(sql: string): Promise<Cell[][]> {
    if (!fs.existsSync(path.join(this.lakeDir, 'ticks'))) return [];
    try {
      return (await queryLocalLake(this.lakeDir, sql)).rows;
    } catch (err) {
      // a lake with no file yet (the first flush is seconds away) is an empty history
      if (err instanceof QueryError && /No files found|no lake/i.test(err.message)) return [];
      throw err;
    }
  }

  async market(): Promise<MarketRow[]> {
    if (this.store !== undefined) return this.store.market();
    // the latest row of each symbol, and its last signal with when
    const rows = await this.lake(
      `WITH last AS (SELECT *, row_number() OVER (PARTITION BY symbol ORDER BY ts DESC) AS n FROM {{table}}),
            sig AS (SELECT symbol, max_by(signal, ts) AS last_signal, epoch_ms(max(ts)) AS last_signal_ts FROM {{table}} WHERE signal IS NOT NULL GROUP BY symbol)
       SELECT l.symbol, epoch_ms(l.ts), l.price, l.volume, l.change_pct, l.sma5, l.sma20, l.rsi14, l.bb_upper, l.bb_lower, l.volume_ratio, l.signal, l.anomaly, l.volume_spike, epoch_ms(l.produced_at), s.last_signal, s.last_signal_ts
       FROM last l LEFT JOIN sig s ON s.symbol = l.symbol WHERE l.n = 1 ORDER BY l.symbol`,
    );
    return rows.map((c) =>
      marketRow(
        { symbol: String(c[0]), ts: num(c[1])!, price: num(c[2])!, volume: num(c[3])!, change_pct: num(c[4]), sma5: num(c[5]), sma20: num(c[6]), rsi14: num(c[7]), bb_upper: num(c[8]), bb_lower: num(c[9]), volume_ratio: num(c[10]), signal: signalOf(c[11]), anomaly: c[12] === true, volume_spike: c[13] === true, produced_at: num(c[14])! },
        { signal: signalOf(c[15]), ts: num(c[16]) },
        null,
      ),
    );
  }

  async history(symbol: string): Promise<SymbolHistory | undefined> {
    // the caller has checked it; checked again because it goes into SQL
    if (!SYMBOL_RE.test(symbol)) return undefined;
    const run = this.runFilter();
    const cells = await this.lake(`SELECT ${POINT_COLUMNS} FROM {{table}} WHERE symbol = ${sqlString(symbol)}${run === '' ? '' : ` AND ${run}`} ORDER BY ts DESC LIMIT ${MAX_HISTORY_POINTS}`);
    const points = cells.reverse().map(pointFromCells);
    // the lake may hold a point twice (a replay after a lease moved); a chart needs each time once
    const dedup: ChartPoint[] = [];
    for (const p of points) if (dedup.length === 0 || dedup[dedup.length - 1]!.ts < p.ts) dedup.push(p);
    const recent = this.store?.points(symbol) ?? [];
    const lastLake = dedup.length > 0 ? dedup[dedup.length - 1]!.ts : -Infinity;
    for (const p of recent) if (p.ts > lastLake) dedup.push(p);
    if (dedup.length === 0 && !(this.store?.hasSymbol(symbol) ?? false)) return undefined;
    return { symbol, points: dedup };
  }

  async alerts(): Promise<AlertItem[]> {
    if (this.store !== undefined) return this.store.alerts();
    const out: AlertItem[] = [];
    for (const x of (await readJsonLines(path.join(this.o.dataDir, ALERTS_FILE))).slice(-RECENT)) {
      const a = x as Partial<AlertItem>;
      if (typeof a.id === 'string' && typeof a.symbol === 'string' && typeof a.type === 'string' && typeof a.ts === 'number' && typeof a.price === 'number' && typeof a.message === 'string') {
        out.push({ id: a.id, symbol: a.symbol, type: a.type, ts: a.ts, price: a.price, message: a.message });
      }
    }
    return out.reverse();
  }

  async pipeline(): Promise<PipelineView> {
    if (this.store !== undefined) return this.store.pipeline();
    const count = await this.lake('SELECT count(*) FROM {{table}}');
    const text = (v: unknown): string => (typeof v === 'string' ? v : '?');
    const letters = (await readJsonLines(path.join(this.o.dataDir, DEAD_LETTERS_FILE))).map((x) => {
      const l = x as { id?: unknown; kind?: unknown; reason?: unknown; at?: unknown };
      return { id: text(l.id), kind: text(l.kind), reason: text(l.reason), at: typeof l.at === 'string' ? Date.parse(l.at) : 0 };
    });
    const reasons = new Map<string, number>();
    for (const l of letters) {
      const key = l.reason.slice(0, 120);
      reasons.set(key, (reasons.get(key) ?? 0) + 1);
    }
    return {
      mode: 'history',
      source: this.description,
      produced: null,
      consumed: num(count[0]?.[0]) ?? 0,
      lag: null,
      ticksPerSec: 0,
      shards: [],
      deadLetters: letters.length,
      deadLetterReasons: [...reasons].map(([reason, n]) => ({ reason, count: n })).sort((a, b) => b.count - a.count),
      recentDeadLetters: letters.slice(-RECENT).reverse(),
      errors: 0,
      recentErrors: [],
      reportsLost: 0,
      updatedAt: Date.now(),
    };
  }

  close(): Promise<void> {
    this.unsubscribe?.();
    this.listeners.clear();
    return Promise.resolve();
  }
}

