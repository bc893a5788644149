/**
 * The dashboard's AWS source against moto (DynamoDB, SQS, SNS, Athena on
 * 127.0.0.1), with the tables the stack defines (shared/tables.ts) and items
 * written by the consumer's own sinks and alert publisher, through the
 * server's routes.
 * moto's Athena runs no SQL: a result is queued for it, and the request the
 * source sent (through lake/athena.ts) is read back.
 */
import { AthenaClient, GetQueryExecutionCommand, ListQueryExecutionsCommand } from '@aws-sdk/client-athena';
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import http from 'node:http';
import { AwsSource } from '../../../dashboard/aws-source';
import { startDashboard, type Dashboard } from '../../../dashboard/server';
import { NO_INTEREST, type Interest, type SourceUpdate } from '../../../dashboard/source';
import type { AlertItem, ChartColumns, LiveEvent, MarketRow, PipelineView } from '../../../dashboard/wire';
import { freshLeaseItem } from '../../../consumer/kcl/lease-items';
import { DynamoLatestSink, DynamoTicksSink } from '../../../consumer/sinks/dynamodb-ticks';
import { SnsAlertPublisher } from '../../../consumer/sinks/sns-alerts';
import type { Alert } from '../../../consumer/ports';
import { motoClientConfig, startMoto, type MotoServer } from '../../../local/moto';
import { createTableInput, kclTableInputs } from '../../../shared/tables';
import { getJson, onServerEvents } from '../../helpers/dashboard';
import { queueAthenaResult } from '../../helpers/moto-athena';
import { waitFor } from '../../helpers/wait';
import { alert, tick } from '../../unit/consumer/factories';

// The first run on a fresh clone installs moto into .venv (a minute or two).
jest.setTimeout(300_000);

const T0 = Date.UTC(2024, 2, 1, 15, 0, 0);
const APP = 'tick-stream';
/** The alerts page reads back from today, so its alerts are of the last hour (and two days ago). */
const NOW = Date.now();
const MIN = 60_000;
/** What the consumer publishes, through SnsAlertPublisher (60 s cooldown per symbol), before the source starts: newest last. */
const PUBLISHED: Alert[] = [
  alert({ symbol: 'GOOG', type: 'ANOMALY', ts: NOW - 2 * 86_400_000, message: 'GOOG moved 6.1 % against the previous close.' }),
  alert({ symbol: 'AAPL', type: 'BUY', ts: NOW - 50 * MIN }),
  alert({ symbol: 'MSFT', type: 'SELL', ts: NOW - 40 * MIN, message: 'MSFT is in a Downtrend! Consider a sell opportunity.' }),
  alert({ symbol: 'NVDA', type: 'VOLUME_SPIKE', ts: NOW - 30 * MIN, message: 'NVDA volume is 4.2x its average.' }),
  alert({ symbol: 'AAPL', type: 'SELL', ts: NOW - 20 * MIN, message: 'AAPL is in a Downtrend! Consider a sell opportunity.' }),
];
/** In AAPL's cooldown (10 s after its SELL): never published, never listed. */
const SUPPRESSED = alert({ symbol: 'AAPL', type: 'ANOMALY', ts: NOW - 20 * MIN + 10_000, message: 'AAPL moved 5.5 % against the previous close.' });
/** Claimed, then SNS refused it (no such topic): a PENDING claim, as a crash between claim and delivery leaves. */
const UNDELIVERED = alert({ symbol: 'TSLA', type: 'BUY', ts: NOW - 10 * MIN, message: 'TSLA is in an Uptrend! Consider a buy opportunity.' });
const itemOf = (a: Alert): AlertItem => ({ id: a.id, symbol: a.symbol, type: a.type, ts: a.ts, price: a.price, message: a.message });

let moto: MotoServer;
let cfg: ReturnType<typeof motoClientConfig>;
let ddb: DynamoDBClient;
let sqs: SQSClient;
let athena: AthenaClient;
let sns: SNSClient;
let publisher: SnsAlertPublisher;
let queueUrl: string;
const liveAlerts: AlertItem[] = [];
const logged: string[] = [];
let source: AwsSource;
let dash: Dashboard;

/**
 * A thin wrapper around a client's send that notes each call (command and
 * table or queue) before the emulator answers it: how the tests see which
 * reads the source makes, and that it makes none.
 */
function countCalls<C extends DynamoDBClient | SQSClient>(client: C, calls: string[]): C {
  const send = client.send.bind(client) as (...args: unknown[]) => Promise<unknown>;
  Object.assign(client, {
    send: (...args: unknown[]): Promise<unknown> => {
      const cmd = args[0] as { constructor: { name: string }; input: { TableName?: string; QueueUrl?: string; RequestItems?: Record<string, unknown> } };
      const target = cmd.input.TableName ?? cmd.input.QueueUrl ?? Object.keys(cmd.input.RequestItems ?? {}).join(',');
      calls.push(`${cmd.constructor.name.replace(/Command$/, '')} ${target}`);
      return send(...args);
    },
  });
  return client;
}

/** The first event of a live stream (its snapshot). */
function firstEvent(url: string): Promise<LiveEvent> {
  return new Promise((resolve) => {
    const req = onServerEvents(url, (data) => {
      req.destroy();
      resolve(JSON.parse(data) as LiveEvent);
    });
  });
}

const only = (i: Partial<Interest>): Interest => ({ ...NO_INTEREST, ...i });

function status(url: string): Promise<number> {
  return new Promise((resolve, reject) => http.get(url, (res) => (res.resume(), resolve(res.statusCode ?? 0))).on('error', reject));
}

beforeAll(async () => {
  moto = await startMoto();
  cfg = motoClientConfig(moto.endpoint);
  ddb = new DynamoDBClient(cfg);
  sqs = new SQSClient(cfg);
  athena = new AthenaClient(cfg);
  sns = new SNSClient(cfg);
  for (const input of [createTableInput('latest', 'T-latest'), createTableInput('ticks', 'T-ticks'), createTableInput('alerts', 'T-alerts'), ...kclTableInputs(APP)]) await ddb.send(new CreateTableCommand(input));
  // the alerts as the consumer's SNS publisher leaves them in the ledger: published ones, a suppressed one, cooldown items and a PENDING claim
  const topicArn = (await sns.send(new CreateTopicCommand({ Name: 'T-alerts' }))).TopicArn ?? '';
  publisher = new SnsAlertPublisher(ddb, sns, { topicArn, alertsTableName: 'T-alerts', cooldownMs: MIN });
  for (const a of PUBLISHED) if ((await publisher.publish(a)) !== 'published') throw new Error(`${a.id} was not published`);
  if ((await publisher.publish(SUPPRESSED)) !== 'cooldown') throw new Error('the suppressed alert was published');
  const noTopic = new SnsAlertPublisher(ddb, sns, { topicArn: `${topicArn}-gone`, alertsTableName: 'T-alerts', cooldownMs: MIN });
  if (!(await noTopic.publish(UNDELIVERED).then(() => false, () => true))) throw new Error('the alert to a missing topic was delivered');
  // the consumer's own writers: three ticks of AAPL (the middle one a BUY), one of MSFT
  const rows = [tick({ ts: T0, price: 100 }), tick({ ts: T0 + 1000, price: 101, signal: 'BUY' }), tick({ ts: T0 + 2000, price: 102 }), tick({ symbol: 'MSFT', ts: T0 + 500, price: 400 })];
  await new DynamoTicksSink(ddb, { tableName: 'T-ticks', ttlDays: 7 }).write(rows);
  await new DynamoLatestSink(ddb, { tableName: 'T-latest' }).write(rows);
  // two leases as the KCL keeps them, one owned
  await ddb.send(new PutItemCommand({ TableName: APP, Item: { ...freshLeaseItem({ shardId: 'shardId-000000000000', startingHashKey: '0', endingHashKey: '1' }), leaseOwner: { S: 'worker-a' }, checkpoint: { S: '4960' } } }));
  await ddb.send(new PutItemCommand({ TableName: APP, Item: freshLeaseItem({ shardId: 'shardId-000000000001', startingHashKey: '2', endingHashKey: '3' }) }));
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'T-dlq' }))).QueueUrl ?? '';
  for (const body of ['a', 'b']) await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
  // the lake's older point, as Athena would return it (the header row first)
  const queued = await queueAthenaResult(
    moto.endpoint,
    ['ts:timestamp', 'price:double', 'volume:double', 'sma5:double', 'sma20:double', 'bb_upper:double', 'bb_lower:double', 'rsi14:double', 'signal:varchar', 'anomaly:boolean'].map((c) => c.split(':') as [string, string]),
    [['2024-03-01 14:00:00.000', '95.5', '10', null, null, null, null, null, 'SELL', 'false']],
  );
  if (queued !== 201) throw new Error(`moto refused the Athena result: ${queued}`);
  source = new AwsSource({
    names: { latestTable: 'T-latest', ticksTable: 'T-ticks', alertsTable: 'T-alerts', leaseTable: APP, deadLetterQueueUrl: queueUrl, athena: { database: 'tick_stream', workgroup: 'primary', outputLocation: 's3://results/r/' } },
    dynamo: ddb,
    sqs,
    athena,
    where: 'moto',
    log: (l) => logged.push(l),
    intervalsMs: { latest: 200, leases: 200, dlq: 200, alerts: 200 },
    alertsLimit: 3,
  });
  source.subscribe((u: SourceUpdate) => liveAlerts.push(...u.alerts));
  source.start();
  dash = await startDashboard({ source, host: '127.0.0.1', port: 0, staticDir: '/nonexistent' });
});

afterAll(async () => {
  await dash?.close();
  await source?.close();
  for (const c of [ddb, sqs, athena, sns]) c?.destroy();
  await moto?.stop();
});

describe('dashboard AWS source against moto', () => {
  it("shows every symbol's latest row, with its last signal", async () => {
    const market = await waitFor('both symbols', async () => {
      const m = (await getJson(`${dash.url}api/market`)) as MarketRow[];
      return m.length === 2 ? m : undefined;
    }, 30_000);
    const aapl = market.find((r) => r.symbol === 'AAPL');
    expect({ ts: aapl?.ts, price: aapl?.price, last_signal: aapl?.last_signal, last_signal_ts: aapl?.last_signal_ts }).toEqual({ ts: T0 + 2000, price: 102, last_signal: 'BUY', last_signal_ts: T0 + 1000 });
  });

  it("charts a symbol from the lake (Athena) and the ticks table, in order, and 404s one it has never seen", async () => {
    const h = (await getJson(`${dash.url}api/symbol/AAPL`)) as ChartColumns;
    expect({ ts: h.ts, price: h.price, signals: h.signals }).toEqual({
      ts: [Date.UTC(2024, 2, 1, 14, 0, 0), T0, T0 + 1000, T0 + 2000],
      price: [95.5, 100, 101, 102],
      signals: [
        [0, 'SELL'],
        [2, 'BUY'],
      ],
    });
    // the Athena request went through lake/athena.ts: the deduplicated Glue table, the symbol quoted
    const ids = (await athena.send(new ListQueryExecutionsCommand({}))).QueryExecutionIds ?? [];
    const sent = await Promise.all(ids.map(async (id) => (await athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }))).QueryExecution));
    expect(sent.map((q) => [q?.Query, q?.QueryExecutionContext?.Database, q?.WorkGroup])).toEqual([
      [
        `SELECT ts, price, volume, sma5, sma20, bb_upper, bb_lower, rsi14, signal, anomaly FROM (SELECT DISTINCT * FROM "tick_stream"."ticks") ticks WHERE symbol = 'AAPL' ORDER BY ts DESC LIMIT 20000`,
        'tick_stream',
        'primary',
      ],
    ]);
    expect(await status(`${dash.url}symbol/NOPE`)).toBe(404);
  });

  it("shows each shard's lease owner and checkpoint, and the DLQ's depth without receiving from it", async () => {
    const view = await waitFor('the leases and the DLQ depth', async () => {
      const v = (await getJson(`${dash.url}api/pipeline`)) as PipelineView;
      return v.shards.length === 2 && v.deadLetters === 2 ? v : undefined;
    }, 30_000);
    expect(view.shards.map((s) => [s.shardId, s.owner, s.checkpoint])).toEqual([
      ['shardId-000000000000', 'worker-a', '4960'],
      ['shardId-000000000001', null, 'TRIM_HORIZON'],
    ]);
    expect(view.mode).toBe('aws');
    // still there, all visible: nothing received them
    const attrs = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }))).Attributes;
    expect(attrs).toEqual({ ApproximateNumberOfMessages: '2', ApproximateNumberOfMessagesNotVisible: '0' });
  });

  it('lists the newest published alerts first, at most the limit, with the SNS text; no cooldown item, suppressed alert or PENDING claim', async () => {
    const listed = await waitFor('the first alerts read', async () => {
      const a = (await getJson(`${dash.url}api/alerts`)) as AlertItem[];
      return a.length > 0 ? a : undefined;
    }, 30_000);
    // the limit is 3: the three newest of the five published, newest first
    expect(listed).toEqual(PUBLISHED.slice(-3).reverse().map(itemOf));
  });

  it('with room under the limit, goes back to earlier days', async () => {
    const wide = new AwsSource({ names: { latestTable: 'T-latest', leaseTable: APP, deadLetterQueueUrl: queueUrl, alertsTable: 'T-alerts' }, dynamo: ddb, sqs, where: 'moto', intervalsMs: { alerts: 200 }, alertsLimit: 10 }).start();
    try {
      const all = await waitFor('the alerts of the last days', async () => {
        const a = await wide.alerts();
        return a.length > 0 ? a : undefined;
      }, 30_000);
      expect(all).toEqual([...PUBLISHED].reverse().map(itemOf));
    } finally {
      await wide.close();
    }
  });

  it('a new published alert reaches the subscribers within a few polls while an alerts page is open, and tops the list', async () => {
    // an alerts page: its stream tells the source to poll the index
    const page = onServerEvents(`${dash.url}events?topics=alerts`, () => undefined);
    await waitFor('the first alerts read', async () => ((await source.alerts()).length > 0 ? true : undefined), 30_000);
    const fresh = alert({ symbol: 'MSFT', type: 'BUY', ts: Date.now(), message: 'MSFT is in an Uptrend! Consider a buy opportunity.' });
    expect(await publisher.publish(fresh)).toBe('published');
    // the poll runs every 200 ms here: ten polls at most, and each alert is sent once
    const arrived = await waitFor('the new alert on the subscription', () => Promise.resolve(liveAlerts.some((a) => a.id === fresh.id) ? true : undefined), 2000, 50);
    expect(arrived).toBe(true);
    expect(liveAlerts.filter((a) => a.id === fresh.id)).toEqual([itemOf(fresh)]);
    expect(((await getJson(`${dash.url}api/alerts`)) as AlertItem[]).map((a) => a.id)).toEqual([fresh.id, PUBLISHED[4]!.id, PUBLISHED[3]!.id]);
    expect(liveAlerts.map((a) => a.id)).not.toContain(UNDELIVERED.id);
    page.destroy();
  });

  it('shows an AWS error on the pipeline page and in the log, and keeps serving', async () => {
    const broken = new AwsSource({
      names: { latestTable: 'no-such-table', leaseTable: 'no-such-leases', deadLetterQueueUrl: `${queueUrl}-gone` },
      dynamo: ddb,
      sqs,
      where: 'moto',
      log: (l) => logged.push(l),
      intervalsMs: { latest: 100, leases: 100, dlq: 100 },
    }).start();
    const d = await startDashboard({ source: broken, host: '127.0.0.1', port: 0, staticDir: '/nonexistent' });
    // a page of each kind open, so each poll runs (and fails)
    const page = onServerEvents(`${d.url}events?topics=market,alerts,pipeline`, () => undefined);
    try {
      const view = await waitFor('three errors', async () => {
        const v = (await getJson(`${d.url}api/pipeline`)) as PipelineView;
        return v.errors >= 3 ? v : undefined;
      }, 30_000);
      expect(view.recentErrors.map((e) => e.code)).toEqual(expect.arrayContaining(['ResourceNotFoundException']));
      expect(view.recentErrors.some((e) => e.what.startsWith('latest poll: '))).toBe(true);
      expect(logged.some((l) => l.startsWith('tickstream dashboard: latest poll failed: '))).toBe(true);
      expect(await status(`${d.url}market`)).toBe(200);
      expect(await getJson(`${d.url}api/market`)).toEqual([]);
    } finally {
      page.destroy();
      await d.close();
      await broken.close();
    }
  });
});

describe('dashboard AWS source reads only what the open pages show', () => {
  const names = (): ConstructorParameters<typeof AwsSource>[0]['names'] => ({ latestTable: 'T-latest', ticksTable: 'T-ticks', alertsTable: 'T-alerts', leaseTable: APP, deadLetterQueueUrl: queueUrl });
  const fast = { latest: 100, leases: 100, dlq: 100, alerts: 100 };
  /** A source on clients of its own whose calls are counted. */
  const sources: AwsSource[] = [];
  const clients: (DynamoDBClient | SQSClient)[] = [];
  function counted(calls: string[], o: { alertsLimit?: number; latestScanCap?: number } = {}): AwsSource {
    const dynamo = countCalls(new DynamoDBClient(cfg), calls);
    const queue = countCalls(new SQSClient(cfg), calls);
    clients.push(dynamo, queue);
    return new AwsSource({ names: names(), dynamo, sqs: queue, where: 'moto', intervalsMs: fast, ...o }).start();
  }
  afterEach(async () => {
    await Promise.all(sources.splice(0).map((s) => s.close()));
    for (const c of clients.splice(0)) c.destroy();
  });

  it('with no page open, makes no AWS call at all while a source with a market page open polls ten times', async () => {
    const idleCalls: string[] = [];
    const busyCalls: string[] = [];
    const idle = counted(idleCalls);
    const busy = counted(busyCalls);
    sources.push(idle, busy);
    idle.watch(NO_INTEREST);
    busy.watch(only({ market: true }));
    await waitFor('ten Scans of latest by the busy source', () => Promise.resolve(busyCalls.filter((c) => c === 'Scan T-latest').length >= 10 ? true : undefined), 30_000, 20);
    expect(idleCalls).toEqual([]);
  });

  it("with only a symbol page open, reads that symbol's row by key (no Scan), and its new row arrives live", async () => {
    const calls: string[] = [];
    const rows: SourceUpdate['rows'] = [];
    const src = counted(calls);
    sources.push(src);
    src.subscribe((u) => rows.push(...u.rows));
    src.watch(only({ symbols: ['AAPL'] }));
    await waitFor("AAPL's row", () => Promise.resolve(rows.some((r) => r.row.symbol === 'AAPL') ? true : undefined), 30_000, 20);
    await new DynamoLatestSink(ddb, { tableName: 'T-latest' }).write([tick({ ts: T0 + 3000, price: 103 })]);
    const live = await waitFor("AAPL's new row", () => Promise.resolve(rows.find((r) => r.row.symbol === 'AAPL' && r.row.ts === T0 + 3000)), 30_000, 20);
    expect({ price: live.row.price, point: [live.point.ts, live.point.price] }).toEqual({ price: 103, point: [T0 + 3000, 103] });
    expect(rows.map((r) => r.row.symbol)).not.toContain('MSFT');
    expect(new Set(calls)).toEqual(new Set(['BatchGetItem T-latest']));
  });

  it('without a ticks table or the lake, a symbol page opened with no market page knows its symbol by its row, read by key', async () => {
    const calls: string[] = [];
    const dynamo = countCalls(new DynamoDBClient(cfg), calls);
    clients.push(dynamo);
    const src = new AwsSource({ names: { latestTable: 'T-latest', leaseTable: APP, deadLetterQueueUrl: queueUrl }, dynamo, sqs, where: 'moto' }).start();
    sources.push(src);
    expect(await src.history('MSFT')).toEqual({ symbol: 'MSFT', points: [] });
    expect(await src.history('NOPE')).toBeUndefined();
    expect(calls).toEqual(['BatchGetItem T-latest', 'BatchGetItem T-latest']);
  });

  it('a symbol page beside a market page gets its row by key when the Scan stops at its cap before that symbol', async () => {
    const calls: string[] = [];
    const rows: SourceUpdate['rows'] = [];
    // a cap of one row: the Scan reads AAPL or MSFT (hash order), never both
    const src = counted(calls, { latestScanCap: 1 });
    sources.push(src);
    src.subscribe((u) => rows.push(...u.rows));
    src.watch(only({ market: true, symbols: ['AAPL', 'MSFT'] }));
    await waitFor('both followed rows', () => Promise.resolve(['AAPL', 'MSFT'].every((s) => rows.some((r) => r.row.symbol === s)) ? true : undefined), 30_000, 20);
    expect(calls.slice(0, 2)).toEqual(['Scan T-latest', 'BatchGetItem T-latest']);
  });

  it("a market page's first snapshot comes from a Scan its opening started, not from an empty map", async () => {
    const calls: string[] = [];
    const src = counted(calls);
    sources.push(src);
    const d = await startDashboard({ source: src, host: '127.0.0.1', port: 0, staticDir: '/nonexistent' });
    try {
      // nothing read before the page opens: the snapshot's rows come from the read its opening started
      expect(calls).toEqual([]);
      const first = await firstEvent(`${d.url}events?topics=market`);
      expect(first.market?.map((r) => r.symbol).sort()).toEqual(['AAPL', 'MSFT']);
      expect(calls[0]).toBe('Scan T-latest');
    } finally {
      await d.close();
    }
  });

  it('a pipeline page starts the lease table and DLQ reads, and they stop when it closes', async () => {
    const calls: string[] = [];
    const src = counted(calls);
    sources.push(src);
    src.watch(only({ pipeline: true }));
    const view = await waitFor('two polls of each', async () => {
      const n = (c: string): number => calls.filter((x) => x === c).length;
      return n(`Scan ${APP}`) >= 2 && n(`GetQueueAttributes ${queueUrl}`) >= 2 ? src.pipeline() : undefined;
    }, 30_000, 20);
    expect({ shards: view.shards.length, deadLetters: view.deadLetters }).toEqual({ shards: 2, deadLetters: 2 });
    expect(calls.filter((c) => !c.startsWith(`Scan ${APP}`) && !c.startsWith('GetQueueAttributes'))).toEqual([]);
    src.watch(NO_INTEREST);
    // at most the reads under way end; then a second source with the page open polls ten times while this one stays silent
    const settled = calls.length + 2;
    const control: string[] = [];
    const busy = counted(control);
    sources.push(busy);
    busy.watch(only({ pipeline: true }));
    await waitFor('ten lease Scans by the control source', () => Promise.resolve(control.filter((c) => c === `Scan ${APP}`).length >= 10 ? true : undefined), 30_000, 20);
    expect(calls.length).toBeLessThanOrEqual(settled);
  });

  it('an alerts page opened again after a pause lists what was published meanwhile, each alert once', async () => {
    const calls: string[] = [];
    const live: AlertItem[] = [];
    const src = counted(calls, { alertsLimit: 20 });
    sources.push(src);
    src.subscribe((u) => live.push(...u.alerts));
    src.watch(only({ alerts: true }));
    await waitFor('the first alerts read', async () => ((await src.alerts()).length > 0 ? true : undefined), 30_000, 20);
    src.watch(NO_INTEREST);
    const paused = calls.length;
    const meanwhile = [alert({ symbol: 'AMZN', type: 'BUY', ts: Date.now() - 1000 }), alert({ symbol: 'META', type: 'SELL', ts: Date.now(), message: 'META is in a Downtrend! Consider a sell opportunity.' })];
    for (const a of meanwhile) expect(await publisher.publish(a)).toBe('published');
    // paused: at most the read under way when the page closed
    expect(calls.length).toBeLessThanOrEqual(paused + 1);
    src.watch(only({ alerts: true }));
    await waitFor('both on the subscription', () => Promise.resolve(meanwhile.every((a) => live.some((l) => l.id === a.id)) ? true : undefined), 30_000, 20);
    const listed = (await src.alerts()).map((a) => a.id);
    expect(listed.slice(0, 2)).toEqual([meanwhile[1]!.id, meanwhile[0]!.id]);
    expect(new Set(listed).size).toBe(listed.length);
    expect(new Set(live.map((a) => a.id)).size).toBe(live.length);
  });
});
