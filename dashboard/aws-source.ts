/**
 * The dashboard over a deployed stack (`TICKSTREAM_MODE=aws npm run
 * dashboard`): bounded polling of what the open pages show, never a write and
 * never a receive from the DLQ. The server tells it which pages are open
 * (watch): a market page polls every symbol's `latest` row, symbol pages
 * alone only their symbols' rows, an alerts page the alerts index, a
 * pipeline page the lease table and the DLQ's depth; with no page open
 * nothing is read. How often and how much is one set of numbers
 * (shared/dashboard-polling.ts) that `npm run cost -- -c dashboard=true`
 * prices. Every AWS call it makes is in AWS_SOURCE_ACTIONS (dashboard/
 * iam-policy.ts), the read-only policy a person runs it with.
 *
 * An AWS error (no credentials, AccessDenied, throttling) never escapes a
 * poll: it is kept for the pipeline page, written to the log (stderr), and
 * the next poll of that kind waits longer (the shared backoff formula).
 */
import type { AthenaClient } from '@aws-sdk/client-athena';
import type { AttributeValue, DynamoDBClient, QueryCommandInput } from '@aws-sdk/client-dynamodb';
import { BatchGetItemCommand, QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { LiveRow } from '../consumer/status';
import { queryAthena } from '../lake/athena';
import { sqlString, type Cell } from '../lake/query';
import { DASHBOARD_POLLING as P } from '../shared/dashboard-polling';
import { describeError } from '../shared/describe-error';
import { ALERTS_BY_DAY, TABLE_KEYS } from '../shared/tables';
import { backoffDelay, isRetryable, retry, type RetryPolicy } from '../shared/runtime/retry';
import { SYMBOL_RE } from '../shared/tick';
import { AlertFeed, alertOf, type AlertRead } from './alert-feed';
import { chartPoint, marketRow } from './live-store';
import { NO_INTEREST, type DashboardSource, type Interest, type SourceUpdate } from './source';
import type { AlertItem, ChartPoint, ErrorItem, MarketRow, PipelineView, ShardView, SignalName, SymbolHistory } from './wire';

export interface AwsSourceNames {
  latestTable: string;
  /** Absent: the stack keeps no DynamoDB tick history (a chart then comes from Athena alone). */
  ticksTable?: string;
  /** The KCL application, which is its lease table's name. */
  leaseTable: string;
  deadLetterQueueUrl: string;
  /** The alert ledger, read through its index of published alerts (ALERTS_BY_DAY); absent: the alerts page stays empty. */
  alertsTable?: string;
  athena?: { database: string; workgroup: string; outputLocation?: string };
}

export interface AwsSourceOptions {
  names: AwsSourceNames;
  dynamo: DynamoDBClient;
  sqs: SQSClient;
  athena?: AthenaClient;
  /** For the pipeline page's header, e.g. the region and stack. */
  where: string;
  /** One line per AWS error, for the log (stderr); never stdout. */
  log?: (line: string) => void;
  now?: () => number;
  /** Tests: shorter intervals than shared/dashboard-polling.ts. */
  intervalsMs?: Partial<Record<Kind, number>>;
  /** Tests: another bound than firstReadWaitS on how long a snapshot waits for its first read. */
  firstReadWaitMs?: number;
  /** Tests: a smaller alertsLimit than shared/dashboard-polling.ts. */
  alertsLimit?: number;
  /** Tests: a smaller latestScanCap than shared/dashboard-polling.ts. */
  latestScanCap?: number;
}

/** The kinds of read, each with its own cadence, failures and backoff. */
type Kind = 'latest' | 'leases' | 'dlq' | 'alerts';
const KINDS: readonly Kind[] = ['latest', 'leases', 'dlq', 'alerts'];
const DEFAULT_MS: Record<Kind, number> = { latest: P.latestPollS * 1000, leases: P.leasePollS * 1000, dlq: P.dlqPollS * 1000, alerts: P.alertsPollS * 1000 };

/** One kind's loop: it runs while some open page shows what it reads. */
interface Reads {
  /** Failed reads in a row: the next waits the backoff. */
  failures: number;
  /** When the last successful read started. */
  okAt: number;
  /** After a failure: no read of this kind before this time. */
  dueAt: number;
  running: Promise<void> | undefined;
  timer: NodeJS.Timeout | undefined;
  /** The interest grew while a read ran: the next read starts as soon as it ends. */
  again: boolean;
}

/** A failed call is tried again at once a couple of times when the classifier says waiting helps (throttling). */
const CALL_RETRY: RetryPolicy = { maxAttempts: 3, baseMs: 200, maxMs: 2000 };
const RECENT_ERRORS = 50;
const LATEST_KEY = TABLE_KEYS.latest.partitionKey.name;

const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);
const signalOf = (x: unknown): SignalName | null => (x === 'BUY' || x === 'SELL' ? x : null);

/** A `latest` or `ticks` item (consumer/sinks/dynamodb-ticks.ts) as the row the pages show. */
function rowOf(item: Record<string, AttributeValue>): Omit<LiveRow, 'stored_at'> | undefined {
  const x = unmarshall(item) as Record<string, unknown>;
  const ts = num(x.ts);
  const price = num(x.price);
  if (typeof x.symbol !== 'string' || ts === null || price === null) return undefined;
  return {
    symbol: x.symbol,
    ts,
    price,
    volume: num(x.volume) ?? 0,
    change_pct: num(x.change_pct),
    sma5: num(x.sma5),
    sma20: num(x.sma20),
    rsi14: num(x.rsi14),
    bb_upper: num(x.bb_upper),
    bb_lower: num(x.bb_lower),
    volume_ratio: num(x.volume_ratio),
    signal: signalOf(x.signal),
    anomaly: x.anomaly === true,
    volume_spike: x.volume_spike === true,
    produced_at: num(x.produced_at) ?? ts,
  };
}

/** The lake's columns for a chart point, in this order (read by pointOfCells). */
const LAKE_POINT_COLUMNS = 'ts, price, volume, sma5, sma20, bb_upper, bb_lower, rsi14, signal, anomaly';

function pointOfCells(c: Cell[]): ChartPoint | undefined {
  // Athena gives a timestamp as ISO text (lake/athena.ts)
  const ts = typeof c[0] === 'string' ? Date.parse(c[0]) : num(c[0]);
  const price = num(c[1]);
  if (ts === null || Number.isNaN(ts) || price === null) return undefined;
  return { ts, price, volume: num(c[2]) ?? 0, sma5: num(c[3]), sma20: num(c[4]), bb_upper: num(c[5]), bb_lower: num(c[6]), rsi14: num(c[7]), signal: signalOf(c[8]), anomaly: c[9] === true };
}

/** A KCL lease item: the shard, its owner and checkpoint (consumer/kcl/lease-items.ts has the shape). */
function shardOf(item: Record<string, AttributeValue>, at: number): ShardView | undefined {
  const shardId = item.leaseKey?.S;
  if (shardId === undefined) return undefined;
  return { shardId, owner: item.leaseOwner?.S ?? null, checkpoint: item.checkpoint?.S ?? null, millisBehindLatest: null, recordsPerSec: 0, lastReportAt: at };
}

/** The key condition of one day's Query of the alerts index: the whole day, or from `since` on. */
function dayCondition(day: string, read: AlertRead): Pick<QueryCommandInput, 'KeyConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'> {
  const names = { '#day': ALERTS_BY_DAY.partitionKey.name };
  const values = { ':day': { S: day } };
  if (read.since === undefined) return { KeyConditionExpression: '#day = :day', ExpressionAttributeNames: names, ExpressionAttributeValues: values };
  return {
    KeyConditionExpression: '#day = :day AND #ts >= :since',
    ExpressionAttributeNames: { ...names, '#ts': ALERTS_BY_DAY.sortKey.name },
    ExpressionAttributeValues: { ...values, ':since': { N: String(read.since) } },
  };
}

export class AwsSource implements DashboardSource {
  readonly description: string;
  private readonly latest = new Map<string, MarketRow>();
  private shards: ShardView[] = [];
  private dlqDepth: number | null = null;
  private readonly errors: ErrorItem[] = [];
  private errorCount = 0;
  private readonly listeners = new Set<(u: SourceUpdate) => void>();
  private readonly reads = Object.fromEntries(KINDS.map((k) => [k, { failures: 0, okAt: -Infinity, dueAt: -Infinity, running: undefined, timer: undefined, again: false }])) as Record<Kind, Reads>;
  private interest: Interest = NO_INTEREST;
  private started = false;
  /** When the last successful Scan of `latest` started: a market snapshot older than latestPollS reads again. */
  private scannedAt = -Infinity;
  /** A market snapshot wants a Scan though no market page is being polled (GET /api/market). */
  private scanAsked = false;
  private readonly feed: AlertFeed;
  private closed = false;
  /** Athena history per symbol, and when the last query started (one a minute at most). */
  private readonly lakeCache = new Map<string, ChartPoint[]>();
  private lastAthenaAt = -Infinity;

  constructor(private readonly o: AwsSourceOptions) {
    this.description = `the deployed stack (${o.where}), read-only`;
    this.feed = new AlertFeed({ limit: o.alertsLimit ?? P.alertsLimit, lookbackDays: P.alertsLookbackDays, lateMs: P.alertsLateS * 1000 });
  }

  private now(): number {
    return this.o.now?.() ?? Date.now();
  }

  private every(kind: Kind): number {
    return this.o.intervalsMs?.[kind] ?? DEFAULT_MS[kind];
  }

  /** Whether an open page shows what `kind` reads. */
  private wanted(kind: Kind, i: Interest = this.interest): boolean {
    if (kind === 'latest') return i.market || i.symbols.length > 0;
    if (kind === 'alerts') return i.alerts && this.o.names.alertsTable !== undefined;
    return i.pipeline;
  }

  /** Starts polling by interest: nothing is read until a page is open (watch), or a snapshot is asked for. */
  start(): this {
    this.started = true;
    for (const kind of KINDS) if (this.wanted(kind)) void this.run(kind);
    return this;
  }

  /**
   * What the open pages show (the server's union). A kind that becomes
   * wanted, or `latest` asked for more (the market page, a new symbol), is
   * read at once, so the page's snapshot can wait for it; a kind no longer
   * wanted stops after the read under way.
   */
  watch(interest: Interest): void {
    const before = this.interest;
    this.interest = interest;
    if (!this.started || this.closed) return;
    for (const kind of KINDS) {
      const r = this.reads[kind];
      if (!this.wanted(kind)) {
        clearTimeout(r.timer);
        r.timer = undefined;
        continue;
      }
      const grew = !this.wanted(kind, before) || (kind === 'latest' && !before.market && (interest.market || interest.symbols.some((s) => !before.symbols.includes(s))));
      if (!grew) continue;
      if (r.running !== undefined) r.again = true;
      // during a failure's backoff the timer already waits for dueAt (or is set by schedule)
      else if (r.failures === 0 || this.now() >= r.dueAt) void this.run(kind);
      else this.schedule(kind);
    }
  }

  /** One read of `kind` now (or the one under way); it never rejects, and schedules the next while wanted. */
  private run(kind: Kind): Promise<void> {
    const r = this.reads[kind];
    if (r.running !== undefined) return r.running;
    clearTimeout(r.timer);
    r.timer = undefined;
    const at = this.now();
    const p = this.poll(kind)
      .then(
        () => {
          r.failures = 0;
          r.okAt = at;
        },
        (err: unknown) => {
          r.failures++;
          // after failures, the interval grows with the shared backoff formula (jittered), up to maxBackoffS
          const every = this.every(kind);
          r.dueAt = this.now() + backoffDelay(r.failures, { baseMs: every, maxMs: Math.max(every, P.maxBackoffS * 1000) });
          this.recordError(`${kind} poll`, err);
        },
      )
      .finally(() => {
        r.running = undefined;
        this.schedule(kind);
      });
    r.running = p;
    return p;
  }

  /** The next read of `kind`, while an open page shows it; none spins while nothing is open. */
  private schedule(kind: Kind): void {
    const r = this.reads[kind];
    if (this.closed || !this.started || !this.wanted(kind) || r.running !== undefined || r.timer !== undefined) return;
    const delay = r.failures > 0 ? Math.max(0, r.dueAt - this.now()) : r.again ? 0 : this.every(kind);
    r.again = false;
    r.timer = setTimeout(() => {
      r.timer = undefined;
      void this.run(kind);
    }, delay);
  }

  private poll(kind: Kind): Promise<void> {
    switch (kind) {
      case 'latest':
        return this.pollLatest();
      case 'leases':
        return this.pollLeases();
      case 'dlq':
        return this.pollDlq();
      case 'alerts':
        return this.o.names.alertsTable === undefined ? Promise.resolve() : this.pollAlerts(this.o.names.alertsTable);
    }
  }

  /**
   * Until `fresh()` holds, for at most firstReadWaitS: waits for the read of
   * `kind` under way, or starts one (not during a failure's backoff). Two
   * rounds, since the read under way may be of less than is asked (the
   * followed symbols, not the Scan). Never rejects, never hangs a page.
   */
  private async freshen(kind: Kind, fresh: () => boolean): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), this.o.firstReadWaitMs ?? P.firstReadWaitS * 1000)));
    try {
      for (let round = 0; round < 2 && !fresh() && !this.closed; round++) {
        const r = this.reads[kind];
        if (r.running === undefined && r.failures > 0 && this.now() < r.dueAt) return;
        if (!(await Promise.race([this.run(kind).then(() => true), timedOut]))) return;
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** Read within its interval. */
  private readRecently(kind: Kind): boolean {
    return this.now() - this.reads[kind].okAt < this.every(kind);
  }

  /** One AWS call, retried while the classifier says waiting helps. */
  private call<T>(op: () => Promise<T>): Promise<T> {
    return retry(op, { policy: CALL_RETRY, shouldRetry: (err, attempt) => !this.closed && isRetryable(err, attempt, 1) });
  }

  private recordError(what: string, err: unknown): void {
    const name = err instanceof Error ? err.name : 'Error';
    this.errorCount++;
    this.errors.unshift({ what: `${what}: ${describeError(err)}`, code: name, at: this.now() });
    if (this.errors.length > RECENT_ERRORS) this.errors.length = RECENT_ERRORS;
    this.o.log?.(`tickstream dashboard: ${what} failed: ${describeError(err)}`);
    this.emit({ rows: [], alerts: [], pipeline: true });
  }

  private emit(u: SourceUpdate): void {
    for (const l of this.listeners) l(u);
  }

  /** A `latest` item kept and queued for the subscribers when newer than the row held. */
  private keep(item: Record<string, AttributeValue>, rows: SourceUpdate['rows']): void {
    const r = rowOf(item);
    if (r === undefined) return;
    const prev = this.latest.get(r.symbol);
    if (prev !== undefined && prev.ts >= r.ts) return;
    const x = unmarshall(item) as Record<string, unknown>;
    const row = marketRow(r, { signal: signalOf(x.last_signal), ts: num(x.last_signal_ts) }, null);
    this.latest.set(r.symbol, row);
    rows.push({ row, point: chartPoint(r) });
  }

  /** A market page open (or its snapshot asked for): every symbol's row; else the followed symbols' rows by key. */
  private async pollLatest(): Promise<void> {
    if (!this.interest.market && !this.scanAsked) return this.readSymbols(this.interest.symbols.slice(0, P.latestScanCap));
    this.scanAsked = false;
    const at = this.now();
    const scan = await this.scanLatest();
    this.scannedAt = at;
    // A Scan stopped at the cap misses some symbols; an open symbol page's
    // among them is read by key, so its chart still moves.
    if (scan.capped) {
      const missed = this.interest.symbols.filter((s) => !scan.seen.has(s));
      if (missed.length > 0) await this.readSymbols(missed.slice(0, P.latestScanCap));
    }
  }

  /** Every symbol's `latest` row, by a Scan stopped at the cap (latestScanCap): which symbols it read, and whether it stopped short. */
  private async scanLatest(): Promise<{ seen: Set<string>; capped: boolean }> {
    const cap = this.o.latestScanCap ?? P.latestScanCap;
    const rows: SourceUpdate['rows'] = [];
    const seen = new Set<string>();
    let start: Record<string, AttributeValue> | undefined;
    let read = 0;
    do {
      const page = await this.call(() => this.o.dynamo.send(new ScanCommand({ TableName: this.o.names.latestTable, Limit: Math.min(1000, cap - read), ExclusiveStartKey: start })));
      for (const item of page.Items ?? []) {
        read++;
        const symbol = item[LATEST_KEY]?.S;
        if (symbol !== undefined) seen.add(symbol);
        this.keep(item, rows);
      }
      start = page.LastEvaluatedKey;
    } while (start !== undefined && read < cap && !this.closed);
    if (rows.length > 0) this.emit({ rows, alerts: [], pipeline: false });
    return { seen, capped: start !== undefined };
  }

  /**
   * The rows of these symbols, by BatchGetItem in chunks of latestBatchKeys:
   * a symbol page alone costs one read unit a poll, not a Scan of every
   * symbol. Keys DynamoDB leaves unprocessed (throttling) wait for the next
   * poll rather than being asked again at once.
   */
  private async readSymbols(symbols: readonly string[]): Promise<void> {
    const table = this.o.names.latestTable;
    const rows: SourceUpdate['rows'] = [];
    for (let i = 0; i < symbols.length && !this.closed; i += P.latestBatchKeys) {
      const Keys = symbols.slice(i, i + P.latestBatchKeys).map((s) => ({ [LATEST_KEY]: { S: s } }));
      const res = await this.call(() => this.o.dynamo.send(new BatchGetItemCommand({ RequestItems: { [table]: { Keys } } })));
      // a batch comes back in no particular order; each symbol's row stands alone
      for (const item of res.Responses?.[table] ?? []) this.keep(item, rows);
    }
    if (rows.length > 0) this.emit({ rows, alerts: [], pipeline: false });
  }

  private async pollLeases(): Promise<void> {
    const at = this.now();
    const shards: ShardView[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.call(() => this.o.dynamo.send(new ScanCommand({ TableName: this.o.names.leaseTable, ExclusiveStartKey: start })));
      for (const item of page.Items ?? []) {
        const s = shardOf(item, at);
        if (s !== undefined) shards.push(s);
      }
      start = page.LastEvaluatedKey;
    } while (start !== undefined && !this.closed);
    this.shards = shards.sort((a, b) => a.shardId.localeCompare(b.shardId));
    this.emit({ rows: [], alerts: [], pipeline: true });
  }

  private async pollDlq(): Promise<void> {
    const r = await this.call(() => this.o.sqs.send(new GetQueueAttributesCommand({ QueueUrl: this.o.names.deadLetterQueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] })));
    this.dlqDepth = Number(r.Attributes?.ApproximateNumberOfMessages ?? 0);
    this.emit({ rows: [], alerts: [], pipeline: true });
  }

  /** The newest published alerts: the first read goes back up to alertsLookbackDays; later ones look for newer (AlertFeed decides). */
  private async pollAlerts(table: string): Promise<void> {
    const read = this.feed.next(this.now());
    const items: AlertItem[] = [];
    for (const day of read.days) {
      if (items.length >= read.limit || this.closed) break;
      // newest first and Limit: one page (limit x ~250 B is far under the 1 MB a page holds)
      const page = await this.call(() => this.o.dynamo.send(new QueryCommand({ TableName: table, IndexName: ALERTS_BY_DAY.name, ScanIndexForward: false, Limit: read.limit - items.length, ...dayCondition(day, read) })));
      for (const item of page.Items ?? []) {
        const a = alertOf(unmarshall(item) as Record<string, unknown>);
        if (a !== undefined) items.push(a);
      }
    }
    const fresh = this.feed.accept(items);
    if (fresh.length > 0) this.emit({ rows: [], alerts: fresh, pipeline: false });
  }

  /** Every symbol's row; read first (bounded wait) unless a Scan ran within latestPollS, so a page's first snapshot is current. */
  async market(): Promise<MarketRow[]> {
    const fresh = (): boolean => this.now() - this.scannedAt < this.every('latest');
    if (!fresh()) {
      this.scanAsked = true;
      await this.freshen('latest', fresh);
    }
    return [...this.latest.values()];
  }

  /** The lake's older points (Athena, at most one query per athenaMinIntervalS), then `ticks`' recent ones. */
  async history(symbol: string): Promise<SymbolHistory | undefined> {
    if (!SYMBOL_RE.test(symbol)) return undefined;
    const older = await this.lakeHistory(symbol);
    const recent: ChartPoint[] = [];
    if (this.o.names.ticksTable !== undefined) {
      const table = this.o.names.ticksTable;
      try {
        const page = await this.call(() =>
          this.o.dynamo.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'symbol = :s', ExpressionAttributeValues: { ':s': { S: symbol } }, ScanIndexForward: false, Limit: P.ticksQueryLimit })),
        );
        for (const item of (page.Items ?? []).reverse()) {
          const r = rowOf(item);
          if (r !== undefined) recent.push(chartPoint(r));
        }
      } catch (err) {
        this.recordError(`ticks history of ${symbol}`, err);
      }
    }
    const points: ChartPoint[] = [];
    for (const p of [...older, ...recent]) if (points.length === 0 || points[points.length - 1]!.ts < p.ts) points.push(p);
    if (points.length === 0 && !this.latest.has(symbol)) {
      // no history (no ticks table, no lake yet) and no market page has read its row: is the symbol known at all?
      try {
        await this.readSymbols([symbol]);
      } catch (err) {
        this.recordError(`latest row of ${symbol}`, err);
      }
      if (!this.latest.has(symbol)) return undefined;
    }
    return { symbol, points };
  }

  private async lakeHistory(symbol: string): Promise<ChartPoint[]> {
    const cached = this.lakeCache.get(symbol);
    const a = this.o.names.athena;
    if (a === undefined || this.o.athena === undefined || this.now() - this.lastAthenaAt < P.athenaMinIntervalS * 1000) return cached ?? [];
    this.lastAthenaAt = this.now();
    try {
      const res = await queryAthena(
        this.o.athena,
        { database: a.database, workgroup: a.workgroup, ...(a.outputLocation !== undefined ? { outputLocation: a.outputLocation } : {}) },
        `SELECT ${LAKE_POINT_COLUMNS} FROM {{table}} WHERE symbol = ${sqlString(symbol)} ORDER BY ts DESC LIMIT ${P.athenaHistoryPoints}`,
      );
      const points = res.rows
        .map(pointOfCells)
        .filter((p): p is ChartPoint => p !== undefined)
        .reverse();
      this.lakeCache.set(symbol, points);
      return points;
    } catch (err) {
      this.recordError(`Athena history of ${symbol}`, err);
      return cached ?? [];
    }
  }

  /** The newest published alerts (at most alertsLimit), newest first; read first (bounded wait) unless read within alertsPollS. */
  async alerts(): Promise<AlertItem[]> {
    if (this.o.names.alertsTable !== undefined) await this.freshen('alerts', () => this.readRecently('alerts'));
    return this.feed.recent();
  }

  /** The leases and the DLQ's depth, each read first (bounded wait) unless read within its interval. */
  async pipeline(): Promise<PipelineView> {
    await Promise.all([this.freshen('leases', () => this.readRecently('leases')), this.freshen('dlq', () => this.readRecently('dlq'))]);
    return {
      mode: 'aws',
      source: this.description,
      produced: null,
      consumed: 0,
      lag: null,
      ticksPerSec: 0,
      shards: this.shards,
      deadLetters: this.dlqDepth ?? 0,
      deadLetterReasons: [],
      recentDeadLetters: [],
      errors: this.errorCount,
      recentErrors: [...this.errors],
      reportsLost: 0,
      updatedAt: this.now(),
    };
  }

  subscribe(listener: (u: SourceUpdate) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const r of Object.values(this.reads)) clearTimeout(r.timer);
    await Promise.allSettled(Object.values(this.reads).flatMap((r) => (r.running === undefined ? [] : [r.running])));
  }
}
