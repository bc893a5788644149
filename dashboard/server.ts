/**
 * The dashboard's HTTP server: plain node:http, read-only (GET and HEAD),
 * pages as static shells plus their scripts, data as JSON, live changes as
 * server-sent events. A framework would add routing we do not need and a
 * dependency to keep current; the whole surface is a dozen fixed paths.
 */
import { timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { lightweightChartsSource } from '../shared/web/assets';
import { SYMBOL_RE } from '../shared/tick';
import { chartColumns } from './chart-columns';
import { alertsPage, errorPage, marketPage, pipelinePage, STYLE, symbolPage } from './pages';
import { NO_INTEREST, type DashboardSource, type Interest, type SourceUpdate } from './source';
import type { AlertItem, ChartPoint, LiveEvent, MarketRow, Topic } from './wire';

export interface DashboardOptions {
  source: DashboardSource;
  host: string;
  /** 0: a free port. */
  port: number;
  /** Required unless `host` is a loopback address; then asked of every request. */
  token?: string;
  /** Where the compiled page scripts are (dist/dashboard/web). */
  staticDir: string;
  /** How often live changes are sent to each client (default 250 ms). */
  flushMs?: number;
}

export interface Dashboard {
  readonly url: string;
  readonly port: number;
  /** Clients connected to the live stream. */
  clients(): number;
  close(): Promise<void>;
}

/** A non-loopback bind without a token: refused before anything listens. */
export class DashboardTokenError extends Error {
  override readonly name = 'DashboardTokenError';
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

const TOKEN_COOKIE = 'tickstream_token';
const ALERT_TYPES = new Set(['BUY', 'SELL', 'ANOMALY', 'VOLUME_SPIKE']);
const TOPICS = new Set<Topic>(['market', 'alerts', 'pipeline']);
/** A client whose socket holds more than this unsent is slow: its changes wait (coalesced) instead of
 *  queueing. A few events of 5,000 rows (about 1.5 MB each), so a client that keeps up is never skipped. */
const SLOW_CLIENT_BYTES = 8 * 1024 * 1024;
/** Per client, the most points or alerts held between flushes. */
const MAX_PENDING_ITEMS = 2000;
/** A comment line now and then keeps proxies and the browser from timing the stream out. */
const HEARTBEAT_MS = 15_000;

// Nothing runs but our own scripts: an injected <img onerror> or inline
// <script> would be refused by the browser even if it reached the DOM.
// Inline styles are allowed because lightweight-charts sets some as text;
// a style cannot run code.
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/** A request refused with a status and one sentence for the person. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface Client {
  res: http.ServerResponse;
  topics: Set<Topic>;
  symbol: string | undefined;
  market: Map<string, MarketRow>;
  points: ChartPoint[];
  alerts: AlertItem[];
  pipeline: boolean;
  /** Until the snapshot is written, changes only accumulate. */
  ready: boolean;
  /** The flush that last sent this client its market rows: clients that share it hold the same rows. */
  marketSince: number;
}

/** The union of what the clients' streams show. */
function interestOf(clients: Iterable<{ topics: ReadonlySet<Topic>; symbol: string | undefined }>): Interest {
  const symbols = new Set<string>();
  const i = { market: false, alerts: false, pipeline: false };
  for (const c of clients) {
    for (const t of c.topics) i[t] = true;
    if (c.symbol !== undefined) symbols.add(c.symbol);
  }
  return { ...i, symbols: [...symbols].sort() };
}

const sameInterest = (a: Interest, b: Interest): boolean => a.market === b.market && a.alerts === b.alerts && a.pipeline === b.pipeline && a.symbols.length === b.symbols.length && a.symbols.every((s, i) => s === b.symbols[i]);

function sameToken(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookie(req: http.IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

/** Only the named parameters, each at most once; anything else is refused. */
function params(url: URL, allowed: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of url.searchParams) {
    if (!allowed.includes(k)) throw new HttpError(400, `unknown query parameter "${k}" (this page takes ${allowed.length === 0 ? 'none' : allowed.join(', ')})`);
    if (out.has(k)) throw new HttpError(400, `query parameter "${k}" given twice`);
    out.set(k, v);
  }
  return out;
}

function symbolParam(value: string | undefined, what: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!SYMBOL_RE.test(value)) throw new HttpError(400, `${what} is not a symbol (1-20 of A-Z 0-9 . ^ = -)`);
  return value;
}

export async function startDashboard(o: DashboardOptions): Promise<Dashboard> {
  if (!isLoopback(o.host) && (o.token === undefined || o.token === '')) {
    throw new DashboardTokenError(`binding ${o.host} (not loopback) needs a token: set TICKSTREAM_DASHBOARD_TOKEN`);
  }
  const token = o.token === '' ? undefined : o.token;
  const src = o.source;
  const clients = new Set<Client>();
  const staticFiles = new Map<string, { type: string; body: () => string | Buffer }>([
    ['style.css', { type: 'text/css; charset=utf-8', body: () => STYLE }],
    ['lightweight-charts.js', { type: 'text/javascript; charset=utf-8', body: lightweightChartsSource }],
  ]);

  const onUpdate = (u: SourceUpdate): void => {
    for (const c of clients) {
      if (c.topics.has('market')) for (const { row } of u.rows) c.market.set(row.symbol, row);
      if (c.symbol !== undefined) {
        for (const { row, point } of u.rows) if (row.symbol === c.symbol) c.points.push(point);
        if (c.points.length > MAX_PENDING_ITEMS) c.points.splice(0, c.points.length - MAX_PENDING_ITEMS);
      }
      if (c.topics.has('alerts') && u.alerts.length > 0) {
        c.alerts.push(...u.alerts);
        if (c.alerts.length > MAX_PENDING_ITEMS) c.alerts.splice(0, c.alerts.length - MAX_PENDING_ITEMS);
      }
      if (u.pipeline && c.topics.has('pipeline')) c.pipeline = true;
    }
  };
  const unsubscribe = src.subscribe(onUpdate);
  // told only when it changes: a second market page costs the source nothing more
  let interest: Interest = NO_INTEREST;
  const interestChanged = (): void => {
    const next = interestOf(clients);
    if (sameInterest(next, interest)) return;
    interest = next;
    src.watch?.(next);
  };

  const send = (c: Client, e: LiveEvent): void => {
    c.res.write(`data: ${JSON.stringify(e)}\n\n`);
  };
  let flushes = 0;
  let streams = 0;

  let flushing = false;
  const flush = async (): Promise<void> => {
    if (flushing) return;
    flushing = true;
    try {
      let pipeline: Awaited<ReturnType<DashboardSource['pipeline']>> | undefined;
      // Every market client gets every update, so clients last sent rows at
      // the same flush hold the same rows now: their JSON is made once.
      const marketJson = new Map<number, string>();
      const flush = ++flushes;
      for (const c of clients) {
        if (!c.ready || c.res.writableLength > SLOW_CLIENT_BYTES) continue;
        const e: LiveEvent = {};
        if (c.points.length > 0) e.points = c.points.splice(0);
        if (c.alerts.length > 0) e.alerts = c.alerts.splice(0);
        if (c.pipeline) {
          pipeline ??= await src.pipeline();
          e.pipeline = pipeline;
          c.pipeline = false;
        }
        // the market rows (the bulk of an event) are spliced in as text: the same rows go to every client
        let market: string | undefined;
        if (c.market.size > 0) {
          market = marketJson.get(c.marketSince);
          if (market === undefined) marketJson.set(c.marketSince, (market = JSON.stringify([...c.market.values()])));
          c.market.clear();
        }
        if (c.topics.has('market')) c.marketSince = flush;
        if (market === undefined && Object.keys(e).length === 0) continue;
        const rest = JSON.stringify(e);
        c.res.write(`data: ${market === undefined ? rest : `{"market":${market}${rest === '{}' ? '' : `,${rest.slice(1, -1)}`}}`}\n\n`);
      }
    } catch {
      /* the next flush tries again; a page shows the last good state */
    } finally {
      flushing = false;
    }
  };
  const flushTimer = setInterval(() => void flush(), o.flushMs ?? 250);
  const heartbeat = setInterval(() => {
    for (const c of clients) c.res.write(': keep-alive\n\n');
  }, HEARTBEAT_MS);

  const openStream = async (req: http.IncomingMessage, res: http.ServerResponse, q: Map<string, string>): Promise<void> => {
    const topics = new Set<Topic>();
    for (const t of (q.get('topics') ?? '').split(',')) {
      if (t === '') continue;
      if (!TOPICS.has(t as Topic)) throw new HttpError(400, `unknown topic "${t}" (market, alerts, pipeline)`);
      topics.add(t as Topic);
    }
    const symbol = symbolParam(q.get('symbol'), 'symbol');
    const c: Client = { res, topics, symbol, market: new Map(), points: [], alerts: [], pipeline: false, ready: false, marketSince: -1 };
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
    res.write('retry: 2000\n\n');
    clients.add(c);
    req.on('close', () => {
      clients.delete(c);
      interestChanged();
    });
    // before the snapshot is read, so a source that reads by interest starts its first read now
    interestChanged();
    // Registered first, so whatever changes while the snapshot is read is
    // held and sent after it; the page drops points it already has by ts.
    const snapshot: LiveEvent = {};
    if (topics.has('market')) {
      snapshot.market = await src.market();
      c.market.clear();
      // its own mark: no other client holds what this one has held since its snapshot
      c.marketSince = -++streams;
    }
    if (topics.has('alerts')) snapshot.alerts = (await src.alerts()).reverse();
    if (topics.has('pipeline')) snapshot.pipeline = await src.pipeline();
    // A follower's history comes from /api/symbol/<SYM>, asked for after this
    // first event: fetch() parses a 100,000-point history many times faster
    // than EventSource takes one event that size, and the stream is already
    // holding every point stored meanwhile.
    if (symbol !== undefined) snapshot.points = [];
    c.pipeline = false;
    if (topics.has('alerts')) {
      const have = new Set(snapshot.alerts?.map((a) => a.id));
      c.alerts = c.alerts.filter((a) => !have.has(a.id));
    }
    send(c, snapshot);
    c.ready = true;
  };

  const html = (res: http.ServerResponse, status: number, body: string, head: boolean): void => {
    res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8' });
    res.end(head ? undefined : body);
  };
  const json = (res: http.ServerResponse, value: unknown, head: boolean): void => {
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8' });
    res.end(head ? undefined : JSON.stringify(value));
  };

  const route = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      throw new HttpError(405, 'this dashboard is read-only');
    }
    const head = req.method === 'HEAD';
    const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    if (token !== undefined) {
      const given = url.searchParams.get('token');
      if (given !== null && sameToken(given, token)) {
        // the token moves into a cookie the page's own requests (and its event stream) carry
        url.searchParams.delete('token');
        res.writeHead(303, { ...SECURITY_HEADERS, location: url.pathname + url.search, 'set-cookie': `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/` });
        res.end();
        return;
      }
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const presented = bearer ?? cookie(req, TOKEN_COOKIE);
      if (presented === undefined || !sameToken(presented, token)) throw new HttpError(401, 'a token is required: open the address with ?token=… (TICKSTREAM_DASHBOARD_TOKEN)');
    }
    const p = url.pathname;
    const desc = src.description;
    if (p === '/' || p === '/market') {
      params(url, []);
      return html(res, 200, marketPage(desc), head);
    }
    if (p === '/alerts') {
      const q = params(url, ['type', 'symbol']);
      const type = q.get('type');
      if (type !== undefined && type !== '' && !ALERT_TYPES.has(type)) throw new HttpError(400, 'type must be BUY, SELL, ANOMALY or VOLUME_SPIKE');
      const symbol = symbolParam(q.get('symbol'), 'the symbol filter');
      return html(res, 200, alertsPage(desc, { ...(type ? { type } : {}), ...(symbol ? { symbol } : {}) }), head);
    }
    if (p === '/pipeline') {
      params(url, []);
      return html(res, 200, pipelinePage(desc), head);
    }
    const sym = /^\/(symbol|api\/symbol)\/([^/]*)$/.exec(p);
    if (sym !== null) {
      params(url, []);
      let name: string;
      try {
        name = decodeURIComponent(sym[2]!);
      } catch {
        throw new HttpError(400, 'the address is not a symbol');
      }
      if (!SYMBOL_RE.test(name)) throw new HttpError(400, 'the address is not a symbol (1-20 of A-Z 0-9 . ^ = -)');
      const history = await src.history(name);
      if (history === undefined) throw new HttpError(404, `unknown symbol ${name}: this pipeline has no tick of it`);
      return sym[1] === 'symbol' ? html(res, 200, symbolPage(desc, name), head) : json(res, chartColumns(history), head);
    }
    if (p === '/events') return openStream(req, res, params(url, ['topics', 'symbol']));
    if (p === '/api/market') return params(url, []), json(res, await src.market(), head);
    if (p === '/api/alerts') return params(url, []), json(res, await src.alerts(), head);
    if (p === '/api/pipeline') return params(url, []), json(res, await src.pipeline(), head);
    const file = /^\/static\/([a-z-]+\.(?:js|css))$/.exec(p)?.[1];
    if (file !== undefined) {
      params(url, []);
      const known = staticFiles.get(file);
      let body: string | Buffer;
      if (known !== undefined) body = known.body();
      else {
        try {
          body = fs.readFileSync(path.join(o.staticDir, file));
        } catch {
          throw new HttpError(404, `no such file: ${file}`);
        }
      }
      res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': known?.type ?? 'text/javascript; charset=utf-8' });
      res.end(head ? undefined : body);
      return;
    }
    throw new HttpError(404, `no page at ${p}`);
  };

  const server = http.createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      const message = err instanceof HttpError ? err.message : `the dashboard failed to read its data: ${err instanceof Error ? err.message : String(err)}`;
      if (res.headersSent) {
        res.end();
        return;
      }
      html(res, status, errorPage(src.description, status, message), req.method === 'HEAD');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    url: `http://${shownHost}:${port}/`,
    port,
    clients: () => clients.size,
    async close() {
      clearInterval(flushTimer);
      clearInterval(heartbeat);
      unsubscribe();
      for (const c of clients) c.res.end();
      clients.clear();
      interestChanged();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
