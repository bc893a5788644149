import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { SymbolAnalyzer } from '../../../analytics';
import { toJsonLine } from '../../../consumer/sinks/rows';
import { loadInfraConfig, type InfraConfig } from '../../../shared/runtime/deploy-config';
import { main, parseCostArgs } from '../../../tools/cost/main';
import { dashboardAlertReads, monthlyCost, ROW_JSON_BYTES, STATE_ITEM_WRU, type CostReport, type Workload } from '../../../tools/cost/model';
import { PRICES } from '../../../tools/cost/prices';
import { readmeCostSection, BEGIN, END } from '../../../tools/cost/readme';
import { tick as rawTick } from '../analytics/factories';
import { tick } from '../consumer/factories';

const ROOT = path.join(__dirname, '../../..');
const CDK_CONTEXT = (JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
const cfg = (ctx: Record<string, unknown> = {}): InfraConfig => loadInfraConfig((k) => ({ ...CDK_CONTEXT, ...ctx })[k]);
const LOW: Workload = { ticksPerDay: 100_000, symbols: 100, dashboard: false };
const HIGH: Workload = { ticksPerDay: 10_000_000, symbols: 2000, dashboard: false };

const round2 = (x: number): number => Math.round(x * 100) / 100;
const line = (r: CostReport, item: string): number | undefined => r.items.find((i) => i.item === item)?.usd_per_month;
/** Every line whose figure differs between two reports (a line present in one only counts). */
function changed(a: CostReport, b: CostReport): string[] {
  const names = new Set([...a.items, ...b.items].map((i) => i.item));
  return [...names].filter((n) => line(a, n) !== line(b, n)).sort();
}

describe('each lever moves its own lines', () => {
  const base = monthlyCost(cfg(), HIGH);

  test('natGateways=0: the NAT lines go, a public IPv4 per task comes', () => {
    const r = monthlyCost(cfg({ natGateways: '0' }), HIGH);
    expect(changed(base, r)).toEqual(['NAT gateway data', 'NAT gateway hours', 'Public IPv4 (NAT gateways)', 'Public IPv4 (tasks, no NAT)']);
    expect(line(r, 'Public IPv4 (tasks, no NAT)')).toBeCloseTo(2 * 730 * PRICES.publicIpv4Hour.usd, 2);
    expect(r.total_usd_per_month).toBeLessThan(base.total_usd_per_month);
  });

  test('a second NAT gateway doubles its hours and its address', () => {
    const r = monthlyCost(cfg({ natGateways: '2' }), HIGH);
    expect(changed(base, r)).toEqual(['NAT gateway hours', 'Public IPv4 (NAT gateways)']);
    expect(line(r, 'NAT gateway hours')).toBeCloseTo(2 * (line(base, 'NAT gateway hours') ?? 0), 2);
  });

  test('consumerSpot: only the consumer line, ~70 % lower', () => {
    const r = monthlyCost(cfg({ consumerSpot: 'true' }), HIGH);
    expect(changed(base, r)).toEqual(['Fargate consumer']);
    expect((line(r, 'Fargate consumer') ?? 0) / (line(base, 'Fargate consumer') ?? 1)).toBeCloseTo(0.3, 2);
  });

  test('producerSpot: only the producer line', () => {
    expect(changed(base, monthlyCost(cfg({ producerSpot: 'true' }), HIGH))).toEqual(['Fargate producer']);
  });

  test('arm64: both tasks cheaper, unless on Spot (Fargate Spot has no ARM64)', () => {
    const arm = monthlyCost(cfg({ arm64: 'true' }), HIGH);
    expect(changed(base, arm)).toEqual(['Fargate consumer', 'Fargate producer']);
    expect(line(arm, 'Fargate producer')).toBeLessThan(line(base, 'Fargate producer') ?? 0);
    const spot = monthlyCost(cfg({ consumerSpot: 'true' }), HIGH);
    expect(changed(spot, monthlyCost(cfg({ consumerSpot: 'true', arm64: 'true' }), HIGH))).toEqual(['Fargate producer']);
  });

  test('one shard: half the shard-hours, and one lease for the KCL to renew', () => {
    const r = monthlyCost(cfg({ shards: '1' }), HIGH);
    expect(changed(base, r)).toEqual(['DynamoDB KCL leases and checkpoints', 'Kinesis shard-hours']);
    expect(line(r, 'Kinesis shard-hours')).toBeCloseTo((line(base, 'Kinesis shard-hours') ?? 0) / 2, 2);
  });

  test('a longer checkpoint cadence: fewer state snapshots and KCL checkpoints, nothing else', () => {
    const r = monthlyCost(cfg({ checkpointMs: '120000' }), HIGH);
    expect(changed(base, r)).toEqual(['DynamoDB KCL leases and checkpoints', 'DynamoDB state snapshots']);
    expect(line(r, 'DynamoDB state snapshots')).toBeCloseTo((line(base, 'DynamoDB state snapshots') ?? 0) / 4, 1);
  });

  test('snapshots: one per tick when a checkpoint is shorter than the gap between a symbol\'s ticks, at 1 WRU', () => {
    // 10M ticks/day from 2,000 symbols: a tick every 4.68 s per symbol; a 1 s checkpoint touches each tick's symbol once
    const r = monthlyCost(cfg({ checkpointMs: '1000' }), HIGH);
    expect(line(r, 'DynamoDB state snapshots')).toBeCloseTo(((10_000_000 * 30) / 1e6) * STATE_ITEM_WRU * PRICES.dynamoWriteMillion.usd, 1);
  });

  test('firehosePack=false: the 5 KB steps are billed per row, ~8x', () => {
    const r = monthlyCost(cfg({ firehosePack: 'false' }), HIGH);
    expect(changed(base, r)).toEqual(['Firehose ingestion + Parquet conversion']);
    expect((line(r, 'Firehose ingestion + Parquet conversion') ?? 0) / (line(base, 'Firehose ingestion + Parquet conversion') ?? 1)).toBeCloseTo(8, 1);
  });

  test('ticksTable=false: its writes and most of the storage go', () => {
    const r = monthlyCost(cfg({ ticksTable: 'false' }), HIGH);
    expect(changed(base, r)).toEqual(['DynamoDB storage + PITR', 'DynamoDB ticks writes']);
    expect(line(r, 'DynamoDB ticks writes')).toBeUndefined();
  });

  test('containerInsights=false: its line goes', () => {
    expect(changed(base, monthlyCost(cfg({ containerInsights: 'false' }), HIGH))).toEqual(['Container Insights']);
  });

  test('an open dashboard adds a line per page, and one that says a dashboard with no page open reads nothing', () => {
    const r = monthlyCost(cfg(), { ...HIGH, dashboard: true });
    expect(changed(base, r)).toEqual(['Dashboard alerts page', 'Dashboard market page', 'Dashboard pipeline page', 'Dashboard running, no page open', 'Dashboard symbol page']);
    for (const page of ['market', 'symbol', 'alerts', 'pipeline']) expect(line(r, `Dashboard ${page} page`)).toBeGreaterThan(0);
    expect(line(r, 'Dashboard running, no page open')).toBe(0);
  });

  test('the market page, by hand: 2,000 rows x 450 B = 220 x 4 KB, 110 RRU a Scan, every 3 s for 6.5 h x 21 days', () => {
    const r = monthlyCost(cfg(), { ...HIGH, dashboard: true });
    expect(line(r, 'Dashboard market page')).toBeCloseTo(round2(((163_800 * 110) / 1e6) * PRICES.dynamoReadMillion.usd), 6);
  });

  test("the pipeline page, by hand: a 0.5 RRU lease Scan every 10 s and the DLQ's depth every 30 s", () => {
    const r = monthlyCost(cfg(), { ...HIGH, dashboard: true });
    expect(line(r, 'Dashboard pipeline page')).toBeCloseTo(round2(((49_140 * 0.5) / 1e6) * PRICES.dynamoReadMillion.usd + (16_380 / 1e6) * PRICES.sqsRequestMillion.usd), 6);
  });

  test("the alerts page's line holds its index Queries", () => {
    const r = monthlyCost(cfg(), { ...HIGH, dashboard: true });
    expect(r.items.find((i) => i.item === 'Dashboard alerts page')?.detail).toContain('the alerts index every 5 s (~21 index entries, 1 RRU a Query)');
    expect(line(r, 'Dashboard alerts page')).toBeCloseTo(round2((dashboardAlertReads(2000).rruPerMonth / 1e6) * PRICES.dynamoReadMillion.usd), 6);
  });

  test('the alerts index costs one more WRU per alert: its entry', () => {
    // 2,000 symbols x 2 alerts a day x 30 days x 2 WRU
    expect(line(base, 'DynamoDB alert dedup writes')).toBeCloseTo((2000 * 2 * 30 * 2 * PRICES.dynamoWriteMillion.usd) / 1e6, 6);
  });

  test('more producer tasks bring the group leases (a single task runs without them)', () => {
    const r = monthlyCost(cfg({ producerTasks: '2' }), HIGH);
    expect(changed(base, r)).toEqual(['CloudWatch Logs', 'Container Insights', 'DynamoDB producer leases', 'Fargate producer', 'KMS']);
  });
});

describe("the alerts page's reads, by hand", () => {
  // 6.5 h x 21 days open, a poll every 5 s: 98,280 polls; the first read once a day: 200 x 250 B in 13 x 4 KB (6.5 RRU) + 7 days x 0.5 = 10 RRU
  test('2,000 symbols: 4,000 alerts over 23,400 s of market, 125 s read per poll = 21.4 entries, 5.3 KB: two 4 KB units, 1 RRU', () => {
    const r = dashboardAlertReads(2000);
    expect(r.entriesPerPoll).toBeCloseTo(21.37, 2);
    expect(r.rruPerPoll).toBe(1);
    expect(r.rruPerMonth).toBeCloseTo(98_280 * 1 + 21 * 10, 6);
  });

  test('100 symbols: about one entry a poll, the half-RRU minimum of a Query', () => {
    const r = dashboardAlertReads(100);
    expect(r.rruPerPoll).toBe(0.5);
    expect(r.rruPerMonth).toBeCloseTo(98_280 * 0.5 + 21 * 10, 6);
  });

  test('a flood of alerts reads at most the limit per poll: 200 x 250 B, 13 units, 6.5 RRU', () => {
    expect(dashboardAlertReads(1_000_000)).toMatchObject({ entriesPerPoll: 200, rruPerPoll: 6.5 });
  });
});

describe('the goals', () => {
  test('lean at 100K ticks/day from 100 symbols is at most $45/month', () => {
    const r = monthlyCost(cfg({ profile: 'lean' }), LOW);
    expect(r.total_usd_per_month).toBeLessThanOrEqual(45);
  });

  test('default at 10M ticks/day from 2,000 symbols: the ticks table is the line over $500', () => {
    const withTicks = monthlyCost(cfg(), HIGH);
    const without = monthlyCost(cfg({ ticksTable: 'false' }), HIGH);
    expect(withTicks.total_usd_per_month).toBeGreaterThan(500);
    expect(without.total_usd_per_month).toBeLessThanOrEqual(500);
  });

  test('the total is the sum of the lines', () => {
    const r = monthlyCost(cfg(), HIGH);
    expect(r.total_usd_per_month).toBeCloseTo(r.items.reduce((s, i) => s + i.usd_per_month, 0), 2);
  });
});

describe('the model\'s sizes match the code', () => {
  test('an enriched row as JSON to Firehose is about ROW_JSON_BYTES', () => {
    const n = Buffer.byteLength(toJsonLine(tick()));
    expect(n).toBeGreaterThan(ROW_JSON_BYTES * 0.5);
    expect(n).toBeLessThanOrEqual(ROW_JSON_BYTES);
  });

  test('the fullest state snapshot item (longest symbol, the snapshot, last_ts) is at most 1 KB: one WRU', () => {
    const symbol = 'ABCDEFGHIJ.KLMNOPQRS';
    const a = new SymbolAnalyzer(symbol);
    for (let i = 0; i < 100; i++) a.analyze(rawTick({ symbol, ts: 1_700_000_000_000 + i * 1000, price: 100 + Math.sin(i), volume: 1000 + i }));
    // DynamoDB item size: attribute names + values; a number is ~1 byte per 2 digits + 1.
    const item = 'symbol'.length + symbol.length + 'state'.length + Buffer.byteLength(JSON.stringify(a.getState())) + 'last_ts'.length + Math.ceil(13 / 2) + 1;
    expect(item).toBeLessThanOrEqual(1024 * STATE_ITEM_WRU);
  });

  test('every price is cited and dated', () => {
    for (const [name, p] of Object.entries(PRICES)) {
      expect({ name, source: p.source }).toEqual({ name, source: expect.stringMatching(/^https:\/\/aws\.amazon\.com\//) as unknown });
      expect({ name, asOf: p.asOf }).toEqual({ name, asOf: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/) as unknown });
    }
  });
});

describe('npm run cost', () => {
  const run = (argv: string[]): { code: number; out: string; err: string } => {
    let out = '';
    let err = '';
    const code = main(argv, ROOT, { out: (s) => (out += s), err: (s) => (err += s) });
    return { code, out, err };
  };

  test('--format json prints the total and the items', () => {
    const r = run(['--ticks-per-day', '100000', '--symbols', '100', '--profile', 'lean', '--format', 'json']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out) as CostReport;
    expect(json.total_usd_per_month).toBe(monthlyCost(cfg({ profile: 'lean' }), LOW).total_usd_per_month);
    expect(json.items[0]).toEqual({ item: expect.any(String) as unknown, usd_per_month: expect.any(Number) as unknown, detail: expect.any(String) as unknown });
  });

  test('-c values are read as the CDK app reads them: a value synth refuses is refused here (exit 78)', () => {
    const r = run(['--ticks-per-day', '1000', '-c', 'natGateways=7']);
    expect(r.code).toBe(78);
    expect(r.err).toContain('context "natGateways"');
  });

  test('bad usage exits 2 with the usage line', () => {
    expect(run([]).code).toBe(2);
    expect(run(['--ticks-per-day', 'many']).err).toContain('usage: npm run cost');
    expect(() => parseCostArgs(['--ticks-per-day', '1', '-c', 'dashboard=maybe'])).toThrow('dashboard');
  });

  test('--symbols defaults to the configured symbol list', () => {
    const a = parseCostArgs(['--ticks-per-day', '1000', '-c', 'symbols=AAPL,MSFT,IBM']);
    expect(a).toMatchObject({ symbols: undefined, context: { symbols: 'AAPL,MSFT,IBM' } });
  });
});

test('the README cost tables are the model\'s output (npm run cost:readme regenerates them)', () => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const inReadme = readme.slice(readme.indexOf(BEGIN), readme.indexOf(END) + END.length);
  expect(inReadme).toBe(readmeCostSection(CDK_CONTEXT));
});
