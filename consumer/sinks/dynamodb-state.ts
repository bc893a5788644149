/**
 * Per-symbol analyzer snapshots in the DynamoDB `state` table:
 * pk `symbol` (S), `state` (the analyzer state as a JSON string), `last_ts` (N).
 */
import type { AttributeValue, DynamoDBClient, KeysAndAttributes } from '@aws-sdk/client-dynamodb';
import { BatchGetItemCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { Logger } from '../../shared/logger';
import { CorruptStateError, StateStoreError, isConditionalCheckFailed } from '../errors';
import { describeError } from '../../shared/describe-error';
import type { RestartLedger, ShardStarts, StateSnapshot, StateStore } from '../ports';
import type { RetryPolicy } from '../../shared/runtime/retry';
import { mapLimit } from '../../shared/runtime/concurrency';
import { backoffDelay } from '../../shared/runtime/retry';
import { sleep } from '../../shared/runtime/sleep';
import { DEFAULT_RETRY, chunk } from './util';

/** BatchGetItem's hard limit. */
const BATCH_GET_MAX = 100;

export interface DynamoStateStoreOptions {
  tableName: string;
  /** PutItem calls in flight at once. Default 8. */
  concurrency?: number;
  retry?: RetryPolicy;
  logger?: Logger;
}

export class DynamoStateStore implements StateStore {
  private readonly retry: RetryPolicy;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly opts: DynamoStateStoreOptions,
  ) {
    this.retry = opts.retry ?? DEFAULT_RETRY;
  }

  /**
   * Strongly consistent reads: the snapshot was typically written moments ago
   * by the worker that held the lease before, and an eventually consistent
   * read could return the one before it, re-applying ticks onto old state.
   */
  async get(symbols: readonly string[]): Promise<Map<string, StateSnapshot>> {
    const out = new Map<string, StateSnapshot>();
    const unique = [...new Set(symbols)];
    for (const keys of chunk(unique, BATCH_GET_MAX)) {
      let pending: KeysAndAttributes | undefined = {
        Keys: keys.map((s) => ({ symbol: { S: s } })),
        ConsistentRead: true,
        ProjectionExpression: '#s, #st, #lt',
        ExpressionAttributeNames: { '#s': 'symbol', '#st': 'state', '#lt': 'last_ts' },
      };
      for (let attempt = 1; pending?.Keys?.length; attempt++) {
        let res;
        try {
          res = await this.client.send(new BatchGetItemCommand({ RequestItems: { [this.opts.tableName]: pending } }));
        } catch (err) {
          throw new StateStoreError(`BatchGetItem on ${this.opts.tableName} failed: ${describeError(err)}`, { cause: err });
        }
        for (const item of res.Responses?.[this.opts.tableName] ?? []) {
          const snap = decode(item);
          out.set(snap.symbol, snap);
        }
        pending = res.UnprocessedKeys?.[this.opts.tableName];
        if (pending?.Keys?.length) {
          if (attempt >= this.retry.maxAttempts) {
            throw new StateStoreError(`BatchGetItem on ${this.opts.tableName}: ${pending.Keys.length} key(s) unprocessed after ${attempt} attempts`);
          }
          await sleep(backoffDelay(attempt - 1, this.retry));
        }
      }
    }
    return out;
  }

  /**
   * One conditional PutItem per symbol rather than BatchWriteItem, because
   * the condition is the point: `last_ts` may only stay or grow, so a worker
   * that lost its lease and writes late cannot roll a symbol's state back.
   */
  async putMany(snapshots: readonly StateSnapshot[]): Promise<{ stale: string[] }> {
    const stale: string[] = [];
    await mapLimit(snapshots, this.opts.concurrency ?? 8, async (snap) => {
      let json: string;
      try {
        json = JSON.stringify(snap.state);
      } catch (err) {
        throw new StateStoreError(`state of ${snap.symbol} is not JSON-serialisable`, { cause: err });
      }
      try {
        await this.client.send(
          new PutItemCommand({
            TableName: this.opts.tableName,
            Item: { symbol: { S: snap.symbol }, state: { S: json }, last_ts: { N: String(snap.last_ts) } },
            ConditionExpression: 'attribute_not_exists(#lt) OR #lt <= :lt',
            ExpressionAttributeNames: { '#lt': 'last_ts' },
            ExpressionAttributeValues: { ':lt': { N: String(snap.last_ts) } },
          }),
        );
      } catch (err) {
        if (isConditionalCheckFailed(err)) {
          stale.push(snap.symbol);
          this.opts.logger?.warn('state snapshot older than the stored one, not written', { symbol: snap.symbol, last_ts: snap.last_ts });
          return;
        }
        throw new StateStoreError(`PutItem ${snap.symbol} on ${this.opts.tableName} failed: ${describeError(err)}`, { cause: err });
      }
    });
    return { stale };
  }
}

function decode(item: Record<string, AttributeValue>): StateSnapshot {
  const symbol = item.symbol?.S;
  if (symbol === undefined) throw new CorruptStateError('(unknown)', 'item without a symbol');
  const lastTs = Number(item.last_ts?.N);
  if (!Number.isFinite(lastTs)) throw new CorruptStateError(symbol, 'last_ts missing or not a number');
  const raw = item.state?.S;
  if (raw === undefined) throw new CorruptStateError(symbol, 'state missing or not a string');
  let state: unknown;
  try {
    state = JSON.parse(raw);
  } catch (err) {
    throw new CorruptStateError(symbol, 'state is not valid JSON', { cause: err });
  }
  return { symbol, last_ts: lastTs, state };
}

/**
 * The restart ledger lives in the state table under keys no symbol can have
 * (`~shard/<shardId>`; symbols are A-Z 0-9 . ^ = -), so it needs no table,
 * permission or stack change of its own. It is written at start-up and on a
 * clean stop, never per batch.
 */
/** No KCL checkpoint is ever this: the next start counts from 1. */
const CLEARED = '-';

export class DynamoRestartLedger implements RestartLedger {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  static keyOf(shardId: string): string {
    return `~shard/${shardId}`;
  }

  async recordStart(shardId: string, checkpoint: string): Promise<ShardStarts> {
    const key = { symbol: { S: DynamoRestartLedger.keyOf(shardId) } };
    let prev: Record<string, AttributeValue> | undefined;
    try {
      prev = (await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }))).Item;
    } catch (err) {
      throw new StateStoreError(`GetItem ${key.symbol.S} on ${this.tableName} failed: ${describeError(err)}`, { cause: err });
    }
    const same = prev?.checkpoint?.S === checkpoint;
    const next: ShardStarts = { checkpoint, starts: same ? Number(prev?.starts?.N ?? '0') + 1 : 1 };
    const suspect = same ? prev?.suspect?.S : undefined;
    if (suspect !== undefined) next.suspect = suspect;
    await this.put(shardId, next);
    return next;
  }

  markSuspect(shardId: string, checkpoint: string, starts: number, sequenceNumber: string): Promise<void> {
    return this.put(shardId, { checkpoint, starts, suspect: sequenceNumber });
  }

  /** A PutItem of zero starts rather than a DeleteItem: the consumer's role
   *  may put and update on the state table, and needs no delete for this. */
  clear(shardId: string): Promise<void> {
    return this.put(shardId, { checkpoint: CLEARED, starts: 0 });
  }

  private async put(shardId: string, s: ShardStarts): Promise<void> {
    const item: Record<string, AttributeValue> = { symbol: { S: DynamoRestartLedger.keyOf(shardId) }, checkpoint: { S: s.checkpoint }, starts: { N: String(s.starts) } };
    if (s.suspect !== undefined) item.suspect = { S: s.suspect };
    try {
      await this.client.send(new PutItemCommand({ TableName: this.tableName, Item: item }));
    } catch (err) {
      throw new StateStoreError(`PutItem ${DynamoRestartLedger.keyOf(shardId)} on ${this.tableName} failed: ${describeError(err)}`, { cause: err });
    }
  }
}
