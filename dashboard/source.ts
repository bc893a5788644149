/**
 * What the dashboard's pages read, behind one small interface: the local
 * source (a running `npm start`, or the files a past run left) and the AWS
 * source (DynamoDB `latest`/`ticks`, Athena, the lease table, the DLQ's
 * depth), which pays per read and so reads only what open pages show
 * (watch).
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

/**
 * What the open pages show, as the union over the server's live streams: a
 * source that pays per read (the AWS one) reads only this, and nothing when
 * no page is open.
 */
export interface Interest {
  /** A market page is open: every symbol's latest row. */
  market: boolean;
  alerts: boolean;
  pipeline: boolean;
  /** The symbols symbol pages follow, sorted, each once. */
  symbols: readonly string[];
}

export const NO_INTEREST: Interest = Object.freeze({ market: false, alerts: false, pipeline: false, symbols: Object.freeze([]) });

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
  /**
   * The server calls it whenever the union of its streams' interest changes
   * (a stream opens or closes), and with NO_INTEREST when it closes. Optional:
   * a source that reads for free (the local one) ignores it.
   */
  watch?(interest: Interest): void;
  close(): Promise<void>;
}
