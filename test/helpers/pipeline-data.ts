/**
 * What the integration tests read back from a running local pipeline
 * (DynamoDB tables, the Parquet lake, alerts/dead-letter files, the KCL lease
 * table) and what they compare it with (the pure core run in-process).
 */
import { GetItemCommand, ListTablesCommand, ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import fs from 'node:fs';
import path from 'node:path';
import { SymbolAnalyzer } from '../../analytics';
import { MemoryAlertPublisher } from '../../consumer/sinks/memory';
import type { Alert, DeadLetter } from '../../consumer/ports';
import { ENRICHED_COLUMNS, type EnrichedTick } from '../../shared/enriched';
import { duckdb } from '../../shared/parquet';
import { encodeTick, type Tick } from '../../shared/tick';
import type { AlertItem } from '../../dashboard/wire';

export type Item = Record<string, AttributeValue>;

export async function scanAll(dynamo: DynamoDBClient, table: string): Promise<Item[]> {
  const out: Item[] = [];
  let start: Item | undefined;
  do {
    const r = await dynamo.send(new ScanCommand({ TableName: table, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }));
    out.push(...(r.Items ?? []));
    start = r.LastEvaluatedKey;
  } while (start);
  return out;
}

/** JSON with sorted keys at every level: equal items give equal strings. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** A whole table as sorted canonical strings of the raw attribute values
 *  (N stays the exact decimal string DynamoDB stores). */
export async function tableSnapshot(dynamo: DynamoDBClient, table: string): Promise<string[]> {
  return (await scanAll(dynamo, table)).map(canonical).sort();
}

export async function unmarshalledRows(dynamo: DynamoDBClient, table: string): Promise<Record<string, unknown>[]> {
  return (await scanAll(dynamo, table)).map((i) => unmarshall(i));
}

export type LakeRow = Record<string, string | number | boolean | null>;

/** Every row of every Parquet file of `<dataDir>/lake`, timestamps as epoch ms, ordered by (symbol, ts). */
export async function readLake(dataDir: string): Promise<LakeRow[]> {
  const dir = path.join(dataDir, 'lake', 'ticks');
  if (!fs.existsSync(dir)) return [];
  const glob = path.join(dir, '**', '*.parquet').replace(/'/g, "''");
  const cols = ENRICHED_COLUMNS.map((c) => (c.type === 'timestamp' ? `CAST(epoch_ms("${c.name}") AS DOUBLE) AS "${c.name}"` : `"${c.name}"`)).join(', ');
  const conn = await (await duckdb()).connect();
  try {
    const n = await conn.runAndReadAll(`SELECT count(*) AS n FROM glob('${glob}')`);
    if (Number(n.getRowObjects()[0]?.n ?? 0) === 0) return [];
    const r = await conn.runAndReadAll(
      `SELECT ${cols}, dt FROM read_parquet('${glob}', hive_partitioning = true, hive_types = {'dt': VARCHAR}) ORDER BY symbol, ts, produced_at`,
    );
    return r.getRowObjects().map((o) => {
      const row: LakeRow = {};
      for (const [k, v] of Object.entries(o)) row[k] = typeof v === 'bigint' ? Number(v) : (v as string | number | boolean | null);
      return row;
    });
  } finally {
    conn.closeSync();
  }
}

export function lakeDistinctKeys(rows: readonly LakeRow[]): number {
  return new Set(rows.map((r) => `${String(r.symbol)}/${String(r.ts)}`)).size;
}

function readJsonLines<T>(file: string): T[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

/** A line of alerts.jsonl: the shape the dashboard's alert feed carries too. */
export type AlertLine = AlertItem;

export function readAlerts(dataDir: string): AlertLine[] {
  return readJsonLines<AlertLine>(path.join(dataDir, 'alerts.jsonl'));
}

export type DeadLetterLine = DeadLetter;

export function readDeadLetters(dataDir: string): DeadLetterLine[] {
  return readJsonLines<DeadLetterLine>(path.join(dataDir, 'dead-letters.jsonl'));
}

/** The KCL lease table, one plain object per lease. */
export async function leases(dynamo: DynamoDBClient, applicationName: string): Promise<Record<string, unknown>[]> {
  return (await scanAll(dynamo, applicationName)).map((i) => unmarshall(i));
}

export interface PutResult {
  shardId: string;
  sequenceNumber: string;
}

/**
 * PutRecords in calls that hold at most one record per partition key, so a
 * retried (rejected) entry can never land behind a later record of its key:
 * per-symbol order is what the consumer's duplicate detection relies on.
 * Returns where each record landed, in input order.
 */
export async function putInOrder(kinesis: KinesisClient, streamName: string, records: readonly { partitionKey: string; data: Uint8Array }[]): Promise<PutResult[]> {
  const results = new Array<PutResult>(records.length);
  let i = 0;
  while (i < records.length) {
    const keys = new Set<string>();
    const idx: number[] = [];
    let bytes = 0;
    while (i < records.length && idx.length < 500 && !keys.has(records[i]!.partitionKey) && bytes + records[i]!.data.byteLength < 4_500_000) {
      keys.add(records[i]!.partitionKey);
      bytes += records[i]!.data.byteLength;
      idx.push(i++);
    }
    let pending = idx;
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > 20) throw new Error(`PutRecords kept rejecting ${pending.length} record(s)`);
      const r = await kinesis.send(new PutRecordsCommand({ StreamName: streamName, Records: pending.map((j) => ({ PartitionKey: records[j]!.partitionKey, Data: records[j]!.data })) }));
      const failed: number[] = [];
      (r.Records ?? []).forEach((e, k) => {
        const j = pending[k]!;
        if (e.SequenceNumber !== undefined && e.ShardId !== undefined && e.ErrorCode === undefined) results[j] = { shardId: e.ShardId, sequenceNumber: e.SequenceNumber };
        else failed.push(j);
      });
      pending = failed;
      if (pending.length > 0) await new Promise((res) => setTimeout(res, 100 * attempt));
    }
  }
  return results;
}

export function tickRecords(ticks: readonly Tick[]): { partitionKey: string; data: Uint8Array }[] {
  return ticks.map((t) => ({ partitionKey: t.symbol, data: encodeTick(t) }));
}

/** Highest sequence number put to each shard. */
export function lastSequenceByShard(results: readonly PutResult[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of results) {
    const cur = out.get(r.shardId);
    if (cur === undefined || BigInt(r.sequenceNumber) > BigInt(cur)) out.set(r.shardId, r.sequenceNumber);
  }
  return out;
}

/** Shard id → the checkpoint stored in its lease (a sequence number, TRIM_HORIZON, SHARD_END, …). */
export async function leaseCheckpoints(dynamo: DynamoDBClient, applicationName: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const l of await leases(dynamo, applicationName)) out.set(String(l.leaseKey), String(l.checkpoint));
  return out;
}

/** Whether every shard that received records has its lease checkpointed at its last record. */
export async function allCheckpointedAt(dynamo: DynamoDBClient, applicationName: string, last: ReadonlyMap<string, string>): Promise<boolean> {
  const cps = await leaseCheckpoints(dynamo, applicationName);
  for (const [shard, seq] of last) if (cps.get(shard) !== seq) return false;
  return true;
}

export interface PureRun {
  /** `${symbol}/${ts}` → the enriched row */
  rows: Map<string, EnrichedTick>;
  /** alerts delivered by the same dedup + tick-time cooldown gate the sinks use */
  alerts: Alert[];
}

/** An uninterrupted, in-process run of the pure core over `ticks` (in stream order). */
export async function pureRun(ticks: readonly Tick[], cooldownMs: number): Promise<PureRun> {
  const analyzers = new Map<string, SymbolAnalyzer>();
  const publisher = new MemoryAlertPublisher(cooldownMs);
  const rows = new Map<string, EnrichedTick>();
  for (const t of ticks) {
    let a = analyzers.get(t.symbol);
    if (!a) analyzers.set(t.symbol, (a = new SymbolAnalyzer(t.symbol)));
    const r = a.analyze(t);
    if (r.kind !== 'applied') throw new Error(`test input repeats ${t.symbol}@${t.ts}`);
    rows.set(`${t.symbol}/${t.ts}`, r.row);
    for (const al of r.alerts) await publisher.publish(al);
  }
  return { rows, alerts: [...publisher.delivered] };
}

/** The fields of an alert that alerts.jsonl stores. */
export function alertLine(a: Alert): AlertLine {
  return { id: a.id, symbol: a.symbol, type: a.type, ts: a.ts, price: a.price, message: a.message };
}

export function sortAlerts<T extends { id: string }>(list: readonly T[]): T[] {
  return [...list].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * Compares stored rows column by column with the pure core's rows; returns
 * the first few differences (empty = equal). Numbers must be bit-equal
 * (Object.is). `nonFiniteAsNull`: DynamoDB cannot store NaN/Infinity and the
 * sink omits them, so for it a non-finite core value must come back absent.
 */
export function diffRows(stored: readonly Record<string, unknown>[], expected: ReadonlyMap<string, EnrichedTick>, nonFiniteAsNull: boolean): string[] {
  const diffs: string[] = [];
  for (const row of stored) {
    const key = `${String(row.symbol)}/${Number(row.ts)}`;
    const e = expected.get(key) as unknown as Record<string, unknown> | undefined;
    if (e === undefined) {
      diffs.push(`${key}: not in the pure run`);
    } else {
      for (const c of ENRICHED_COLUMNS) {
        let want = e[c.name] ?? null;
        if (nonFiniteAsNull && typeof want === 'number' && !Number.isFinite(want)) want = null;
        const got = row[c.name] ?? null;
        if (!Object.is(want, got)) diffs.push(`${key} ${c.name}: stored ${JSON.stringify(got)}, core ${JSON.stringify(want)}`);
      }
      if (row.dt !== (e.dt as string)) diffs.push(`${key} dt: stored ${String(row.dt)}, core ${String(e.dt)}`);
    }
    if (diffs.length >= 20) break;
  }
  return diffs;
}

/**
 * The worker holding KCL 3's leader lock (`Leader` item of the coordinator
 * state table, written by the DynamoDB lock client), or undefined. Only the
 * leader reassigns leases, and the lock outlives a dead leader by its lease
 * duration (our launcher's setting, 10 s locally; a fixed 2 minutes on stock
 * KCL 3.1.3). Core 3.5 keeps the lock in this table as long as the table
 * exists (three-table mode, infra/kcl.ts).
 */
export async function kclLeader(dynamo: DynamoDBClient, applicationName: string): Promise<string | undefined> {
  const tables = (await dynamo.send(new ListTablesCommand({}))).TableNames ?? [];
  const table = tables.find((t) => t === `${applicationName}-CoordinatorState`);
  if (table === undefined) return undefined;
  const r = await dynamo.send(new GetItemCommand({ TableName: table, Key: { key: { S: 'Leader' } }, ConsistentRead: true }));
  return r.Item?.ownerName?.S;
}

/**
 * The failure tests' standard: after the run, every sink holds what one
 * uninterrupted run of the pure core gives. The ticks table row for row
 * (sma5/sma20 bit-equal), `latest` at each symbol's last tick, the lake once
 * per tick, and each alert once.
 */
export async function expectOutputsEqualPureRun(o: { dynamo: DynamoDBClient; tables: { ticks: string; latest: string }; dataDir: string; pure: PureRun; total: number; symbols: number }): Promise<void> {
  const rows = await unmarshalledRows(o.dynamo, o.tables.ticks);
  expect(rows).toHaveLength(o.total);
  expect(diffRows(rows, o.pure.rows, true)).toEqual([]);

  const latest = await unmarshalledRows(o.dynamo, o.tables.latest);
  const lastRowOf = new Map<string, { ts: number; sma5: number | null; sma20: number | null }>();
  for (const r of o.pure.rows.values()) lastRowOf.set(r.symbol, { ts: r.ts, sma5: r.sma5, sma20: r.sma20 });
  const latestDiffs = latest.filter((l) => {
    const e = lastRowOf.get(String(l.symbol));
    return !e || e.ts !== l.ts || !Object.is(e.sma5, l.sma5 ?? null) || !Object.is(e.sma20, l.sma20 ?? null);
  });
  expect({ latest: latest.length, differing: latestDiffs.map((l) => l.symbol) }).toEqual({ latest: o.symbols, differing: [] });

  const lake = await readLake(o.dataDir);
  expect({ rows: lake.length, distinct: lakeDistinctKeys(lake) }).toEqual({ rows: o.total, distinct: o.total });
  expect(diffRows(lake, o.pure.rows, false)).toEqual([]);

  const alerts = readAlerts(o.dataDir);
  expect(alerts.length - new Set(alerts.map((a) => a.id)).size).toBe(0);
  expect(sortAlerts(alerts)).toEqual(sortAlerts(o.pure.alerts.map(alertLine)));
}

/** A status report that applied ticks: when it arrived, from which worker and shard. */
export interface AppliedReport {
  at: number;
  worker: string;
  shardId: string;
}

/** Every report that applied ticks, from now on; `stop()` unsubscribes. */
export function recordApplied(status: { onReport(listener: (m: { applied: number; worker: string; shardId: string }, at: number) => void): () => void }): { applied: AppliedReport[]; stop: () => void } {
  const applied: AppliedReport[] = [];
  const stop = status.onReport((m, at) => {
    if (m.applied > 0) applied.push({ at, worker: m.worker, shardId: m.shardId });
  });
  return { applied, stop };
}

/**
 * A steady stream for the failure tests: `perPut` ticks (one per symbol) put
 * in order every `everyMs`, until the ticks run out or `stop()`. It can be
 * paused: `paused` turns true once it has seen the pause and has no put in
 * flight, so a test can wait for "everything put so far" to be consumed.
 */
export interface SteadyProducer {
  readonly put: PutResult[];
  /** false once the ticks ran out or it was stopped */
  readonly producing: boolean;
  readonly paused: boolean;
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

export function steadyProducer(kinesis: KinesisClient, streamName: string, ticks: readonly Tick[], perPut: number, everyMs = 500): SteadyProducer {
  const put: PutResult[] = [];
  let flowing = true;
  let paused = false;
  let stopped = false;
  let producing = true;
  let next = 0;
  const loop = (async () => {
    try {
      while (!stopped && next < ticks.length) {
        paused = !flowing;
        if (flowing) {
          put.push(...(await putInOrder(kinesis, streamName, tickRecords(ticks.slice(next, next + perPut)))));
          next += perPut;
        }
        await new Promise((r) => setTimeout(r, everyMs));
      }
    } finally {
      producing = false;
    }
  })();
  return {
    put,
    get producing() {
      return producing;
    },
    get paused() {
      return paused;
    },
    pause: () => void (flowing = false),
    resume: () => void (flowing = true),
    async stop() {
      stopped = true;
      await loop.catch(() => undefined);
    },
  };
}
