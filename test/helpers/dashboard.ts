/**
 * A DashboardSource the tests fill by hand, for the server's own behaviour
 * (routing, refusals, escaping, the live stream) without a pipeline.
 */
import http from 'node:http';
import type { DashboardSource, Interest, SourceUpdate } from '../../dashboard/source';
import type { AlertItem, ChartPoint, MarketRow, PipelineView, SymbolHistory } from '../../dashboard/wire';

export function marketRowOf(symbol: string, ts: number, price: number): MarketRow {
  return { symbol, ts, price, volume: 100, change_pct: 1.5, sma5: price, sma20: price, trend: 'UP', rsi14: 50, bb_pct: 50, volume_ratio: 1, last_signal: null, last_signal_ts: null, stored_at: ts };
}

export function pointOf(ts: number, price: number): ChartPoint {
  return { ts, price, volume: 100, sma5: price, sma20: price, bb_upper: price + 1, bb_lower: price - 1, rsi14: 50, signal: null, anomaly: false };
}

export function emptyPipeline(): PipelineView {
  return { mode: 'live', source: 'test', produced: 0, consumed: 0, lag: 0, ticksPerSec: 0, shards: [], deadLetters: 0, deadLetterReasons: [], recentDeadLetters: [], errors: 0, recentErrors: [], reportsLost: 0, updatedAt: 0 };
}

export class FakeSource implements DashboardSource {
  readonly description = 'a test source';
  rows = new Map<string, MarketRow>();
  histories = new Map<string, ChartPoint[]>();
  alertList: AlertItem[] = [];
  view: PipelineView = emptyPipeline();
  /** Every interest the server passed to watch(), in order. */
  watched: Interest[] = [];
  private readonly listeners = new Set<(u: SourceUpdate) => void>();

  market(): Promise<MarketRow[]> {
    return Promise.resolve([...this.rows.values()]);
  }
  history(symbol: string): Promise<SymbolHistory | undefined> {
    const points = this.histories.get(symbol);
    return Promise.resolve(points === undefined ? undefined : { symbol, points });
  }
  alerts(): Promise<AlertItem[]> {
    return Promise.resolve([...this.alertList]);
  }
  pipeline(): Promise<PipelineView> {
    return Promise.resolve(this.view);
  }
  subscribe(listener: (u: SourceUpdate) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  watch(interest: Interest): void {
    this.watched.push(interest);
  }
  emit(u: Partial<SourceUpdate>): void {
    for (const l of this.listeners) l({ rows: [], alerts: [], pipeline: false, ...u });
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Reads a server-sent event stream, giving `onData` each event's data (the text after `data: `). Destroy the request to stop. */
export function onServerEvents(url: string, onData: (data: string) => void): http.ClientRequest {
  const req = http.get(url, (res) => {
    let buf = '';
    res.on('data', (c: Buffer) => {
      buf += c.toString();
      let at: number;
      while ((at = buf.indexOf('\n\n')) >= 0) {
        const data = buf
          .slice(0, at)
          .split('\n')
          .find((l) => l.startsWith('data: '));
        buf = buf.slice(at + 2);
        if (data !== undefined) onData(data.slice(6));
      }
    });
  });
  // a destroyed request ends with an error: that is how a reader stops
  req.on('error', () => undefined);
  return req;
}

export function getJson(url: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(JSON.parse(body)));
      })
      .on('error', reject);
  });
}
