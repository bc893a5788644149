/**
 * DynamoDB live view: the `ticks` history table and the `latest` table.
 *
 * Both writes are idempotent, which is what lets the processor retry a batch
 * or replay a shard: a tick's item is keyed by (symbol, ts) and its content is
 * a pure function of the tick, and `latest` only ever moves forward in ts.
 */
import type { AttributeValue, DynamoDBClient, WriteRequest } from '@aws-sdk/client-dynamodb';
import { BatchWriteItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { EnrichedTick } from '../../shared/enriched';
import { ENRICHED_COLUMNS } from '../../shared/enriched';
import type { Logger } from '../../shared/logger';
import { PartialWriteError, SinkWriteError, isConditionalCheckFailed } from '../errors';
import { describeError } from '../../shared/describe-error';
import type { TickSink } from '../ports';
import { toAttr, toDynamoAttributes } from './rows';
import type { RetryPolicy } from '../../shared/runtime/retry';
import { mapLimit } from '../../shared/runtime/concurrency';
import { backoffDelay } from '../../shared/runtime/retry';
import { sleep } from '../../shared/runtime/sleep';
import { DEFAULT_RETRY, chunk } from './util';

/** BatchWriteItem's hard limit. */
const BATCH_WRITE_MAX = 25;
const DAY_S = 86_400;

export interface DynamoTicksSinkOptions {
  tableName: string;
  /** Items expire this many days after the tick was produced (TTL attribute `expires_at`). */
  ttlDays: number;
  /** BatchWriteItem calls in flight at once. Default 4. */
  concurrency?: number;
  retry?: RetryPolicy;
  logger?: Logger;
}

/**
 * `ticks` table: pk `symbol` (S), sk `ts` (N), every enriched column, `dt`,
 * and `expires_at` (epoch seconds) for DynamoDB TTL.
 *
 * `expires_at` counts from `produced_at`, not the wall clock, so a replay
 * writes byte-identical items; and not from `ts`, so a replay of last year's
 * bars is not deleted the day it is written.
 */
export class DynamoTicksSink implements TickSink {
  readonly name = 'dynamodb-ticks';
  private readonly concurrency: number;
  private readonly retry: RetryPolicy;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly opts: DynamoTicksSinkOptions,
  ) {
    if (!(opts.ttlDays > 0)) throw new RangeError(`ttlDays must be > 0, got ${opts.ttlDays}`);
    this.concurrency = opts.concurrency ?? 4;
    this.retry = opts.retry ?? DEFAULT_RETRY;
  }

  itemOf(tick: EnrichedTick): Record<string, AttributeValue> {
    const item = toDynamoAttributes(tick);
    item.expires_at = { N: String(Math.floor(tick.produced_at / 1000) + Math.round(this.opts.ttlDays * DAY_S)) };
    return item;
  }

  async write(rows: readonly EnrichedTick[]): Promise<void> {
    // BatchWriteItem rejects a call holding the same key twice; a replayed
    // record can put the same (symbol, ts) in one batch. Last one wins, and
    // both are identical anyway.
    const byKey = new Map<string, EnrichedTick>();
    for (const r of rows) byKey.set(`${r.symbol}\u0000${r.ts}`, r);
    const requests: WriteRequest[] = [...byKey.values()].map((t) => ({ PutRequest: { Item: this.itemOf(t) } }));
    await mapLimit(chunk(requests, BATCH_WRITE_MAX), this.concurrency, (batch) =>
      batchWriteAll(this.client, this.opts.tableName, batch, this.retry, this.name, this.opts.logger),
    );
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * One BatchWriteItem of ≤ 25 requests, re-sending only the UnprocessedItems
 * with full-jitter backoff until all are written or the attempts run out.
 * Errors thrown by the call itself were already retried by the SDK's own
 * retry strategy (throttling, 5xx, network), so they are final here.
 */
async function batchWriteAll(
  client: DynamoDBClient,
  tableName: string,
  requests: WriteRequest[],
  retry: RetryPolicy,
  sinkName: string,
  logger?: Logger,
): Promise<void> {
  let pending = requests;
  for (let attempt = 1; ; attempt++) {
    let out;
    try {
      out = await client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }));
    } catch (err) {
      throw new SinkWriteError(sinkName, `BatchWriteItem on ${tableName} failed: ${describeError(err)}`, { cause: err });
    }
    pending = out.UnprocessedItems?.[tableName] ?? [];
    if (pending.length === 0) return;
    if (attempt >= retry.maxAttempts) throw new PartialWriteError(sinkName, pending.length, attempt);
    const delay = backoffDelay(attempt - 1, retry);
    logger?.debug('unprocessed items, retrying', { sink: sinkName, table: tableName, unprocessed: pending.length, attempt, delay });
    await sleep(delay);
  }
}

export interface DynamoLatestSinkOptions {
  tableName: string;
  /** UpdateItem calls in flight at once. Default 8. */
  concurrency?: number;
  logger?: Logger;
}

/** Result counts of the last write, for metrics and tests. */
export interface LatestWriteStats {
  updated: number;
  /** The stored item was already at or past this ts: normal on replay. */
  skipped: number;
}

/**
 * `latest` table: one item per symbol (pk `symbol`) with the latest enriched
 * values, plus `last_signal`/`last_signal_ts`/`last_signal_price` of the most
 * recent tick that carried a signal.
 *
 * Each update is conditional on `ts` moving forward, so a replay, a retry or
 * a worker that lost its lease can never move the item back in time; the
 * ConditionalCheckFailedException that results is the normal "already
 * applied" outcome, not an error.
 */
export class DynamoLatestSink implements TickSink {
  readonly name = 'dynamodb-latest';
  lastStats: LatestWriteStats = { updated: 0, skipped: 0 };

  constructor(
    private readonly client: DynamoDBClient,
    private readonly opts: DynamoLatestSinkOptions,
  ) {}

  async write(rows: readonly EnrichedTick[]): Promise<void> {
    // Per symbol only the newest tick matters, plus the newest tick with a
    // signal: one UpdateItem per symbol per batch, whatever the batch size.
    const newest = new Map<string, EnrichedTick>();
    const lastSignal = new Map<string, EnrichedTick>();
    for (const r of rows) {
      const cur = newest.get(r.symbol);
      if (!cur || r.ts > cur.ts) newest.set(r.symbol, r);
      if (r.signal !== null) {
        const s = lastSignal.get(r.symbol);
        if (!s || r.ts > s.ts) lastSignal.set(r.symbol, r);
      }
    }
    const stats: LatestWriteStats = { updated: 0, skipped: 0 };
    await mapLimit([...newest.values()], this.opts.concurrency ?? 8, async (tick) => {
      const applied = await this.update(tick, lastSignal.get(tick.symbol));
      if (applied) stats.updated++;
      else stats.skipped++;
    });
    this.lastStats = stats;
  }

  /** @returns false when the stored item is already at or past `tick.ts`. */
  private async update(tick: EnrichedTick, signalTick: EnrichedTick | undefined): Promise<boolean> {
    const names: Record<string, string> = { '#ts': 'ts' };
    const values: Record<string, AttributeValue> = {};
    const set: string[] = [];
    const remove: string[] = [];
    ENRICHED_COLUMNS.forEach((c, i) => {
      if (c.name === 'symbol') return;
      const ref = c.name === 'ts' ? '#ts' : `#c${i}`;
      names[ref] = c.name;
      const a = toAttr((tick as unknown as Record<string, unknown>)[c.name]);
      if (a) {
        values[`:c${i}`] = a;
        set.push(`${ref} = :c${i}`);
      } else {
        // A column that is null now must not keep an older tick's value.
        remove.push(ref);
      }
    });
    names['#dt'] = 'dt';
    values[':dt'] = { S: tick.dt };
    set.push('#dt = :dt');
    if (signalTick && signalTick.signal !== null) {
      names['#ls'] = 'last_signal';
      names['#lst'] = 'last_signal_ts';
      names['#lsp'] = 'last_signal_price';
      values[':ls'] = { S: signalTick.signal };
      values[':lst'] = { N: String(signalTick.ts) };
      values[':lsp'] = { N: String(signalTick.price) };
      set.push('#ls = :ls', '#lst = :lst', '#lsp = :lsp');
    }
    const tsValue = values[`:c${ENRICHED_COLUMNS.findIndex((c) => c.name === 'ts')}`];
    if (!tsValue) throw new SinkWriteError(this.name, `tick without ts for ${tick.symbol}`);
    values[':newts'] = tsValue;
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.opts.tableName,
          Key: { symbol: { S: tick.symbol } },
          UpdateExpression: `SET ${set.join(', ')}${remove.length ? ` REMOVE ${remove.join(', ')}` : ''}`,
          ConditionExpression: 'attribute_not_exists(#ts) OR #ts < :newts',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw new SinkWriteError(this.name, `UpdateItem ${tick.symbol}@${tick.ts} on ${this.opts.tableName} failed: ${describeError(err)}`, { cause: err });
    }
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
