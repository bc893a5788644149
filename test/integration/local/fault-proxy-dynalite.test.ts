import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBServiceException,
  GetItemCommand,
  PutItemCommand,
  ResourceNotFoundException,
  type DynamoDBClient,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { startDynalite, type Emulator } from '../../../local/emulators';
import { dynamoError, startFaultProxy, type FaultProxy } from '../../../local/fault-proxy';
import { LOCAL_REGION } from '../../../local/stack';
import { dynamoClient } from '../../../shared/aws';
import { createTableInput } from '../../../shared/tables';
import { tmpDir } from '../../helpers/wait';

const TABLE = 'proxy-ticks';
const BATCH_WRITE = 'DynamoDB_20120810.BatchWriteItem';

/**
 * The proxy in front of the real emulator: the SDK's traffic goes through it
 * untouched (table creation, writes, reads, the emulator's own errors), and
 * an injected error replaces exactly the calls its rule picks. Only dynalite
 * is started; Kinesis plays no part.
 */
describe('FaultProxy in front of dynalite', () => {
  let dynalite: Emulator;
  let proxy: FaultProxy;
  let viaProxy: DynamoDBClient;
  let direct: DynamoDBClient;

  beforeAll(async () => {
    dynalite = await startDynalite({ logDir: tmpDir('fault-proxy') });
    proxy = await startFaultProxy({ host: '127.0.0.1', port: dynalite.port });
    viaProxy = dynamoClient({ region: LOCAL_REGION, endpoint: proxy.endpoint });
    direct = dynamoClient({ region: LOCAL_REGION, endpoint: dynalite.endpoint });
    await viaProxy.send(new CreateTableCommand(createTableInput('ticks', TABLE)));
    for (let i = 0; ; i++) {
      const d = await viaProxy.send(new DescribeTableCommand({ TableName: TABLE }));
      if (d.Table?.TableStatus === 'ACTIVE') break;
      if (i > 100) throw new Error(`${TABLE} did not become ACTIVE`);
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  afterAll(async () => {
    viaProxy?.destroy();
    direct?.destroy();
    await proxy?.close();
    await dynalite?.stop();
  });

  const key = (symbol: string, ts: number) => ({ symbol: { S: symbol }, ts: { N: String(ts) } });
  const put = (symbol: string, ts: number): WriteRequest => ({ PutRequest: { Item: { ...key(symbol, ts), price: { N: '1.5' } } } });
  const exists = async (symbol: string, ts: number): Promise<boolean> =>
    (await direct.send(new GetItemCommand({ TableName: TABLE, Key: key(symbol, ts), ConsistentRead: true }))).Item !== undefined;

  it('writes and reads through the proxy', async () => {
    await viaProxy.send(new PutItemCommand({ TableName: TABLE, Item: { ...key('AAPL', 1), price: { N: '190.25' } } }));
    const got = await viaProxy.send(new GetItemCommand({ TableName: TABLE, Key: key('AAPL', 1), ConsistentRead: true }));
    expect(got.Item).toEqual({ ...key('AAPL', 1), price: { N: '190.25' } });
    expect(await exists('AAPL', 1)).toBe(true);
  });

  it("passes the emulator's own errors back as they came", async () => {
    await expect(viaProxy.send(new GetItemCommand({ TableName: 'no-such-table', Key: key('AAPL', 1) }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('fails the BatchWriteItem that carries the poison with a ValidationException; the others go through', async () => {
    const message = 'One or more parameter values were invalid: an item is too large';
    const rule = proxy.inject({ match: (r) => r.target === BATCH_WRITE && r.body.includes('"POISON"'), ...dynamoError('ValidationException', message) });
    try {
      const before = await viaProxy.send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: [put('MSFT', 1), put('MSFT', 2)] } }));
      expect(before.UnprocessedItems ?? {}).toEqual({});

      const err: unknown = await viaProxy.send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: [put('GOOG', 1), put('POISON', 1)] } })).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(DynamoDBServiceException);
      const e = err as DynamoDBServiceException;
      expect({ name: e.name, message: e.message, status: e.$metadata.httpStatusCode, attempts: e.$metadata.attempts }).toEqual({
        name: 'ValidationException',
        message,
        status: 400,
        attempts: 1, // a client error: the SDK does not retry it
      });

      const after = await viaProxy.send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: [put('MSFT', 3)] } }));
      expect(after.UnprocessedItems ?? {}).toEqual({});
      expect(rule.hits).toBe(1);
      // the refused batch never reached the emulator, the others did
      expect(await Promise.all([exists('GOOG', 1), exists('POISON', 1), exists('MSFT', 1), exists('MSFT', 2), exists('MSFT', 3)])).toEqual([false, false, true, true, true]);
    } finally {
      rule.remove();
    }
  });

  it('serves again after a pause', async () => {
    proxy.pause();
    const refusedBefore = proxy.stats.refused;
    await expect(viaProxy.send(new GetItemCommand({ TableName: TABLE, Key: key('AAPL', 1) }))).rejects.toThrow(/ECONNRESET/);
    expect(proxy.stats.refused).toBeGreaterThan(refusedBefore);
    proxy.resume();
    const got = await viaProxy.send(new GetItemCommand({ TableName: TABLE, Key: key('AAPL', 1), ConsistentRead: true }));
    expect(got.Item?.price).toEqual({ N: '190.25' });
  });
});
