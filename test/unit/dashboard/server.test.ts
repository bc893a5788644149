import http from 'node:http';
import { loadAwsDashboardConfig, loadDashboardConfig } from '../../../dashboard/config';
import { DashboardTokenError, startDashboard, type Dashboard } from '../../../dashboard/server';
import type { LiveEvent } from '../../../dashboard/wire';
import { ConfigError } from '../../../shared/runtime/config';
import { FakeSource, marketRowOf, onServerEvents, pointOf } from '../../helpers/dashboard';
import { waitFor } from '../../helpers/wait';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(url: string, o: { method?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: o.method ?? 'GET', headers: o.headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Reads server-sent events until `until` holds; the first is the snapshot. */
function readEvents(url: string, until: (events: LiveEvent[]) => boolean): Promise<LiveEvent[]> {
  return new Promise((resolve) => {
    const events: LiveEvent[] = [];
    const req = onServerEvents(url, (data) => {
      events.push(JSON.parse(data) as LiveEvent);
      if (until(events)) {
        req.destroy();
        resolve(events);
      }
    });
  });
}

describe('dashboard server', () => {
  let source: FakeSource;
  let dash: Dashboard;
  beforeEach(async () => {
    source = new FakeSource();
    source.rows.set('AAPL', marketRowOf('AAPL', 1000, 10));
    source.histories.set('AAPL', [pointOf(1000, 10)]);
    dash = await startDashboard({ source, host: '127.0.0.1', port: 0, staticDir: '/nonexistent', flushMs: 20 });
  });
  afterEach(() => dash.close());

  it('serves every page with a policy that lets only its own scripts run', async () => {
    for (const path of ['/', '/alerts', '/pipeline', '/symbol/AAPL']) {
      const r = await request(`${dash.url}${path.slice(1)}`);
      expect({ path, status: r.status, type: r.headers['content-type'], csp: r.headers['content-security-policy'] }).toEqual({ path, status: 200, type: 'text/html; charset=utf-8', csp: expect.stringContaining("script-src 'self';") as unknown });
    }
  });

  it('answers an unknown symbol with a 404 page that names it', async () => {
    const r = await request(`${dash.url}symbol/MSFT`);
    expect({ status: r.status, type: r.headers['content-type'], says: r.body.includes('unknown symbol MSFT') }).toEqual({ status: 404, type: 'text/html; charset=utf-8', says: true });
  });

  it.each([
    ['a path segment that is not a symbol', 'symbol/%3Cimg%20src%3Dx%3E'],
    ['a symbol filter that is not a symbol', 'alerts?symbol=%3Cscript%3Ealert(1)%3C%2Fscript%3E'],
    ['a lower-case symbol filter', 'alerts?symbol=aapl'],
    ['an alert type that does not exist', 'alerts?type=EVERYTHING'],
    ['a parameter the page does not take', '?q=1'],
    ['a stream for a non-symbol', 'events?symbol=..%2F..'],
    ['a stream for an unknown topic', 'events?topics=secrets'],
  ])('refuses %s with 400, and echoes nothing as markup', async (_what, path) => {
    const r = await request(`${dash.url}${path}`);
    expect({ status: r.status, markup: /<(img|script)[\s>]/i.test(r.body.replace(/<script type="module" src="\/static\/[a-z-]+\.js"><\/script>/g, '')) }).toEqual({ status: 400, markup: false });
  });

  it('is read-only', async () => {
    const r = await request(dash.url, { method: 'POST' });
    expect({ status: r.status, allow: r.headers.allow }).toEqual({ status: 405, allow: 'GET, HEAD' });
  });

  it('streams a snapshot, then one event per flush in which a symbol updated many times appears once, at its latest', async () => {
    const events = readEvents(`${dash.url}events?topics=market`, (e) => e.length >= 2);
    await new Promise((r) => setTimeout(r, 100));
    const rows = [];
    for (let i = 1; i <= 500; i++) for (const s of ['AAPL', 'MSFT']) rows.push({ row: marketRowOf(s, 1000 + i, 10 + i), point: pointOf(1000 + i, 10 + i) });
    source.emit({ rows });
    const got = await events;
    expect(got[0]?.market?.map((r) => r.symbol)).toEqual(['AAPL']);
    expect(got[1]?.market?.map((r) => [r.symbol, r.ts])).toEqual([
      ['AAPL', 1500],
      ['MSFT', 1500],
    ]);
  });

  it("gives a symbol's follower every new point of that symbol in order (its history is at /api/symbol/<SYM>)", async () => {
    const events = readEvents(`${dash.url}events?symbol=AAPL`, (e) => e.length >= 2);
    await new Promise((r) => setTimeout(r, 100));
    source.emit({ rows: [1, 2, 3].map((i) => ({ row: marketRowOf('AAPL', 1000 + i, 10), point: pointOf(1000 + i, 10) })).concat([{ row: marketRowOf('MSFT', 5, 1), point: pointOf(5, 1) }]) });
    const got = await events;
    expect(got.map((e) => e.points?.map((p) => p.ts))).toEqual([[], [1001, 1002, 1003]]);
    expect(JSON.parse((await request(`${dash.url}api/symbol/AAPL`)).body)).toEqual({ symbol: 'AAPL', ts: [1000], price: [10], volume: [100], sma5: [10], sma20: [10], bb_upper: [11], bb_lower: [9], rsi14: [50], signals: [], anomalies: [] });
  });
});

describe("the server tells its source what the open pages show", () => {
  let source: FakeSource;
  let dash: Dashboard;
  beforeEach(async () => {
    source = new FakeSource();
    dash = await startDashboard({ source, host: '127.0.0.1', port: 0, staticDir: '/nonexistent', flushMs: 20 });
  });
  afterEach(() => dash.close());

  /** Opens a stream and resolves once its snapshot arrived; destroy the request to close it. */
  const open = (query: string): Promise<http.ClientRequest> =>
    new Promise((resolve) => {
      const req = onServerEvents(`${dash.url}events?${query}`, () => resolve(req));
    });
  const none = { market: false, alerts: false, pipeline: false, symbols: [] };

  it('passes the union of the streams to watch() as streams open and close, once per change', async () => {
    const market = await open('topics=market');
    const aapl = await open('symbol=AAPL');
    const twice = await open('topics=market');
    const msft = await open('topics=alerts,pipeline&symbol=MSFT');
    const aapl2 = await open('symbol=AAPL');
    msft.destroy();
    await waitFor('MSFT closed', () => Promise.resolve(source.watched.length === 4 ? true : undefined), 5000, 10);
    market.destroy();
    twice.destroy();
    await waitFor('both market pages closed', () => Promise.resolve(source.watched.length === 5 ? true : undefined), 5000, 10);
    aapl.destroy();
    // one AAPL page is still open: nothing changes
    await waitFor('one AAPL page closed', () => Promise.resolve(dash.clients() === 1 ? true : undefined), 5000, 10);
    aapl2.destroy();
    await waitFor('the last page closed', () => Promise.resolve(source.watched.length === 6 ? true : undefined), 5000, 10);
    expect(source.watched).toEqual([
      { ...none, market: true },
      { ...none, market: true, symbols: ['AAPL'] },
      { market: true, alerts: true, pipeline: true, symbols: ['AAPL', 'MSFT'] },
      { ...none, market: true, symbols: ['AAPL'] },
      { ...none, symbols: ['AAPL'] },
      none,
    ]);
  });

  it('tells the source before it reads the snapshot, and tells it nothing is shown when the server closes', async () => {
    let atSnapshot: unknown;
    const market = source.market.bind(source);
    source.market = () => ((atSnapshot = source.watched.at(-1)), market());
    const req = await open('topics=market');
    expect(atSnapshot).toEqual({ ...none, market: true });
    await dash.close();
    req.destroy();
    expect(source.watched.at(-1)).toEqual(none);
  });
});

describe('dashboard token', () => {
  it('refuses to start on a non-loopback address without one', async () => {
    await expect(startDashboard({ source: new FakeSource(), host: '0.0.0.0', port: 0, staticDir: '/nonexistent' })).rejects.toThrow(DashboardTokenError);
    expect(() => loadDashboardConfig({ TICKSTREAM_DASHBOARD_HOST: '0.0.0.0' })).toThrow(new ConfigError('TICKSTREAM_DASHBOARD_TOKEN', 'a token (required because TICKSTREAM_DASHBOARD_HOST / --host is 0.0.0.0, not 127.0.0.1)'));
  });

  it('once set, is asked of every request: header, or a ?token= that becomes a cookie', async () => {
    const token = 'a-long-enough-test-token';
    const dash = await startDashboard({ source: new FakeSource(), host: '127.0.0.1', port: 0, token, staticDir: '/nonexistent' });
    try {
      const none = await request(`${dash.url}pipeline`);
      const wrong = await request(`${dash.url}pipeline`, { headers: { authorization: 'Bearer a-long-enough-test-tokem' } });
      const bearer = await request(`${dash.url}pipeline`, { headers: { authorization: `Bearer ${token}` } });
      const link = await request(`${dash.url}pipeline?token=${token}`);
      const cookie = (link.headers['set-cookie'] ?? [])[0]?.split(';')[0] ?? '';
      const withCookie = await request(`${dash.url}api/pipeline`, { headers: { cookie } });
      expect({ none: none.status, wrong: wrong.status, bearer: bearer.status, link: [link.status, link.headers.location], withCookie: withCookie.status }).toEqual({ none: 401, wrong: 401, bearer: 200, link: [303, '/pipeline'], withCookie: 200 });
    } finally {
      await dash.close();
    }
  });
});

describe('dashboard config', () => {
  it('binds 127.0.0.1 on a free port by default', () => {
    expect(loadDashboardConfig({})).toEqual({ host: '127.0.0.1', port: 0, token: undefined, mode: 'local' });
    expect(loadDashboardConfig({ TICKSTREAM_MODE: 'aws' }).mode).toBe('aws');
  });

  it("AWS mode: the stack's names from its outputs, each overridden by its variable, and a clear error for one missing", () => {
    const outputs = { LatestTableName: 'T-latest', TicksTableName: 'T-ticks', KclApplicationName: 'tick-stream', DeadLetterQueueUrl: 'https://sqs.us-east-1.amazonaws.com/1/dlq', AthenaWorkgroupName: 'tick-stream', AlertsTableName: 'T-alerts' };
    expect(loadAwsDashboardConfig({ TICKSTREAM_LATEST_TABLE: 'other' }, outputs).names).toEqual({
      latestTable: 'other',
      ticksTable: 'T-ticks',
      alertsTable: 'T-alerts',
      leaseTable: 'tick-stream',
      deadLetterQueueUrl: 'https://sqs.us-east-1.amazonaws.com/1/dlq',
      athena: { workgroup: 'tick-stream', database: 'tick_stream' },
    });
    // the region: AWS_REGION, else the one the queue's address names
    expect([loadAwsDashboardConfig({}, outputs).region, loadAwsDashboardConfig({ AWS_REGION: 'eu-west-1' }, outputs).region]).toEqual(['us-east-1', 'eu-west-1']);
    expect(() => loadAwsDashboardConfig({}, { ...outputs, DeadLetterQueueUrl: undefined } as unknown as Record<string, string>)).toThrow(/TICKSTREAM_DLQ_URL.*--outputs/);
  });
});
