/**
 * What the dashboard's pages read, behind one small interface: the local
 * source (a running `npm start`, or the files a past run left) is the only
 * one today; an AWS source (DynamoDB `latest`/`ticks`, Athena, the lease
 * table, the DLQ's depth) can be added beside it without touching a page.
 */
import type { AlertItem, ChartPoint, MarketRow, PipelineView, SymbolHistory } from './wire';

/** What changed in one report from the pipeline. */
export interface SourceUpdate {
  /** Stored rows in order: the market row each makes and its chart point. */
  rows: { row: MarketRow; point: ChartPoint }[];
  alerts: AlertItem[];
  /** The pipeline view changed (counters, shards, dead letters, errors). */
  pipeline: boolean;
}

export interface DashboardSource {
  /** One line for a person: what this source shows. */
  readonly description: string;
  /** Every symbol's latest row. */
  market(): Promise<MarketRow[]>;
  /** A symbol's chart, oldest point first; undefined when the symbol is unknown. */
  history(symbol: string): Promise<SymbolHistory | undefined>;
  /** The most recent alerts, newest first. */
  alerts(): Promise<AlertItem[]>;
  pipeline(): Promise<PipelineView>;
  /** Live changes; a source of history alone never calls the listener. Returns the unsubscribe. */
  subscribe(listener: (u: SourceUpdate) => void): () => void;
  close(): Promise<void>;
}
