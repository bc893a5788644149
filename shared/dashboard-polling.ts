/**
 * How often, and how much, the dashboard's AWS source (dashboard/aws-source.ts)
 * reads the deployed stack: one set of numbers that the source runs on and the
 * cost model (tools/cost/model.ts, `npm run cost -- -c dashboard=true`) prices,
 * so the price is of what the source really does.
 *
 * Each read runs only while a page that shows it is open (the server passes
 * the open pages' union to the source, DashboardSource.watch): no page open,
 * no read at all.
 */
export const DASHBOARD_POLLING = {
  /** The `latest` table is read this often while a market or symbol page is open. */
  latestPollS: 3,
  /**
   * While a market page is open, every symbol's row, by a Scan (the page
   * shows every symbol, so a BatchGetItem of known keys would need the whole
   * list anyway), stopped at this many items: a stack with more symbols shows
   * the first this many. While only symbol pages are open, their symbols'
   * rows by key instead (at most this many symbols).
   */
  latestScanCap: 5000,
  /** Keys per BatchGetItem of the followed symbols' rows (DynamoDB's own limit). */
  latestBatchKeys: 100,
  /**
   * A page's first snapshot waits at most this long for the read its opening
   * started (what the source held before may be old, or nothing); after
   * that it shows what the source holds and the read's rows follow live.
   */
  firstReadWaitS: 5,
  /** A `latest` item's stored size (the enriched columns, dt and the last signal), for the cost of a Scan. */
  latestItemBytes: 450,
  /** A symbol page's recent history: one Query of `ticks`, newest first, at most this many items. */
  ticksQueryLimit: 1000,
  /** Older history comes from the lake through Athena: at most one query this often (others wait for the cache). */
  athenaMinIntervalS: 60,
  /** Points an Athena history query returns at most. */
  athenaHistoryPoints: 20_000,
  /** The KCL lease table (one small item per shard) is scanned this often while a pipeline page is open. */
  leasePollS: 10,
  /** The DLQ's depth (GetQueueAttributes, never ReceiveMessage) is read this often while a pipeline page is open. */
  dlqPollS: 30,
  /**
   * The alerts page: the alerts table's index of published alerts by day
   * (ALERTS_BY_DAY, shared/tables.ts) is queried this often for the newest,
   * while an alerts page is open.
   */
  alertsPollS: 5,
  /** The most alerts one read returns (Query Limit, newest first), and the most the source keeps for the page. */
  alertsLimit: 200,
  /** The first read goes back day by day from today until alertsLimit alerts are found or this many days were read. */
  alertsLookbackDays: 7,
  /**
   * How late, in tick time, an alert may be stored after a newer one and
   * still reach the page live: shards run independently, so one behind the
   * others publishes older alerts after newer ones. Each poll re-reads from
   * the newest seen minus this (the ids already shown are skipped); a later
   * alert shows when the page is opened again.
   */
  alertsLateS: 120,
  /** A published alert's index entry (keys, symbol, type, price, the message), for the cost of a Query. */
  alertIndexItemBytes: 250,
  /** A read that keeps failing waits up to this long before the next try (backoffDelay, shared/runtime/retry.ts). */
  maxBackoffS: 120,
} as const;
