/**
 * What moto cannot make happen: DynamoDB UnprocessedItems/UnprocessedKeys and
 * Firehose per-entry failures. A fake `send` plays those responses; the
 * adapters' real behaviour against moto is in
 * test/integration/consumer/aws-adapters.test.ts.
 */
import type { BatchGetItemCommand, DynamoDBClient, PutItemCommand, UpdateItemCommand, WriteRequest } from '@aws-sdk/client-dynamodb';
import { BatchWriteItemCommand } from '@aws-sdk/client-dynamodb';
import type { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { DeadLetterError, PartialWriteError, SinkWriteError, StateStoreError } from '../../../consumer/errors';
import { DynamoLatestSink, DynamoTicksSink } from '../../../consumer/sinks/dynamodb-ticks';
import { DynamoStateStore } from '../../../consumer/sinks/dynamodb-state';
import { FIREHOSE_MAX_BYTES, FirehoseTickSink, packBatches, packRows } from '../../../consumer/sinks/firehose';
import { SqsDeadLetterQueue } from '../../../consumer/sinks/sqs-dlq';
import type { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { urlSafeId } from '../../../consumer/dead-letters';
import type { DeadLetter } from '../../../consumer/ports';
import type { RetryPolicy } from '../../../shared/runtime/retry';
import { ENRICHED_COLUMNS } from '../../../shared/enriched';
import { deadLetter, knownInput, tick } from './factories';

const FAST: RetryPolicy = { maxAttempts: 5, baseMs: 1, maxMs: 2 };

function fakeClient<T>(send: (cmd: unknown) => Promise<unknown>): { client: T; calls: unknown[] } {
  const calls: unknown[] = [];
  const client = {
    send: (cmd: unknown) => {
      calls.push(cmd);
      return send(cmd);
    },
  } as unknown as T;
  return { client, calls };
}

function conditionalFailure(): Error {
  const e = new Error('The conditional request failed');
  e.name = 'ConditionalCheckFailedException';
  return e;
}

describe('DynamoTicksSink with a fake client', () => {
  it('sends ≤ 25 items per BatchWriteItem and re-sends only the UnprocessedItems until all are written', async () => {
    const written = new Map<string, number>();
    let call = 0;
    const { client, calls } = fakeClient<DynamoDBClient>((cmd) => {
      const input = (cmd as BatchWriteItemCommand).input;
      const reqs = input.RequestItems?.ticks ?? [];
      expect(reqs.length).toBeLessThanOrEqual(25);
      call++;
      // Every other call leaves its last 3 items unprocessed.
      const unprocessed: WriteRequest[] = call % 2 === 1 ? reqs.slice(-3) : [];
      for (const r of reqs.slice(0, reqs.length - unprocessed.length)) {
        const k = `${r.PutRequest?.Item?.symbol?.S}|${r.PutRequest?.Item?.ts?.N}`;
        written.set(k, (written.get(k) ?? 0) + 1);
      }
      return Promise.resolve({ UnprocessedItems: unprocessed.length ? { ticks: unprocessed } : {} });
    });
    const sink = new DynamoTicksSink(client, { tableName: 'ticks', ttlDays: 7, retry: FAST, concurrency: 1 });
    const rows = knownInput({ perSymbol: 20 }); // 100 rows
    await sink.write(rows);
    expect(written.size).toBe(100);
    expect([...written.values()].every((n) => n === 1)).toBe(true);
    expect(calls.length).toBeGreaterThan(4);
    expect(calls.every((c) => c instanceof BatchWriteItemCommand)).toBe(true);
  });

  it('gives up with PartialWriteError when items stay unprocessed', async () => {
    const { client, calls } = fakeClient<DynamoDBClient>((cmd) =>
      Promise.resolve({ UnprocessedItems: { ticks: ((cmd as BatchWriteItemCommand).input.RequestItems?.ticks ?? []).slice(0, 1) } }),
    );
    const sink = new DynamoTicksSink(client, { tableName: 'ticks', ttlDays: 7, retry: FAST });
    const err = await sink.write([tick()]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PartialWriteError);
    expect((err as PartialWriteError).failedCount).toBe(1);
    expect(calls).toHaveLength(FAST.maxAttempts);
  });

  it('wraps a thrown SDK error in SinkWriteError with the cause kept', async () => {
    const boom = new Error('connect ECONNREFUSED');
    const { client } = fakeClient<DynamoDBClient>(() => Promise.reject(boom));
    const err = await new DynamoTicksSink(client, { tableName: 'ticks', ttlDays: 7 }).write([tick()]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SinkWriteError);
    expect((err as Error).cause).toBe(boom);
  });

  it('writes each (symbol, ts) once per call even if the batch repeats it, with every column, dt and expires_at from produced_at', async () => {
    const items: Record<string, unknown>[] = [];
    const { client } = fakeClient<DynamoDBClient>((cmd) => {
      for (const r of (cmd as BatchWriteItemCommand).input.RequestItems?.ticks ?? []) items.push(r.PutRequest?.Item ?? {});
      return Promise.resolve({});
    });
    const t = tick({ produced_at: 1_709_305_200_999 });
    await new DynamoTicksSink(client, { tableName: 'ticks', ttlDays: 2 }).write([t, t]);
    expect(items).toHaveLength(1);
    const item = items[0] as Record<string, { S?: string; N?: string; BOOL?: boolean }>;
    expect(item.expires_at).toEqual({ N: String(1_709_305_200 + 2 * 86_400) });
    expect(item.dt).toEqual({ S: '2024-03-01' });
    for (const c of ENRICHED_COLUMNS) {
      const v = (t as unknown as Record<string, unknown>)[c.name];
      expect({ column: c.name, present: c.name in item }).toEqual({ column: c.name, present: v !== null });
    }
  });
});

describe('DynamoLatestSink with a fake client', () => {
  it('sends one conditional update per symbol with the newest values and the newest signal; a failed condition is not an error', async () => {
    const updates: UpdateItemCommand[] = [];
    const { client } = fakeClient<DynamoDBClient>((cmd) => {
      updates.push(cmd as UpdateItemCommand);
      return (cmd as UpdateItemCommand).input.Key?.symbol?.S === 'MSFT' ? Promise.reject(conditionalFailure()) : Promise.resolve({});
    });
    const base = Date.UTC(2024, 2, 1, 15);
    const sink = new DynamoLatestSink(client, { tableName: 'latest' });
    await sink.write([
      tick({ ts: base, signal: 'BUY' }),
      tick({ ts: base + 1000, signal: 'SELL', price: 99 }),
      tick({ ts: base + 2000, signal: null, price: 98 }),
      tick({ symbol: 'MSFT', ts: base }),
    ]);
    expect(sink.lastStats).toEqual({ updated: 1, skipped: 1 });
    const aapl = updates.find((u) => u.input.Key?.symbol?.S === 'AAPL')?.input;
    expect(aapl?.ConditionExpression).toBe('attribute_not_exists(#ts) OR #ts < :newts');
    expect(aapl?.ExpressionAttributeValues?.[':newts']).toEqual({ N: String(base + 2000) });
    expect(aapl?.ExpressionAttributeValues?.[':ls']).toEqual({ S: 'SELL' });
    expect(aapl?.ExpressionAttributeValues?.[':lst']).toEqual({ N: String(base + 1000) });
    expect(aapl?.UpdateExpression).toMatch(/ REMOVE .*#c\d+/); // null signal/sma20/... are removed, not left stale
  });
});

describe('DynamoStateStore with a fake client', () => {
  it('re-requests UnprocessedKeys and decodes the snapshots', async () => {
    let call = 0;
    const { client } = fakeClient<DynamoDBClient>((cmd) => {
      const keys = (cmd as BatchGetItemCommand).input.RequestItems?.state?.Keys ?? [];
      call++;
      const [first, ...rest] = keys;
      const responses = first ? [{ symbol: first.symbol ?? { S: '?' }, state: { S: JSON.stringify({ n: call }) }, last_ts: { N: '5' } }] : [];
      return Promise.resolve({ Responses: { state: responses }, UnprocessedKeys: rest.length ? { state: { Keys: rest } } : {} });
    });
    const got = await new DynamoStateStore(client, { tableName: 'state', retry: FAST }).get(['A', 'B', 'C']);
    expect([...got.keys()].sort()).toEqual(['A', 'B', 'C']);
    expect(got.get('C')).toEqual({ symbol: 'C', last_ts: 5, state: { n: 3 } });
  });

  it('reports a conditional failure on put as stale, and other failures as StateStoreError', async () => {
    const { client } = fakeClient<DynamoDBClient>((cmd) =>
      (cmd as PutItemCommand).input.Item?.symbol?.S === 'OLD' ? Promise.reject(conditionalFailure()) : Promise.resolve({}),
    );
    const store = new DynamoStateStore(client, { tableName: 'state' });
    expect(await store.putMany([{ symbol: 'OLD', last_ts: 1, state: {} }, { symbol: 'NEW', last_ts: 2, state: {} }])).toEqual({ stale: ['OLD'] });
    const { client: broken } = fakeClient<DynamoDBClient>(() => Promise.reject(new Error('boom')));
    await expect(new DynamoStateStore(broken, { tableName: 'state' }).putMany([{ symbol: 'X', last_ts: 1, state: {} }])).rejects.toBeInstanceOf(
      StateStoreError,
    );
  });
});

describe('FirehoseTickSink with a fake client', () => {
  it('retries only the entries that failed', async () => {
    const attempts: string[][] = [];
    const { client } = fakeClient<FirehoseClient>((cmd) => {
      const input = (cmd as PutRecordBatchCommand).input;
      const recs = (input.Records ?? []).map((r) => Buffer.from(r.Data as Uint8Array).toString());
      attempts.push(recs);
      // First attempt: entries 1 and 3 fail; later attempts succeed.
      const fail = attempts.length === 1 ? new Set([1, 3]) : new Set<number>();
      return Promise.resolve({
        FailedPutCount: fail.size,
        RequestResponses: recs.map((_, i) => (fail.has(i) ? { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'slow down' } : { RecordId: `r${i}` })),
      });
    });
    const rows = knownInput({ perSymbol: 1 });
    await new FirehoseTickSink(client, { deliveryStreamName: 'ticks', retry: FAST }).write(rows);
    expect(attempts).toHaveLength(2);
    expect(attempts[1]).toEqual([attempts[0]?.[1], attempts[0]?.[3]]);
    const row = JSON.parse(attempts[0]?.[0] ?? '') as Record<string, unknown>;
    expect(Object.keys(row)).toEqual([...ENRICHED_COLUMNS.map((c) => c.name), 'dt']);
    expect(attempts[0]?.every((r) => r.endsWith('}\n'))).toBe(true);
  });

  it('throws PartialWriteError when entries keep failing', async () => {
    const { client } = fakeClient<FirehoseClient>((cmd) => {
      const n = (cmd as PutRecordBatchCommand).input.Records?.length ?? 0;
      return Promise.resolve({ FailedPutCount: n, RequestResponses: Array.from({ length: n }, () => ({ ErrorCode: 'InternalFailure' })) });
    });
    await expect(new FirehoseTickSink(client, { deliveryStreamName: 'ticks', retry: FAST }).write([tick()])).rejects.toBeInstanceOf(PartialWriteError);
  });

  it('with recordBytes, packs whole rows into records of at most that size, every row once and in order', async () => {
    const sent: string[] = [];
    const { client } = fakeClient<FirehoseClient>((cmd) => {
      const recs = ((cmd as PutRecordBatchCommand).input.Records ?? []).map((r) => Buffer.from(r.Data as Uint8Array).toString());
      sent.push(...recs);
      return Promise.resolve({ FailedPutCount: 0, RequestResponses: recs.map((_, i) => ({ RecordId: `r${i}` })) });
    });
    const rows = knownInput({ perSymbol: 30 });
    await new FirehoseTickSink(client, { deliveryStreamName: 'ticks', retry: FAST, recordBytes: 5000 }).write(rows);
    expect(sent.length).toBeLessThan(rows.length / 5);
    for (const r of sent) expect(Buffer.byteLength(r)).toBeLessThanOrEqual(5000);
    // what Firehose's RecordDeAggregation (JSON) gets back: the same rows, one JSON object per line
    const split = sent.flatMap((r) => r.split('\n').filter((l) => l !== '')).map((l) => JSON.parse(l) as { symbol: string; ts: number });
    expect(split.map((r) => [r.symbol, r.ts])).toEqual(rows.map((r) => [r.symbol, r.ts]));
  });

  it('packRows never splits a row, and gives an oversized row a record of its own', () => {
    expect(packRows(['aaa\n', 'bb\n', 'c\n'], 7).map(String)).toEqual(['aaa\nbb\n', 'c\n']);
    expect(packRows(['x'.repeat(10), 'y\n'], 5).map(String)).toEqual(['x'.repeat(10), 'y\n']);
  });

  it('packs ≤ 500 records and ≤ 4 MiB per call', () => {
    const small = Array.from({ length: 1201 }, () => Buffer.alloc(100));
    expect(packBatches(small).map((b) => b.length)).toEqual([500, 500, 201]);
    const big = Array.from({ length: 9 }, () => Buffer.alloc(1000 * 1024));
    const batches = packBatches(big);
    expect(batches.map((b) => b.length)).toEqual([4, 4, 1]);
    for (const b of batches) expect(b.reduce((n, r) => n + r.length, 0)).toBeLessThanOrEqual(FIREHOSE_MAX_BYTES);
  });
});

describe('SqsDeadLetterQueue with fake clients', () => {
  const big = (): DeadLetter => deadLetter({ data_base64: Buffer.alloc(900 * 1024, 7).toString('base64'), reason: 'payload too large: 921600 bytes > 16384' });

  it('sends a small letter whole as the message body and writes nothing to S3', async () => {
    const sqs = fakeClient<SQSClient>(() => Promise.resolve({ MessageId: 'm1' }));
    const s3 = fakeClient<S3Client>(() => Promise.resolve({}));
    await new SqsDeadLetterQueue(sqs.client, s3.client, { queueUrl: 'q', bucket: 'lake' }).put(deadLetter());
    expect(s3.calls).toHaveLength(0);
    expect(JSON.parse(String((sqs.calls[0] as SendMessageCommand).input.MessageBody))).toEqual(deadLetter());
  });

  it('writes an oversized letter whole to S3 before it sends the pointer', async () => {
    const order: string[] = [];
    const sqs = fakeClient<SQSClient>(() => (order.push('sqs'), Promise.resolve({ MessageId: 'm1' })));
    const s3 = fakeClient<S3Client>(() => (order.push('s3'), Promise.resolve({})));
    const letter = big();
    await new SqsDeadLetterQueue(sqs.client, s3.client, { queueUrl: 'q', bucket: 'lake' }).put(letter);
    expect(order).toEqual(['s3', 'sqs']);
    const obj = (s3.calls[0] as PutObjectCommand).input;
    expect({ bucket: obj.Bucket, key: obj.Key }).toEqual({ bucket: 'lake', key: `dead-letters/dt=2024-03-01/${urlSafeId(letter.id)}.json` });
    expect(JSON.parse(obj.Body as string)).toEqual(letter);
    const body = JSON.parse(String((sqs.calls[0] as SendMessageCommand).input.MessageBody)) as Record<string, unknown>;
    expect(body).toEqual({ ...deadLetter(), data_base64: undefined, payload_s3: `s3://lake/${obj.Key}`, data_bytes: 900 * 1024, reason: letter.reason });
  });

  it('sends no pointer when the object could not be written (it would point at nothing)', async () => {
    const sqs = fakeClient<SQSClient>(() => Promise.resolve({ MessageId: 'm1' }));
    const s3 = fakeClient<S3Client>(() => Promise.reject(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' })));
    await expect(new SqsDeadLetterQueue(sqs.client, s3.client, { queueUrl: 'q', bucket: 'lake' }).put(big())).rejects.toBeInstanceOf(DeadLetterError);
    expect(sqs.calls).toHaveLength(0);
  });
});
