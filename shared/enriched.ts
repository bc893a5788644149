/**
 * The enriched-tick row: one schema definition from which the DynamoDB item,
 * the Firehose JSON, the local Parquet files and the Glue table columns are
 * all derived, so they cannot drift apart.
 *
 * `ts` and `produced_at` travel as epoch milliseconds in JSON/DynamoDB and are
 * `timestamp` in Parquet/Glue (Firehose's OpenX JSON SerDe parses epoch millis
 * into timestamps). `dt` (YYYY-MM-DD, UTC, of the tick's own ts) is the lake's
 * partition: a Glue partition key and a Firehose dynamic-partitioning key, not
 * a Parquet column.
 */
/**
 * The `anomaly` column's threshold: a move of more than this many percent
 * against the previous close, as the original system flagged it. The
 * analyzer sets the column with it and the `anomalies` query filters with
 * it, so the two cannot disagree.
 */
export const ANOMALY_THRESHOLD_PCT = 5;

export type ColumnType = 'string' | 'double' | 'bigint' | 'boolean' | 'timestamp';

export interface ColumnDef {
  readonly name: string;
  readonly type: ColumnType;
  readonly nullable: boolean;
  readonly comment: string;
}

// previous_close and change_pct are nullable since tick v2 (a quote may come
// without a usable previous close). Their comments, which the Glue table
// carries, are unchanged so the synthesized template is too: Glue columns
// are nullable whatever we say, Parquet and DuckDB follow `nullable`.
export const ENRICHED_COLUMNS = [
  { name: 'symbol', type: 'string', nullable: false, comment: 'ticker symbol' },
  { name: 'ts', type: 'timestamp', nullable: false, comment: "the quote's own time (UTC)" },
  { name: 'price', type: 'double', nullable: false, comment: 'last price' },
  { name: 'volume', type: 'double', nullable: false, comment: 'volume of the bar/quote' },
  { name: 'previous_close', type: 'double', nullable: true, comment: "previous session's close" },
  { name: 'change_pct', type: 'double', nullable: true, comment: '% change against previous close' },
  { name: 'tick_change_pct', type: 'double', nullable: true, comment: '% change against the previous tick' },
  { name: 'sma5', type: 'double', nullable: true, comment: 'simple moving average, 5 ticks' },
  { name: 'sma20', type: 'double', nullable: true, comment: 'simple moving average, 20 ticks' },
  { name: 'ema12', type: 'double', nullable: true, comment: 'exponential moving average, 12 ticks' },
  { name: 'rsi14', type: 'double', nullable: true, comment: "Wilder's RSI, 14 ticks" },
  { name: 'bb_upper', type: 'double', nullable: true, comment: 'Bollinger upper band (20, 2)' },
  { name: 'bb_lower', type: 'double', nullable: true, comment: 'Bollinger lower band (20, 2)' },
  { name: 'vwap', type: 'double', nullable: true, comment: 'session VWAP' },
  { name: 'volume_avg', type: 'double', nullable: true, comment: 'rolling average volume, 20 ticks' },
  { name: 'volume_ratio', type: 'double', nullable: true, comment: 'volume / volume_avg' },
  { name: 'signal', type: 'string', nullable: true, comment: 'BUY or SELL on an SMA-5/SMA-20 crossover' },
  { name: 'anomaly', type: 'boolean', nullable: false, comment: '|change_pct| above the threshold' },
  { name: 'volume_spike', type: 'boolean', nullable: false, comment: 'volume_ratio above the threshold' },
  { name: 'market_state', type: 'string', nullable: true, comment: 'PRE, REGULAR, POST or CLOSED' },
  { name: 'source', type: 'string', nullable: false, comment: 'yahoo, replay or synthetic' },
  { name: 'produced_at', type: 'timestamp', nullable: false, comment: 'when the producer emitted it' },
] as const satisfies readonly ColumnDef[];

export const PARTITION_COLUMN = { name: 'dt', type: 'string', comment: 'UTC date of ts, YYYY-MM-DD' } as const;

export type Signal = 'BUY' | 'SELL';

/** The row as it travels in JSON (Firehose, DynamoDB, jsonl). */
export interface EnrichedTick {
  symbol: string;
  ts: number;
  dt: string;
  price: number;
  volume: number;
  previous_close: number | null;
  change_pct: number | null;
  tick_change_pct: number | null;
  sma5: number | null;
  sma20: number | null;
  ema12: number | null;
  rsi14: number | null;
  bb_upper: number | null;
  bb_lower: number | null;
  vwap: number | null;
  volume_avg: number | null;
  volume_ratio: number | null;
  signal: Signal | null;
  anomaly: boolean;
  volume_spike: boolean;
  market_state: string | null;
  source: string;
  produced_at: number;
}

// Compile-time proof that the interface and the column list name the same fields.
type ColumnName = (typeof ENRICHED_COLUMNS)[number]['name'];
type _SameKeys = [Exclude<ColumnName | 'dt', keyof EnrichedTick>, Exclude<keyof EnrichedTick, ColumnName | 'dt'>];
/** @public: exported only because tsc's noUnusedLocals would refuse an unread local; knip skips @public. */
export const _columnsMatchInterface: _SameKeys extends [never, never] ? true : never = true;

/** DynamoDB's number range: magnitudes from 1e-130 to below 1e126 (38 digits). */
const STORABLE_MIN_MAGNITUDE = 1e-130;
const STORABLE_MAX_MAGNITUDE = 1e125;

/**
 * A computed column as every sink can hold it: the value, or null when it is
 * NaN, infinite or outside DynamoDB's number range. Bounded ticks
 * (shared/tick.ts TICK_BOUNDS) keep every column inside that range, so this
 * is the guard for what the bounds did not foresee: a column nulled is
 * visible in the row, while an unstorable one would make a sink refuse it.
 * Comparisons with NaN are false, so NaN falls through to null.
 */
export function storable(x: number | null): number | null {
  if (x === null || x === 0) return x;
  const m = x < 0 ? -x : x;
  return m >= STORABLE_MIN_MAGNITUDE && m <= STORABLE_MAX_MAGNITUDE ? x : null;
}

/** UTC date partition of an epoch-ms timestamp. */
export function dtOf(tsMs: number): string {
  return new Date(tsMs).toISOString().slice(0, 10);
}

/** Glue/Athena (Hive) type names. */
export function glueColumns(): { name: string; type: string; comment: string }[] {
  return ENRICHED_COLUMNS.map((c) => ({ name: c.name, type: c.type, comment: c.comment }));
}

/** DuckDB type names, used for the local Parquet lake. */
export function duckdbType(t: ColumnType): string {
  switch (t) {
    case 'string':
      return 'VARCHAR';
    case 'double':
      return 'DOUBLE';
    case 'bigint':
      return 'BIGINT';
    case 'boolean':
      return 'BOOLEAN';
    case 'timestamp':
      return 'TIMESTAMP';
  }
}

/**
 * A redriven row: `{"v":1,"rows":[row]}` on the stream, keyed by the row's
 * symbol. `npm run dlq -- redrive` puts one for a dead letter of kind `row`
 * (a sink refused a computed row): the consumer stores the row as computed
 * then, without touching the symbol's indicator state, which has moved on.
 * Every sink write is idempotent, so sinks that already hold it are unchanged.
 */
export const ROW_REDRIVE_PREFIX = '{"v":1,"rows":[';

export function encodeRowRedrive(row: EnrichedTick): Buffer {
  return Buffer.from(`${ROW_REDRIVE_PREFIX}${JSON.stringify(row)}]}`);
}
