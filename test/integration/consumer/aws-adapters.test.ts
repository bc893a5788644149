/**
 * The AWS-mode adapters over real HTTP against moto's server (PyPI
 * moto[server], installed into .venv by scripts/setup-python.sh on first use;
 * startMoto() runs it, so a fresh clone needs only python3).
 *
 * What moto 5.2.5 plays and what it does not:
 * - SNS -> SQS subscriptions deliver, with message attributes (raw delivery).
 * - Firehose delivers synchronously to S3, one object per PutRecordBatch, the
 *   records concatenated as sent; it does no buffering, no Parquet
 *   conversion and no dynamic partitioning (a `!{partitionKeyFromQuery:dt}`
 *   prefix is written literally), so the test reads back the JSON rows.
 * - Athena accepts queries but executes nothing; results are whatever was
 *   queued at /moto-api/static/athena/query-results. The test checks the
 *   client side: the SQL sent, polling, header-row handling, typing.
 * - Neither DynamoDB UnprocessedItems nor Firehose per-entry failures can be
 *   provoked: those retries are covered with fake clients in
 *   test/unit/consumer/sdk-fakes.test.ts.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { AttributeValue, CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { CreateTableCommand, DynamoDBClient, GetItemCommand, QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { AthenaClient, GetQueryExecutionCommand, ListQueryExecutionsCommand } from '@aws-sdk/client-athena';
import { CreateDeliveryStreamCommand, FirehoseClient } from '@aws-sdk/client-firehose';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import type { Message } from '@aws-sdk/client-sqs';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { queryAthena } from '../../../lake/athena';
import { DynamoLatestSink, DynamoTicksSink } from '../../../consumer/sinks/dynamodb-ticks';
import { DynamoStateStore } from '../../../consumer/sinks/dynamodb-state';
import { FirehoseTickSink } from '../../../consumer/sinks/firehose';
import { toJsonRow } from '../../../consumer/sinks/rows';
import { SnsAlertPublisher } from '../../../consumer/sinks/sns-alerts';
import { SqsDeadLetterQueue } from '../../../consumer/sinks/sqs-dlq';
import type { MotoServer } from '../../../local/moto';
import { motoClientConfig, startMoto } from '../../../local/moto';
import { NAMED_QUERIES } from '../../../shared/queries';
import { classifyError } from '../../../shared/error-class';
import { ALERTS_BY_DAY, createTableInput } from '../../../shared/tables';
import { queueAthenaResult } from '../../helpers/moto-athena';
import { alert, deadLetter, knownInput, tick } from '../../unit/consumer/factories';

// The first run on a fresh clone installs moto into .venv (a minute or two).
jest.setTimeout(300_000);

let moto: MotoServer;
let cfg: ReturnType<typeof motoClientConfig>;
let ddb: DynamoDBClient;
let sqs: SQSClient;

beforeAll(async () => {
  moto = await startMoto();
  cfg = motoClientConfig(moto.endpoint);
  ddb = new DynamoDBClient(cfg);
  sqs = new SQSClient(cfg);
});

afterAll(async () => {
  ddb?.destroy();
  sqs?.destroy();
  await moto?.stop();
});

function table(name: string, pk: string, sk?: { name: string; type: 'N' | 'S' }): CreateTableCommandInput {
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: pk, AttributeType: 'S' }, ...(sk ? [{ AttributeName: sk.name, AttributeType: sk.type }] : [])],
    KeySchema: [{ AttributeName: pk, KeyType: 'HASH' }, ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' as const }] : [])],
  };
}

let tableSeq = 0;
async function newTable(kind: 'ticks' | 'latest' | 'state' | 'alerts'): Promise<string> {
  const name = `${kind}-${++tableSeq}`;
  const input =
    kind === 'ticks' ? table(name, 'symbol', { name: 'ts', type: 'N' }) : kind === 'alerts' ? createTableInput('alerts', name) : table(name, 'symbol');
  await ddb.send(new CreateTableCommand(input));
  return name;
}

async function newQueue(name: string): Promise<{ url: string; arn: string }> {
  const q = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const url = q.QueueUrl ?? '';
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  return { url, arn: attrs.Attributes?.QueueArn ?? '' };
}

/** Everything currently in the queue: receive until an empty poll. */
async function drain(url: string): Promise<Message[]> {
  const out: Message[] = [];
  for (;;) {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'], WaitTimeSeconds: 1 }));
    if (!r.Messages?.length) return out;
    out.push(...r.Messages);
  }
}

describe('SnsAlertPublisher against moto SNS -> SQS and DynamoDB', () => {
  it('delivers each alert once with symbol/type attributes, suppresses duplicates and cooldowns, also after a restart', async () => {
    const sns = new SNSClient(cfg);
    const topic = await sns.send(new CreateTopicCommand({ Name: 'alerts-topic' }));
    const topicArn = topic.TopicArn ?? '';
    const sub = await newQueue('alerts-sub');
    await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: sub.arn, Attributes: { RawMessageDelivery: 'true' } }));
    const alertsTableName = await newTable('alerts');
    const opts = { topicArn, alertsTableName, cooldownMs: 10 * 60_000 };
    const t0 = Date.UTC(2024, 2, 1, 15);
    const buy = alert({ ts: t0 });
    const anomaly = alert({ symbol: 'NVDA', type: 'ANOMALY', ts: t0 + 60_000, message: 'NVDA moved 7.2 % against the previous close.' });
    const sellTooSoon = alert({ type: 'SELL', ts: t0 + 5 * 60_000 });
    const sellLater = alert({ type: 'SELL', ts: t0 + 11 * 60_000, message: 'AAPL is in a Downtrend! Consider a sell opportunity.' });

    const first = new SnsAlertPublisher(ddb, sns, opts);
    expect(await first.publish(buy)).toBe('published');
    expect(await first.publish(buy)).toBe('duplicate');
    expect(await first.publish(anomaly)).toBe('published');
    expect(await first.publish(sellTooSoon)).toBe('cooldown');

    // A new process replays from an older checkpoint, then goes on.
    const second = new SnsAlertPublisher(ddb, sns, opts);
    expect(await second.publish(buy)).toBe('duplicate');
    expect(await second.publish(sellTooSoon)).toBe('cooldown');
    expect(await second.publish(sellLater)).toBe('published');

    const messages = await drain(sub.url);
    const got = messages
      .map((m) => ({ body: m.Body, symbol: m.MessageAttributes?.symbol?.StringValue, type: m.MessageAttributes?.type?.StringValue }))
      .sort((a, b) => String(a.body).localeCompare(String(b.body)));
    expect(got).toEqual(
      [buy, anomaly, sellLater].map((a) => ({ body: a.message, symbol: a.symbol, type: a.type })).sort((a, b) => a.body.localeCompare(b.body)),
    );
    expect(messages.every((m) => m.MessageAttributes?.symbol?.DataType === 'String' && m.MessageAttributes.type?.DataType === 'String')).toBe(true);

    const item = await ddb.send(new GetItemCommand({ TableName: alertsTableName, Key: { alert_id: { S: buy.id } } }));
    expect(item.Item?.status).toEqual({ S: 'PUBLISHED' });
    expect(item.Item?.message_id?.S).toMatch(/.+/);
    expect(item.Item?.day).toEqual({ S: '2024-03-01' });
    // the dashboard's index lists the three published alerts, not the suppressed one nor the cooldown items
    const listed = await ddb.send(new QueryCommand({ TableName: alertsTableName, IndexName: ALERTS_BY_DAY.name, KeyConditionExpression: '#day = :day', ExpressionAttributeNames: { '#day': 'day' }, ExpressionAttributeValues: { ':day': { S: '2024-03-01' } }, ScanIndexForward: false }));
    expect(listed.Items?.map((i) => i.alert_id?.S)).toEqual([sellLater.id, anomaly.id, buy.id]);
    const cooldown = await ddb.send(new GetItemCommand({ TableName: alertsTableName, Key: { alert_id: { S: 'cooldown#AAPL' } } }));
    expect(cooldown.Item?.last_ts).toEqual({ N: String(sellLater.ts) });
    sns.destroy();
  });
});

describe('SqsDeadLetterQueue against moto SQS and S3', () => {
  it('stores each dead letter as a JSON message with shard, kind and reason attributes; a 900 KB letter whole in S3 behind a pointer', async () => {
    const q = await newQueue('dlq');
    const s3 = new S3Client({ ...cfg, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: 'dlq-lake' }));
    const dlq = new SqsDeadLetterQueue(sqs, s3, { queueUrl: q.url, bucket: 'dlq-lake' });
    const small = deadLetter();
    const huge = deadLetter({ sequence_number: '2', data_base64: Buffer.alloc(900 * 1024, 1).toString('base64'), reason: 'payload too large: 921600 bytes > 16384' });
    await dlq.put(small);
    await dlq.put(huge);
    const messages = await drain(q.url);
    const bodies = messages.map((m) => JSON.parse(m.Body ?? '{}') as Record<string, unknown>).sort((a, b) => String(a.sequence_number).localeCompare(String(b.sequence_number)));
    expect(bodies[1]).toEqual(small);
    const { data_base64: _data, ...hugeWithoutData } = huge;
    const key = `dead-letters/dt=2024-03-01/${huge.shard_id}_2.json`;
    expect(bodies[0]).toEqual({ ...hugeWithoutData, payload_s3: `s3://dlq-lake/${key}`, data_bytes: 900 * 1024 });
    const obj = await s3.send(new GetObjectCommand({ Bucket: 'dlq-lake', Key: key }));
    expect(JSON.parse((await obj.Body?.transformToString('utf8')) ?? '')).toEqual(huge);
    expect(messages.map((m) => m.MessageAttributes?.shard_id?.StringValue)).toEqual([small.shard_id, small.shard_id]);
    expect(messages.map((m) => m.MessageAttributes?.kind?.StringValue)).toEqual(['record', 'record']);
    expect(messages.map((m) => m.MessageAttributes?.reason?.StringValue).sort()).toEqual([huge.reason, small.reason].sort());
    s3.destroy();
  });
});

describe('FirehoseTickSink against moto Firehose -> S3', () => {
  it('delivers every row as one JSON line in the Glue schema with dt', async () => {
    const s3 = new S3Client({ ...cfg, forcePathStyle: true });
    const firehose = new FirehoseClient(cfg);
    await s3.send(new CreateBucketCommand({ Bucket: 'lake' }));
    await firehose.send(
      new CreateDeliveryStreamCommand({
        DeliveryStreamName: 'ticks-stream',
        DeliveryStreamType: 'DirectPut',
        ExtendedS3DestinationConfiguration: {
          BucketARN: 'arn:aws:s3:::lake',
          RoleARN: 'arn:aws:iam::123456789012:role/firehose',
          Prefix: 'ticks/',
          ErrorOutputPrefix: 'errors/',
          BufferingHints: { SizeInMBs: 64, IntervalInSeconds: 60 },
        },
      }),
    );
    const rows = knownInput({ perSymbol: 240 }); // 1,200 rows: three PutRecordBatch calls
    await new FirehoseTickSink(firehose, { deliveryStreamName: 'ticks-stream' }).write(rows);

    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'lake', Prefix: 'ticks/' }));
    const keys = (listed.Contents ?? []).map((c) => c.Key ?? '');
    expect(keys).toHaveLength(3);
    const lines: string[] = [];
    for (const key of keys) {
      const obj = await s3.send(new GetObjectCommand({ Bucket: 'lake', Key: key }));
      lines.push(...(await obj.Body?.transformToString('utf8'))!.split('\n').filter((l) => l !== ''));
    }
    const delivered = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const bySymbolTs = (a: Record<string, unknown>, b: Record<string, unknown>): number =>
      Number(a.ts) - Number(b.ts) || String(a.symbol).localeCompare(String(b.symbol));
    expect(delivered.sort(bySymbolTs)).toEqual(rows.map(toJsonRow).sort(bySymbolTs));
    s3.destroy();
    firehose.destroy();
  });
});

describe('DynamoDB sinks against moto DynamoDB', () => {
  async function scanAll(tableName: string): Promise<Record<string, AttributeValue>[]> {
    const out: Record<string, AttributeValue>[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await ddb.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start }));
      out.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    const key = (i: Record<string, AttributeValue>): string => `${i.symbol?.S}|${i.ts?.N?.padStart(16, '0')}`;
    return out.sort((a, b) => key(a).localeCompare(key(b)));
  }

  it('ticks: writes every row with TTL, and a replay of the same rows leaves the table identical', async () => {
    const tableName = await newTable('ticks');
    const sink = new DynamoTicksSink(ddb, { tableName, ttlDays: 3 });
    const rows = knownInput({ perSymbol: 61 }); // 305 rows: 13 BatchWriteItem calls
    await sink.write(rows);
    const once = await scanAll(tableName);
    expect(once).toHaveLength(rows.length);
    await sink.write(rows.slice(100, 200));
    await sink.write(rows);
    expect(await scanAll(tableName)).toEqual(once);
    const t = rows[7];
    const got = await ddb.send(new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: 'symbol = :s AND #ts = :ts',
      ExpressionAttributeNames: { '#ts': 'ts' },
      ExpressionAttributeValues: { ':s': { S: t?.symbol ?? '' }, ':ts': { N: String(t?.ts) } },
    }));
    expect(got.Items?.[0]).toEqual(sink.itemOf(t ?? tick()));
    expect(got.Items?.[0]?.expires_at).toEqual({ N: String(Math.floor((t?.produced_at ?? 0) / 1000) + 3 * 86_400) });
  });

  it('latest: keeps the newest tick and the last signal, and never goes back in time', async () => {
    const tableName = await newTable('latest');
    const sink = new DynamoLatestSink(ddb, { tableName });
    const t0 = Date.UTC(2024, 2, 1, 15);
    const get = async (symbol: string): Promise<Record<string, AttributeValue> | undefined> =>
      (await ddb.send(new GetItemCommand({ TableName: tableName, Key: { symbol: { S: symbol } }, ConsistentRead: true }))).Item;

    await sink.write([tick({ ts: t0, signal: 'BUY', price: 100 }), tick({ ts: t0 + 1000, price: 101, sma20: 100.5 }), tick({ symbol: 'MSFT', ts: t0 })]);
    let aapl = await get('AAPL');
    expect(aapl?.ts).toEqual({ N: String(t0 + 1000) });
    expect(aapl?.price).toEqual({ N: '101' });
    expect(aapl?.signal).toBeUndefined();
    expect(aapl?.last_signal).toEqual({ S: 'BUY' });
    expect(aapl?.last_signal_ts).toEqual({ N: String(t0) });
    expect(aapl?.dt).toEqual({ S: '2024-03-01' });

    // An older batch (a replay, a late zombie) changes nothing.
    await sink.write([tick({ ts: t0 + 500, signal: 'SELL', price: 50 })]);
    expect(sink.lastStats).toEqual({ updated: 0, skipped: 1 });
    expect(await get('AAPL')).toEqual(aapl);
    // The same tick again: also a no-op.
    await sink.write([tick({ ts: t0 + 1000, price: 101, sma20: 100.5 })]);
    expect(await get('AAPL')).toEqual(aapl);

    await sink.write([tick({ ts: t0 + 2000, price: 99, signal: 'SELL', sma20: null })]);
    aapl = await get('AAPL');
    expect(aapl?.ts).toEqual({ N: String(t0 + 2000) });
    expect(aapl?.signal).toEqual({ S: 'SELL' });
    expect(aapl?.last_signal).toEqual({ S: 'SELL' });
    expect(aapl?.sma20).toBeUndefined();
    expect((await get('MSFT'))?.ts).toEqual({ N: String(t0) });
  });

  it('state: stores and loads snapshots (more than one BatchGetItem), and refuses to roll a symbol back', async () => {
    const tableName = await newTable('state');
    const store = new DynamoStateStore(ddb, { tableName });
    const symbols = Array.from({ length: 150 }, (_, i) => `S${i}`);
    expect(await store.putMany(symbols.map((s, i) => ({ symbol: s, last_ts: 1000 + i, state: { v: 1, sma: [1.5, i], s } })))).toEqual({ stale: [] });
    const got = await store.get([...symbols, 'MISSING']);
    expect(got.size).toBe(150);
    expect(got.get('S149')).toEqual({ symbol: 'S149', last_ts: 1149, state: { v: 1, sma: [1.5, 149], s: 'S149' } });
    expect(got.has('MISSING')).toBe(false);

    expect(await store.putMany([{ symbol: 'S0', last_ts: 999, state: { old: true } }, { symbol: 'S1', last_ts: 1001, state: { same: true } }])).toEqual({
      stale: ['S0'],
    });
    const after = await store.get(['S0', 'S1']);
    expect(after.get('S0')?.state).toEqual({ v: 1, sma: [1.5, 0], s: 'S0' });
    expect(after.get('S1')?.state).toEqual({ same: true });
  });
});

describe('queryAthena against moto Athena', () => {
  it('sends the named query for the Glue table, waits for it and types the results', async () => {
    const athena = new AthenaClient(cfg);
    const queued = await queueAthenaResult(
      moto.endpoint,
      [
        ['symbol', 'varchar'],
        ['hour_start', 'timestamp'],
        ['total_volume', 'double'],
        ['ticks', 'bigint'],
      ],
      [
        ['AAPL', '2024-03-01 21:00:00.000', '12345.0', '60'],
        ['BRK.B', null, '7.5', '1'],
      ],
    );
    expect(queued).toBe(201);
    const res = await queryAthena(athena, { database: 'tickstream', workgroup: 'primary', outputLocation: 's3://lake/athena/', pollMs: 50 }, NAMED_QUERIES['volume-by-hour'].sql);
    expect(res).toEqual({
      columns: ['symbol', 'hour_start', 'total_volume', 'ticks'],
      rows: [
        ['AAPL', '2024-03-01T21:00:00.000Z', 12345, 60],
        ['BRK.B', null, 7.5, 1],
      ],
    });
    const ids = (await athena.send(new ListQueryExecutionsCommand({}))).QueryExecutionIds ?? [];
    const sent = await Promise.all(ids.map(async (id) => (await athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }))).QueryExecution));
    const q = sent.find((e) => e?.Query?.includes('"tickstream"."ticks"'));
    expect(q?.Query).toBe(NAMED_QUERIES['volume-by-hour'].sql.replace('{{table}}', '(SELECT DISTINCT * FROM "tickstream"."ticks") ticks'));
    expect(q?.QueryExecutionContext?.Database).toBe('tickstream');
    expect(q?.WorkGroup).toBe('primary');
    // Athena reports the result file's own location under the configured prefix.
    expect(q?.ResultConfiguration?.OutputLocation).toMatch(/^s3:\/\/lake\/athena\/[^/]+\.csv$/);
    athena.destroy();
  });
});

describe('error classes of what moto answers, as the adapters pass them on', () => {
  const classOf = async (p: Promise<unknown>): Promise<{ class: string; code: string }> => {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    const c = classifyError(err);
    return { class: c.class, code: c.code };
  };

  it('a table, topic, queue or bucket that does not exist is a configuration error', async () => {
    const sns = new SNSClient(cfg);
    const s3 = new S3Client({ ...cfg, forcePathStyle: true });
    const missingTopic = 'arn:aws:sns:us-east-1:123456789012:no-such-topic';
    const alerts = await newTable('alerts');
    expect(await classOf(new DynamoTicksSink(ddb, { tableName: 'no-such-table', ttlDays: 7 }).write([tick()]))).toEqual({ class: 'config', code: 'ResourceNotFoundException' });
    expect(await classOf(new SnsAlertPublisher(ddb, sns, { topicArn: missingTopic, alertsTableName: alerts, cooldownMs: 0 }).publish(alert()))).toMatchObject({ class: 'config' });
    expect(await classOf(new SqsDeadLetterQueue(sqs, s3, { queueUrl: `${moto.endpoint}/123456789012/no-such-queue`, bucket: 'x' }).put(deadLetter()))).toMatchObject({ class: 'config' });
    sns.destroy();
    s3.destroy();
  });

  it('a number DynamoDB cannot store is an item error', async () => {
    const name = await newTable('ticks');
    expect(await classOf(new DynamoTicksSink(ddb, { tableName: name, ttlDays: 7 }).write([{ ...tick(), sma5: 1e130 }]))).toEqual({ class: 'item', code: 'ValidationException' });
  });
});

describe('local/moto.ts lifecycle', () => {
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const waitGone = async (pid: number): Promise<boolean> => {
    for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
    return !alive(pid);
  };

  it('stop() ends the server', async () => {
    const m = await startMoto();
    expect(m.pid).toBeGreaterThan(0);
    await m.stop();
    expect(await waitGone(m.pid ?? 0)).toBe(true);
    await m.stop(); // twice is fine
  });

  it.each(['exit', 'SIGKILL'])('the server dies with its parent when the parent ends without stop() (%s)', async (how) => {
    const child = path.resolve(__dirname, '..', '..', 'unit', 'consumer', 'helpers', 'moto-child.ts');
    const res = await promisify(execFile)(process.execPath, ['--import', 'tsx', child, how], { env: { PATH: process.env.PATH } }).catch(
      (e: unknown) => e as { stdout: string; code: number | null; signal: string | null },
    );
    const { stdout } = res as { stdout: string };
    const pid = Number(stdout.trim());
    expect(pid).toBeGreaterThan(0);
    expect(await waitGone(pid)).toBe(true);
  });
});
