import { DynamoDBClient, DynamoDBServiceException, PutItemCommand, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import http from 'node:http';
import type net from 'node:net';
import { awsJsonError, crc32, DYNAMODB_ERRORS, dynamoError, startFaultProxy, type FaultProxy } from '../../../local/fault-proxy';

/** What the fake upstream saw of one request. */
interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A stand-in for the emulator: records every request and answers 201 with a body of its own. */
async function startUpstream(): Promise<{ server: http.Server; port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: raw.toString('utf8') });
      const out = JSON.stringify({ bytes: raw.length });
      res.writeHead(201, { 'content-type': 'application/x-amz-json-1.0', 'x-upstream': 'yes', 'content-length': Buffer.byteLength(out) });
      res.end(out);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as net.AddressInfo).port, seen };
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function post(port: number, path: string, body: string, headers: Record<string, string>, agent: http.Agent): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path, agent, headers: { 'content-type': 'application/x-amz-json-1.0', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

// package-lock pins SDK versions that run on Node 20; their Node 22 notice is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const PUT = 'DynamoDB_20120810.PutItem';

describe('FaultProxy', () => {
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let proxy: FaultProxy;
  let agent: http.Agent;
  const send = (body: string, target = PUT, path = '/'): Promise<Reply> => post(proxy.port, path, body, { 'x-amz-target': target, 'x-test': 'kept' }, agent);

  beforeEach(async () => {
    upstream = await startUpstream();
    proxy = await startFaultProxy({ host: '127.0.0.1', port: upstream.port });
    agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  });
  afterEach(async () => {
    agent.destroy();
    await proxy.close();
    upstream.server.closeAllConnections();
    await new Promise((r) => upstream.server.close(r));
  });

  it('forwards a POST unchanged and streams the answer back, over one kept-alive connection', async () => {
    const body = JSON.stringify({ TableName: 't', Item: { k: { S: 'ä'.repeat(1000) } } });
    const r1 = await send(body, PUT, '/some/path?q=1');
    const r2 = await send('{}');
    expect(r1).toMatchObject({ status: 201, body: JSON.stringify({ bytes: Buffer.byteLength(body) }) });
    expect(r1.headers).toMatchObject({ 'x-upstream': 'yes', 'content-type': 'application/x-amz-json-1.0' });
    expect(r2.status).toBe(201);
    expect(upstream.seen).toHaveLength(2);
    expect(upstream.seen[0]).toMatchObject({ method: 'POST', url: '/some/path?q=1', body });
    expect(upstream.seen[0]!.headers).toMatchObject({
      'x-amz-target': PUT,
      'x-test': 'kept',
      host: `127.0.0.1:${proxy.port}`,
      'content-length': String(Buffer.byteLength(body)),
    });
    expect(proxy.stats).toEqual({ forwarded: 1, refused: 0 });
  });

  it('answers a matching request itself, exactly as the rule says, without reaching upstream', async () => {
    const seenByRule: unknown[] = [];
    const rule = proxy.inject({
      match: (r) => {
        seenByRule.push(r);
        return r.target === PUT && r.body.includes('poison');
      },
      ...dynamoError('ValidationException', 'One or more parameter values were invalid'),
      headers: { 'X-Extra': 'on' },
    });
    const r = await send('{"TableName":"t","Item":{"k":{"S":"poison"}}}');
    const expected = '{"__type":"com.amazon.coral.validate#ValidationException","message":"One or more parameter values were invalid"}';
    expect(r.status).toBe(400);
    expect(r.body).toBe(expected);
    expect(r.headers['content-type']).toBe('application/x-amz-json-1.0');
    expect(r.headers['x-amzn-requestid']).toMatch(/^[A-Z0-9]{52}$/);
    expect(r.headers['x-amz-crc32']).toBe(String(crc32(Buffer.from(expected))));
    expect(r.headers['x-extra']).toBe('on');
    expect(upstream.seen).toHaveLength(0);
    expect(seenByRule).toEqual([{ method: 'POST', path: '/', target: PUT, body: '{"TableName":"t","Item":{"k":{"S":"poison"}}}' }]);
    // not matching: forwarded
    expect((await send('{"TableName":"t"}')).status).toBe(201);
    expect(upstream.seen).toHaveLength(1);
    expect(rule.hits).toBe(1);
  });

  it('sends a string body as is and other headers override the defaults', async () => {
    proxy.inject({ match: () => true, status: 503, body: 'not json', headers: { 'Content-Type': 'text/plain' } });
    const r = await send('{}');
    expect(r).toMatchObject({ status: 503, body: 'not json' });
    expect(r.headers['content-type']).toBe('text/plain');
  });

  it('honours times, remove() and clearInjections()', async () => {
    const twice = proxy.inject({ match: () => true, times: 2, status: 400, body: awsJsonError('ResourceNotFoundException', 'gone') });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await send('{}')).status);
    expect(statuses).toEqual([400, 400, 201]);
    expect(twice.hits).toBe(2);

    const always = proxy.inject({ match: () => true, status: 500, body: awsJsonError('InternalServerError', 'boom') });
    expect((await send('{}')).status).toBe(500);
    always.remove();
    expect((await send('{}')).status).toBe(201);
    expect(always.hits).toBe(1);

    proxy.inject({ match: () => true, status: 500, body: {} });
    proxy.clearInjections();
    expect((await send('{}')).status).toBe(201);
    expect(upstream.seen).toHaveLength(3);
  });

  it('tries rules in the order they were injected', async () => {
    const first = proxy.inject({ match: (r) => r.target === PUT, status: 400, body: 'first' });
    const second = proxy.inject({ match: () => true, status: 400, body: 'second' });
    expect((await send('{}')).body).toBe('first');
    expect((await send('{}', 'DynamoDB_20120810.GetItem')).body).toBe('second');
    expect([first.hits, second.hits]).toEqual([1, 1]);
  });

  it('answers InternalFailure when a rule throws, naming the cause', async () => {
    proxy.inject({
      match: () => {
        throw new Error('bad matcher');
      },
      status: 400,
      body: {},
    });
    const r = await send('{}');
    expect(r.status).toBe(500);
    expect(JSON.parse(r.body)).toEqual({ __type: 'com.amazon.coral.service#InternalFailure', message: "fault-proxy: a rule's match threw: bad matcher" });
  });

  it('pause() resets open and new connections (ECONNRESET); resume() serves again', async () => {
    expect((await send('{}')).status).toBe(201); // leaves a kept-alive connection open
    proxy.pause();
    expect(proxy.paused).toBe(true);
    // the kept-alive socket was reset; a fresh one is reset on accept
    await expect(send('{}')).rejects.toMatchObject({ code: 'ECONNRESET' });
    await expect(send('{}')).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(proxy.stats.refused).toBeGreaterThanOrEqual(1);
    proxy.resume();
    expect(proxy.paused).toBe(false);
    expect((await send('{}')).status).toBe(201);
    expect(upstream.seen).toHaveLength(2);
  });

  describe('seen through DynamoDBClient', () => {
    let client: DynamoDBClient;
    beforeEach(() => {
      client = new DynamoDBClient({
        region: 'us-east-1',
        endpoint: proxy.endpoint,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        maxAttempts: 1,
        requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent({ keepAlive: true }) }),
      });
      proxy.inject({ match: (r) => r.target === PUT && r.body.includes('"invalid"'), ...dynamoError('ValidationException', 'One or more parameter values were invalid: x') });
      proxy.inject({ match: (r) => r.target === PUT && r.body.includes('"missing"'), ...dynamoError('ResourceNotFoundException', 'Requested resource not found') });
      proxy.inject({ match: (r) => r.target === PUT && r.body.includes('"denied"'), ...dynamoError('AccessDeniedException', 'User: arn:aws:iam::000000000000:user/x is not authorized to perform: dynamodb:PutItem') });
    });
    afterEach(() => client.destroy());

    const put = (table: string): Promise<unknown> => client.send(new PutItemCommand({ TableName: table, Item: { k: { S: '1' } } }));
    const failure = async (table: string): Promise<DynamoDBServiceException> => {
      try {
        await put(table);
      } catch (err) {
        if (err instanceof DynamoDBServiceException) return err;
        throw err;
      }
      throw new Error('PutItem succeeded');
    };

    it.each([
      ['invalid', 'ValidationException', 'One or more parameter values were invalid: x'],
      ['missing', 'ResourceNotFoundException', 'Requested resource not found'],
      ['denied', 'AccessDeniedException', 'User: arn:aws:iam::000000000000:user/x is not authorized to perform: dynamodb:PutItem'],
    ])('a PutItem on %s fails with %s', async (table, name, message) => {
      const err = await failure(table);
      expect({ name: err.name, message: err.message, status: err.$metadata.httpStatusCode, fault: err.$fault }).toEqual({ name, message, status: 400, fault: 'client' });
      expect(err.$metadata.requestId).toMatch(/^[A-Z0-9]{52}$/);
      expect(upstream.seen).toHaveLength(0);
    });

    it('raises the modeled class where DynamoDB has one', async () => {
      await expect(put('missing')).rejects.toBeInstanceOf(ResourceNotFoundException);
    });

    it('lets everything else through to upstream', async () => {
      await put('fine');
      expect(upstream.seen).toHaveLength(1);
      expect(upstream.seen[0]!.headers['x-amz-target']).toBe(PUT);
      expect(JSON.parse(upstream.seen[0]!.body)).toEqual({ TableName: 'fine', Item: { k: { S: '1' } } });
    });
  });
});

describe('awsJsonError', () => {
  it('uses the namespace and message key DynamoDB uses', () => {
    expect(awsJsonError('ValidationException', 'm')).toEqual({ __type: 'com.amazon.coral.validate#ValidationException', message: 'm' });
    expect(awsJsonError('ResourceNotFoundException', 'm')).toEqual({ __type: 'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException', message: 'm' });
    expect(awsJsonError('AccessDeniedException', 'm')).toEqual({ __type: 'com.amazon.coral.service#AccessDeniedException', Message: 'm' });
    expect(awsJsonError('ProvisionedThroughputExceededException', 'm')).toEqual({
      __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
      message: 'm',
    });
    expect(awsJsonError('InternalServerError', 'm')).toEqual({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'm' });
    expect(awsJsonError('InternalFailure', 'm')).toEqual({ __type: 'com.amazon.coral.service#InternalFailure', message: 'm' });
    expect(awsJsonError('ConditionalCheckFailedException', 'm')).toEqual({ __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException', message: 'm' });
    expect(awsJsonError('com.amazon.coral.availability#ThrottlingException', 'm')).toEqual({ __type: 'com.amazon.coral.availability#ThrottlingException', message: 'm' });
  });

  it('gives 400 for client errors and 500 for server errors', () => {
    expect(Object.fromEntries(Object.entries(DYNAMODB_ERRORS).map(([k, v]) => [k, v.status]))).toEqual({
      ValidationException: 400,
      ResourceNotFoundException: 400,
      AccessDeniedException: 400,
      ProvisionedThroughputExceededException: 400,
      InternalServerError: 500,
      InternalFailure: 500,
    });
  });

  it('crc32 is the IEEE CRC-32', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.alloc(0))).toBe(0);
  });
});
