/**
 * The dashboard over a deployed stack (`TICKSTREAM_MODE=aws npm run
 * dashboard`): bounded polling of what the pages show, never a write and
 * never a receive from the DLQ. How often and how much is one set of numbers
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
import { QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { LiveRow } from '../consumer/status';
import { queryAthena } from '../lake/athena';
import { sqlString, type Cell } from '../lake/query';
import { DASHBOARD_POLLING as P } from '../shared/dashboard-polling';
import { describeError } from '../shared/describe-error';
import { ALERTS_BY_DAY } from '../shared/tables';
import { backoffDelay, isRetryable, retry, type RetryPolicy } from '../shared/runtime/retry';
import { SYMBOL_RE } from '../shared/tick';
import { AlertFeed, alertOf, type AlertRead } from './alert-feed';
import { chartPoint, marketRow } from './live-store';
import type { DashboardSource, SourceUpdate } from './source';
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
  intervalsMs?: Partial<Record<'latest' | 'leases' | 'dlq' | 'alerts', number>>;
  /** Tests: a smaller alertsLimit than shared/dashboard-polling.ts. */
  alertsLimit?: number;
}

/** A failed call is tried again at once a couple of times when the classifier says waiting helps (throttling). */
const CALL_RETRY: RetryPolicy = { maxAttempts: 3, baseMs: 200, maxMs: 2000 };
const RECENT_ERRORS = 50;

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
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly failures = { latest: 0, leases: 0, dlq: 0, alerts: 0 };
  private readonly feed: AlertFeed;
  private closed = false;
  /** Athena history per symbol, and when the last query started (one a minute at most). */
  private readonly lakeCache = new Map<string, ChartPoint[]>();
  private lastAthenaAt = -Infinity;
  /** Polls running now, so close() can wait for them. */
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly o: AwsSourceOptions) {
    this.description = `the deployed stack (${o.where}), read-only`;
    this.feed = new AlertFeed({ limit: o.alertsLimit ?? P.alertsLimit, lookbackDays: P.alertsLookbackDays, lateMs: P.alertsLateS * 1000 });
  }

  private now(): number {
    return this.o.now?.() ?? Date.now();
  }

  /** Starts polling; the first of each kind runs at once. */
  start(): this {
    this.loop('latest', P.latestPollS * 1000, () => this.pollLatest());
    this.loop('leases', P.leasePollS * 1000, () => this.pollLeases());
    this.loop('dlq', P.dlqPollS * 1000, () => this.pollDlq());
    const alertsTable = this.o.names.alertsTable;
    if (alertsTable !== undefined) this.loop('alerts', P.alertsPollS * 1000, () => this.pollAlerts(alertsTable));
    return this;
  }

  private loop(kind: keyof AwsSource['failures'], defaultMs: number, poll: () => Promise<void>): void {
    const every = this.o.intervalsMs?.[kind] ?? defaultMs;
    const run = (): void => {
      if (this.closed) return;
      const p = poll().then(
        () => {
          this.failures[kind] = 0;
        },
        (err: unknown) => {
          this.failures[kind]++;
          this.recordError(`${kind} poll`, err);
        },
      );
      this.running.add(p);
      void p.finally(() => {
        this.running.delete(p);
        if (this.closed) return;
        // after failures, the interval grows with the shared backoff formula (jittered), up to maxBackoffS
        const delay = this.failures[kind] === 0 ? every : backoffDelay(this.failures[kind], { baseMs: every, maxMs: Math.max(every, P.maxBackoffS * 1000) });
        const t = setTimeout(() => {
          this.timers.delete(t);
          run();
        }, delay);
        this.timers.add(t);
      });
    };
    run();
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

  /** Every symbol's `latest` row, by a Scan stopped at latestScanCap items. */
  private async pollLatest(): Promise<void> {
    const rows: SourceUpdate['rows'] = [];
    let start: Record<string, AttributeValue> | undefined;
    let read = 0;
    do {
      const page = await this.call(() => this.o.dynamo.send(new ScanCommand({ TableName: this.o.names.latestTable, Limit: Math.min(1000, P.latestScanCap - read), ExclusiveStartKey: start })));
      for (const item of page.Items ?? []) {
        read++;
        const r = rowOf(item);
        if (r === undefined) continue;
        const prev = this.latest.get(r.symbol);
        if (prev !== undefined && prev.ts >= r.ts) continue;
        const x = unmarshall(item) as Record<string, unknown>;
        const row = marketRow(r, { signal: signalOf(x.last_signal), ts: num(x.last_signal_ts) }, null);
        this.latest.set(r.symbol, row);
        rows.push({ row, point: chartPoint(r) });
      }
      start = page.LastEvaluatedKey;
    } while (start !== undefined && read < P.latestScanCap && !this.closed);
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

  market(): Promise<MarketRow[]> {
    return Promise.resolve([...this.latest.values()]);
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
    if (points.length === 0 && !this.latest.has(symbol)) return undefined;
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

  /** The newest published alerts read so far (at most alertsLimit), newest first. */
  alerts(): Promise<AlertItem[]> {
    return Promise.resolve(this.feed.recent());
  }

  pipeline(): Promise<PipelineView> {
    return Promise.resolve({
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
    });
  }

  subscribe(listener: (u: SourceUpdate) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.running]);
  }
}
