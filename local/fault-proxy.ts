import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';

/**
 * A loopback HTTP/1.1 proxy in front of the DynamoDB emulator that can fail
 * the way AWS fails: for tests that take the server away from its clients
 * (the KCL daemons' Java SDK and the record processors' JS SDK) while the test
 * itself keeps talking to the server directly, or that make DynamoDB refuse
 * chosen calls with the error responses it really sends.
 *
 * pause(): every open connection is reset (RST, so clients see ECONNRESET at
 * once rather than waiting for a timeout) and every new one is reset as soon
 * as it is accepted, which is what an unreachable peer looks like to an SDK:
 * a transport error it retries. resume(): new connections are served again.
 *
 * inject(rule): a request the rule matches (method, path, X-Amz-Target, body)
 * is answered by the proxy itself with the rule's status and body, as
 * DynamoDB would answer it (x-amz-json-1.0, a request id, x-amz-crc32), and
 * never reaches the emulator; `dynamoError()` builds the real error shapes.
 * Everything else is forwarded as it came (method, path, headers, body) and
 * the emulator's answer streamed back, over keep-alive connections on both
 * sides. Hop-by-hop headers (RFC 9110 §7.6.1) are not passed on, and a body
 * goes on with a Content-Length: the proxy reads it whole first, because a
 * rule may match on it.
 */
export interface FaultProxy {
  readonly port: number;
  /** http://127.0.0.1:<port> */
  readonly endpoint: string;
  readonly paused: boolean;
  /** Connections accepted / reset while paused, since start. */
  readonly stats: { forwarded: number; refused: number };
  pause(): void;
  resume(): void;
  /** Rules are tried in the order they were injected; the first match answers. */
  inject(rule: InjectionRule): Injection;
  clearInjections(): void;
  close(): Promise<void>;
}

/** What a rule sees of a request. */
export interface ProxiedRequest {
  readonly method: string;
  /** Path and query, as sent. */
  readonly path: string;
  /** The X-Amz-Target header, e.g. DynamoDB_20120810.BatchWriteItem */
  readonly target: string | undefined;
  /** The body as UTF-8 text (DynamoDB bodies are JSON). */
  readonly body: string;
}

interface InjectionRule {
  match: (req: ProxiedRequest) => boolean;
  status: number;
  /** Sent as is if a string, JSON-serialised otherwise. */
  body: string | object;
  /** Added to (and overriding) content-type, x-amzn-requestid and x-amz-crc32. */
  headers?: Record<string, string>;
  /** Answer at most this many requests; unlimited if unset. */
  times?: number;
}

interface Injection {
  /** Requests this rule has answered. */
  readonly hits: number;
  remove(): void;
}

/**
 * The DynamoDB errors tests inject, as DynamoDB puts them on the wire: the
 * `__type` namespace, the HTTP status, and which spelling of the message key
 * the service uses.
 *
 * Where these come from:
 * - dynalite 4, the emulator this proxy fronts, whose bodies were copied
 *   from DynamoDB's (its index.js quotes the captured ones): db/index.js
 *   validationError() sends `com.amazon.coral.validate#ValidationException`
 *   and the table lookup `com.amazonaws.dynamodb.v20120810#ResourceNotFoundException`
 *   ("Requested resource not found"); validations/tagResource.js sends
 *   `com.amazon.coral.service#AccessDeniedException` with `Message`, as the
 *   Coral service layer spells it (SerializationException too); DynamoDB's
 *   own errors say `message`.
 * - aws/aws-sdk-js-v3 clients/client-dynamodb/protocols/Aws_json1_0.ts (its
 *   early generated code, e.g. commit 030082a0) matches the modeled errors
 *   by their wire names, "com.amazonaws.dynamodb.v20120810#InternalServerError",
 *   "...v20120810#ResourceNotFoundException" and so on; it imports
 *   ProvisionedThroughputExceededException from the same model. InternalFailure
 *   is Coral's unmodeled 500, `com.amazon.coral.service#InternalFailure`.
 * - Neither SDK here cares about the namespace: @smithy/core's
 *   loadJsonRpcErrorCode (sanitizeErrorCode) keeps what follows '#', as does
 *   aws-sdk-java-v2's JsonErrorCodeParser ("prefix#typeName"), and both take
 *   `message` or `Message` (smithy's handleError; SdkJsonErrorMessageParser).
 *   The JS SDK raises the modeled class where DynamoDB has one
 *   (ResourceNotFoundException, ProvisionedThroughputExceededException,
 *   InternalServerError), a DynamoDBServiceException of that name otherwise
 *   (ValidationException, AccessDeniedException are not in the model).
 * - aws-sdk-js-v3's own DynamoDB error snapshots
 *   (clients/client-dynamodb/test/snapshots/res-err/*.txt) use a synthetic
 *   `com.amazonaws.dynamodb#` namespace: they test the parser, not the wire.
 */
export const DYNAMODB_ERRORS = {
  ValidationException: { type: 'com.amazon.coral.validate#ValidationException', status: 400, messageKey: 'message' },
  ResourceNotFoundException: { type: 'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException', status: 400, messageKey: 'message' },
  AccessDeniedException: { type: 'com.amazon.coral.service#AccessDeniedException', status: 400, messageKey: 'Message' },
  ProvisionedThroughputExceededException: {
    type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
    status: 400,
    messageKey: 'message',
  },
  InternalServerError: { type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', status: 500, messageKey: 'message' },
  InternalFailure: { type: 'com.amazon.coral.service#InternalFailure', status: 500, messageKey: 'message' },
} as const;

export type DynamoErrorName = keyof typeof DYNAMODB_ERRORS;

/** A DynamoDB JSON-protocol error body: `__type` and `message` (or `Message`). */
export type AwsJsonErrorBody = { __type: string } & Partial<Record<'message' | 'Message', string>>;

const DYNAMODB_NAMESPACE = 'com.amazonaws.dynamodb.v20120810';

function isKnown(name: string): name is DynamoErrorName {
  return Object.hasOwn(DYNAMODB_ERRORS, name);
}

/**
 * The body DynamoDB sends for error `type`: one of DYNAMODB_ERRORS by name,
 * any other name in DynamoDB's namespace, or a fully qualified `ns#Name`.
 */
export function awsJsonError(type: DynamoErrorName | (string & Record<never, never>), message: string): AwsJsonErrorBody {
  if (isKnown(type)) {
    const e = DYNAMODB_ERRORS[type];
    return { __type: e.type, [e.messageKey]: message };
  }
  return { __type: type.includes('#') ? type : `${DYNAMODB_NAMESPACE}#${type}`, message };
}

/** Status and body of a known DynamoDB error, to spread into an InjectionRule. */
export function dynamoError(name: DynamoErrorName, message: string): { status: number; body: AwsJsonErrorBody } {
  return { status: DYNAMODB_ERRORS[name].status, body: awsJsonError(name, message) };
}

/** RFC 9110 §7.6.1: they describe one connection, not the message; Expect is
 *  gone too because the proxy has already answered it (100 Continue). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect']);

/** rawHeaders without hop-by-hop headers (and those Connection names), or `drop`. */
function endToEnd(raw: readonly string[], drop: readonly string[] = []): string[] {
  const skip = new Set([...HOP_BY_HOP, ...drop]);
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === 'connection') for (const t of raw[i + 1]!.split(',')) skip.add(t.trim().toLowerCase());
  }
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (!skip.has(raw[i]!.toLowerCase())) out.push(raw[i]!, raw[i + 1]!);
  return out;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** CRC-32 (IEEE), as in x-amz-crc32. zlib.crc32 would do, but only from Node 20.15. */
export function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** DynamoDB's request ids are 52 upper-case letters and digits. */
function requestId(): string {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return Array.from(randomBytes(52), (b) => abc[b % abc.length]).join('');
}

interface ActiveRule {
  readonly rule: InjectionRule;
  left: number;
  hits: number;
}

export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  const clients = new Set<net.Socket>();
  const stats = { forwarded: 0, refused: 0 };
  let paused = false;
  let rules: ActiveRule[] = [];
  // The emulator (a node http server) says Keep-Alive: timeout=5; the agent
  // drops idle sockets a second before that, so reuse rarely races a close.
  const newAgent = (): http.Agent => new http.Agent({ keepAlive: true });
  let agent = newAgent();

  const reset = (s: net.Socket): void => {
    if (!s.destroyed) s.resetAndDestroy();
  };

  const answer = (res: http.ServerResponse, status: number, body: string | object, extra: Record<string, string> = {}): void => {
    const buf = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8');
    const headers: Record<string, string | number> = {
      'content-type': 'application/x-amz-json-1.0',
      'x-amzn-requestid': requestId(),
      // DynamoDB sends it, and SDKs that see it check it against the body
      'x-amz-crc32': String(crc32(buf)),
    };
    for (const [k, v] of Object.entries(extra)) headers[k.toLowerCase()] = v;
    headers['content-length'] = buf.length;
    res.writeHead(status, headers);
    res.end(buf);
  };

  const forward = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, retried = false): void => {
    const framed = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
    const headers = endToEnd(req.rawHeaders, ['content-length']);
    if (framed || body.length > 0) headers.push('Content-Length', String(body.length));
    let answered = false;
    const up = http.request({ host: target.host, port: target.port, method: req.method, path: req.url, headers, agent, setHost: false });
    up.on('response', (upRes) => {
      answered = true;
      upRes.on('error', () => reset(req.socket));
      res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, endToEnd(upRes.rawHeaders));
      upRes.pipe(res);
    });
    up.on('error', (err: NodeJS.ErrnoException) => {
      // A keep-alive socket the emulator closed just as it was reused: the
      // request never got there, and the failure is the proxy's own, so one
      // fresh try (Node's documented pattern for request.reusedSocket).
      if (!answered && !retried && up.reusedSocket && err.code === 'ECONNRESET' && !paused && !req.socket.destroyed) {
        forward(req, res, body, true);
        return;
      }
      // Otherwise the client gets what a direct connection would have given
      // it: a transport error, not an HTTP answer the emulator never sent.
      reset(req.socket);
    });
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    up.end(body);
  };

  const pick = (r: ProxiedRequest): ActiveRule | Error | undefined => {
    for (const a of rules) {
      let hit: boolean;
      try {
        hit = a.rule.match(r);
      } catch (err) {
        return err instanceof Error ? err : new Error(String(err));
      }
      if (!hit) continue;
      a.hits++;
      if (--a.left <= 0) rules = rules.filter((x) => x !== a);
      return a;
    }
    return undefined;
  };

  const httpServer = http.createServer((req, res) => {
    req.on('error', () => reset(req.socket));
    res.on('error', () => reset(req.socket));
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const amzTarget = req.headers['x-amz-target'];
      const hit = pick({ method: req.method ?? 'GET', path: req.url ?? '/', target: typeof amzTarget === 'string' ? amzTarget : undefined, body: body.toString('utf8') });
      if (hit === undefined) forward(req, res, body);
      // a broken matcher is a bug in the test; say so to whoever sent the request
      else if (hit instanceof Error) answer(res, 500, awsJsonError('InternalFailure', `fault-proxy: a rule's match threw: ${hit.message}`));
      else answer(res, hit.rule.status, hit.rule.body, hit.rule.headers);
    });
  });
  // Longer than the Java SDK's Netty pool keeps an idle connection (60 s),
  // so that the client, not the proxy, ends an idle one: a server-side close
  // can race a reuse, which the client sees as a transport error.
  httpServer.keepAliveTimeout = 65_000;

  // Admission happens at the TCP level, before HTTP, so a paused proxy
  // resets a connection the moment it is accepted, exactly as before.
  const server = net.createServer((client) => {
    if (paused) {
      stats.refused++;
      client.resetAndDestroy();
      return;
    }
    stats.forwarded++;
    clients.add(client);
    client.on('error', () => undefined).on('close', () => clients.delete(client));
    httpServer.emit('connection', client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    get paused() {
      return paused;
    },
    stats,
    pause() {
      paused = true;
      for (const c of [...clients]) reset(c);
      clients.clear();
      // in-flight upstream calls die with their clients; nothing idle survives either
      agent.destroy();
      agent = newAgent();
    },
    resume() {
      paused = false;
    },
    inject(rule) {
      const a: ActiveRule = { rule, left: rule.times ?? Infinity, hits: 0 };
      if (a.left > 0) rules = [...rules, a];
      return {
        get hits() {
          return a.hits;
        },
        remove() {
          rules = rules.filter((x) => x !== a);
        },
      };
    },
    clearInjections() {
      rules = [];
    },
    close() {
      for (const c of [...clients]) c.destroy();
      clients.clear();
      agent.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
