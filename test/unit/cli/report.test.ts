import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { main as backtestMain, runBacktest } from '../../../cli/backtest';
import { CrossoverStrategy } from '../../../cli/backtest-core';
import { formatReport, reportFacts, type BacktestSummary } from '../../../cli/backtest-report';
import { main as queryMain, parseArgs as parseQueryArgs } from '../../../cli/query';
import { BacktestChartCollector, type BacktestChartData } from '../../../cli/report/backtest-chart';
import { MAX_MARKED_TRADES, renderBacktestHtml, tradeMarkers, type BacktestPageData } from '../../../cli/report/backtest-html';
import { formatBytes } from '../../../cli/report/page';
import { MAX_LINES, queryChart } from '../../../cli/report/query-chart';
import { MAX_TABLE_ROWS, renderQueryHtml } from '../../../cli/report/query-html';
import type { Cell, QueryResult } from '../../../lake/query';
import { CHART_ATTRIBUTION, escapeHtml, lightweightChartsSource } from '../../../shared/web/assets';
import { randomWalk } from '../analytics/factories';

const MARKUP = '</script><img src=x onerror="document.title=\'pwned\'"><!--';

function collect(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/** The page's inline data block, parsed back. */
function dataOf(html: string): unknown {
  const m = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html);
  if (m === null) throw new Error('no data block');
  return JSON.parse(m[1] as string);
}

/** Every <script> tag's opening tag and text. */
function scripts(html: string): { tag: string; text: string }[] {
  return [...html.matchAll(/(<script[^>]*>)([\s\S]*?)<\/script>/g)].map((m) => ({ tag: m[1] as string, text: m[2] as string }));
}

/** What a page holds outside its scripts: the markup a browser parses as HTML. */
function markupOf(html: string): string {
  return html.replace(/<script[^>]*>[\s\S]*?<\/script>/g, '');
}

function expectSafePage(html: string): void {
  const s = scripts(html);
  expect(s.map((x) => x.tag)).toEqual(['<script type="application/json" id="report-data">', '<script>', '<script>']);
  expect(s[1]?.text).toBe(lightweightChartsSource());
  // The CSP admits exactly the two scripts written, by hash: no other script, no inline handler, no request.
  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html)?.[1] ?? '';
  const hashes = [s[1]?.text ?? '', s[2]?.text ?? ''].map((t) => `'sha256-${createHash('sha256').update(t, 'utf8').digest('base64')}'`);
  expect(csp).toBe(`default-src 'none'; script-src ${hashes.join(' ')}; style-src 'unsafe-inline'; img-src data:`.replace(/'/g, '&#39;'));
  const markup = markupOf(html);
  expect(markup).not.toMatch(/<img|<!--|onerror="/i);
  expect(markup).toContain(escapeHtml(CHART_ATTRIBUTION.text));
  expect(markup).toContain(`href="${CHART_ATTRIBUTION.href}"`);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'report-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeBars(name: string, n: number): Promise<string> {
  const closes = randomWalk(n, 23, 100, 0.004);
  const lines = ['timestamp,open,close,volume'];
  closes.forEach((c, i) => {
    const t = new Date(Date.UTC(2023, 6, 3, 13, 30) + Math.floor(i / 390) * 86_400_000 + (i % 390) * 60_000);
    lines.push(`${t.toISOString()},${c},${c},${1000 + (i % 7) * 100}`);
  });
  const file = path.join(dir, name);
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

async function backtestWithChart(file: string, maxPoints?: number): Promise<{ summary: BacktestSummary; chart: BacktestChartData }> {
  const collector = new BacktestChartCollector(maxPoints);
  const summary = await runBacktest({ csv: file, symbol: 'AAPL', out: undefined, json: false, allTrades: false }, { stderr: collect().stream, chart: collector });
  return { summary, chart: collector.data() };
}

const max = (xs: readonly number[]): number => xs.reduce((a, b) => Math.max(a, b), 0);

describe('backtest chart series', () => {
  it('every bar at full resolution: the curves end at the printed returns and dip to the printed drawdowns', async () => {
    const { summary, chart } = await backtestWithChart(await writeBars('full.csv', 1200));
    const st = summary.strategy;
    expect(st.trades.length).toBeGreaterThan(5);
    expect(chart).toMatchObject({ barsPerPoint: 1, bars: 1200 });
    expect(chart.time).toHaveLength(1200);
    expect(chart.equity.at(-1)).toBeCloseTo(1 + st.totalReturn, 12);
    expect(chart.hold.at(-1)).toBeCloseTo(1 + st.buyAndHoldReturn, 12);
    expect(max(chart.drawdown)).toBe(st.maxDrawdown);
    expect(max(chart.holdDrawdown)).toBe(st.buyAndHoldMaxDrawdown);
    expect(chart.sma5.slice(0, 4)).toEqual([null, null, null, null]);
    expect(chart.sma5[4]).toEqual(expect.any(Number));
    expect(chart.sma20.filter((v) => v === null)).toHaveLength(19);
  });

  it('merges points in pairs past the limit, keeping the last bar, the worst drawdown and strictly increasing times', async () => {
    const file = await writeBars('merged.csv', 1000);
    const full = (await backtestWithChart(file)).chart;
    const { summary, chart } = await backtestWithChart(file, 64);
    expect(chart.time.length).toBeLessThanOrEqual(64);
    expect(chart.time.length).toBeGreaterThanOrEqual(32);
    expect(chart.barsPerPoint).toBe(16);
    expect(chart.time.every((t, i) => i === 0 || t > (chart.time[i - 1] as number))).toBe(true);
    // Point k stands for bars k*16 .. k*16+15: its last bar's values, its worst drawdown.
    chart.time.forEach((t, k) => {
      const last = Math.min(k * 16 + 15, 999);
      expect([t, chart.close[k], chart.equity[k]]).toEqual([full.time[last], full.close[last], full.equity[last]]);
      expect(chart.drawdown[k]).toBe(max(full.drawdown.slice(k * 16, last + 1)));
    });
    expect(chart.equity.at(-1)).toBeCloseTo(1 + summary.strategy.totalReturn, 12);
    expect(max(chart.drawdown)).toBe(summary.strategy.maxDrawdown);
  });

  it('folds bars of one second into one point (the chart has one point per second)', () => {
    const c = new BacktestChartCollector();
    const s = new CrossoverStrategy();
    for (const [ts, close] of [
      [1000, 10],
      [1400, 11],
      [2000, 12],
    ] as const) {
      s.onBar(ts, close, null);
      c.add({ ts, close, sma5: null, sma20: null, mark: s.mark() });
    }
    expect(c.data()).toMatchObject({ bars: 3, time: [1, 2], close: [11, 12] });
  });

  it('marks trades on the chart points that hold their bars, and only the first and last when there are very many', () => {
    const times = [60, 120, 180, 240];
    const trade = (entrySec: number, exitSec: number, open = false): Parameters<typeof tradeMarkers>[0][number] => ({ entryTs: entrySec * 1000, entryPrice: 1, exitTs: exitSec * 1000, exitPrice: 2, return: 1, open });
    expect(tradeMarkers([trade(100, 180), trade(200, 240, true)], times).markers).toEqual([
      { time: 120, side: 'BUY', price: 1 },
      { time: 180, side: 'SELL', price: 2 },
      { time: 240, side: 'BUY', price: 1 },
    ]);
    const many = Array.from({ length: MAX_MARKED_TRADES + 10 }, (_, i) => trade(i, i));
    const { markers, markedTrades } = tradeMarkers(many, times);
    expect(markedTrades).toBe(MAX_MARKED_TRADES);
    expect(markers).toHaveLength(2 * MAX_MARKED_TRADES);
  });
});

describe('backtest HTML report', () => {
  it('shows the statistics the CLI prints, from the same facts, and its data round-trips', async () => {
    const { summary, chart } = await backtestWithChart(await writeBars('stats.csv', 900));
    const html = renderBacktestHtml(summary, chart, { allTrades: false, generatedAt: Date.UTC(2026, 0, 1) });
    expectSafePage(html);
    const text = formatReport(summary, false);
    const facts = reportFacts(summary);
    for (const f of [...facts.before, ...facts.after].flat()) {
      expect(text).toContain(`${f.label}: ${f.value}`);
      expect(html).toContain(`<th scope="row">${escapeHtml(f.label)}</th><td>${escapeHtml(f.value)}</td>`);
    }
    for (const t of summary.strategy.trades) expect(html).toContain(`<td class="num">${t.entryPrice.toFixed(4)}</td>`);
    const data = dataOf(html) as BacktestPageData;
    expect(data.chart).toEqual(chart);
    expect(data.markers).toEqual(tradeMarkers(summary.strategy.trades, chart.time).markers);
    for (const id of ['chart-price', 'chart-equity', 'chart-drawdown']) expect(html).toContain(`id="${id}"`);
  });

  it('escapes markup in the symbol and the file name: it cannot end the script or run', async () => {
    const { summary, chart } = await backtestWithChart(await writeBars('x.csv', 50));
    const html = renderBacktestHtml({ ...summary, symbol: MARKUP, file: `/tmp/${MARKUP}.csv` }, chart, { allTrades: true, generatedAt: 0 });
    expectSafePage(html);
    expect(html).toContain(`<h1>Backtest ${escapeHtml(MARKUP)}</h1>`);
    expect(html).toContain(`<title>Backtest ${escapeHtml(MARKUP)}</title>`);
  });

  it('with no trades: says so, draws no markers', () => {
    const s = new CrossoverStrategy();
    const c = new BacktestChartCollector();
    for (let i = 0; i < 10; i++) {
      s.onBar(i * 60_000, 100 + i, null);
      c.add({ ts: i * 60_000, close: 100 + i, sma5: null, sma20: null, mark: s.mark() });
    }
    const summary: BacktestSummary = { symbol: 'Q', file: 'q.csv', lines: 11, barsApplied: 10, badRows: 0, outOfOrderRows: 0, firstTs: 0, lastTs: 540_000, signals: { BUY: 0, SELL: 0 }, alerts: { BUY: 0, SELL: 0, ANOMALY: 0, VOLUME_SPIKE: 0 }, strategy: s.stats(), elapsedSeconds: 0.1 };
    const html = renderBacktestHtml(summary, c.data(), { allTrades: false, generatedAt: 0 });
    expect(html).toContain('<p class="note">no trades</p>');
    expect((dataOf(html) as BacktestPageData).markers).toEqual([]);
    expect(html).toContain('n/a (no trades)');
  });
});

const iso = (min: number): string => new Date(Date.UTC(2024, 2, 1, 14, 0) + min * 60_000).toISOString();
const sec = (min: number): number => Date.UTC(2024, 2, 1, 14, 0) / 1000 + min * 60;

describe('which chart fits a query result', () => {
  it('volume by hour: bars of the volume added up over the symbols', () => {
    const res: QueryResult = {
      columns: ['symbol', 'hour_start', 'total_volume', 'ticks'],
      rows: [
        ['AAPL', iso(0), 100, 2],
        ['MSFT', iso(0), 50, 1],
        ['AAPL', iso(60), 70, 1],
        ['MSFT', iso(60), 30, 3],
      ],
    };
    expect(queryChart(res)).toEqual({
      kind: 'histogram',
      timeColumn: 'hour_start',
      valueColumn: 'total_volume',
      series: [{ name: 'total_volume (all symbols)', points: [{ time: sec(0), value: 150 }, { time: sec(60), value: 100 }], markers: [] }],
      note: 'total_volume added up over 2 symbols per time',
    });
  });

  it('a price series: a line per symbol, in time order whatever the row order, signals marked on one symbol', () => {
    const res: QueryResult = {
      columns: ['symbol', 'ts', 'signal', 'price', 'sma5'],
      rows: [
        ['AAPL', iso(2), 'SELL', 101, 100],
        ['AAPL', iso(0), 'BUY', 99, 100],
        ['AAPL', iso(1), null, 100, null],
      ],
    };
    expect(queryChart(res)).toEqual({
      kind: 'line',
      timeColumn: 'ts',
      valueColumn: 'price',
      series: [
        {
          name: 'AAPL',
          points: [
            { time: sec(0), value: 99 },
            { time: sec(1), value: 100 },
            { time: sec(2), value: 101 },
          ],
          markers: [
            { time: sec(0), signal: 'BUY' },
            { time: sec(2), signal: 'SELL' },
          ],
        },
      ],
      note: null,
    });
    const two = queryChart({ ...res, rows: [...res.rows, ['MSFT', iso(0), 'BUY', 5, null], ['MSFT', iso(3), null, 6, null]] });
    expect(two?.series.map((s) => [s.name, s.markers.length])).toEqual([
      ['AAPL', 0],
      ['MSFT', 0],
    ]);
    expect(two?.note).toMatch(/markers are drawn for one symbol/);
  });

  it(`at most ${MAX_LINES} lines: the symbols with the most rows`, () => {
    const rows: Cell[][] = [];
    for (let s = 0; s < MAX_LINES + 3; s++) for (let i = 0; i < 2 + s; i++) rows.push([`S${s}`, iso(i), i]);
    const chart = queryChart({ columns: ['symbol', 'ts', 'price'], rows });
    expect(chart?.series.map((s) => s.name)).toEqual(Array.from({ length: MAX_LINES }, (_, k) => `S${MAX_LINES + 2 - k}`));
    expect(chart?.note).toBe(`the ${MAX_LINES} symbols with the most rows of ${MAX_LINES + 3}`);
  });

  it('none for one point per symbol (top movers), no timestamp column or no numbers', () => {
    const movers: QueryResult = {
      columns: ['symbol', 'ts', 'price', 'previous_close', 'change_pct'],
      rows: [
        ['AAPL', iso(0), 1, 1, 9],
        ['MSFT', iso(5), 1, 1, -8],
      ],
    };
    expect(queryChart(movers)).toBeNull();
    expect(queryChart({ columns: ['symbol', 'n'], rows: [['A', 1], ['B', 2]] })).toBeNull();
    expect(queryChart({ columns: ['ts', 'note'], rows: [[iso(0), 'a'], [iso(1), 'b']] })).toBeNull();
    expect(queryChart({ columns: ['ts', 'price'], rows: [] })).toBeNull();
  });
});

describe('query HTML report', () => {
  it('escapes every cell and column name, shows NULL, and the chart data round-trips', () => {
    const result: QueryResult = {
      columns: ['symbol', 'hour_start', 'total_volume', MARKUP],
      rows: [
        [MARKUP, iso(0), 10, null],
        ['B&B', iso(60), 20, 'x<y'],
      ],
    };
    const html = renderQueryHtml({ title: MARKUP, description: MARKUP, sql: `SELECT '${MARKUP}'`, source: MARKUP, result, generatedAt: 0 });
    expectSafePage(html);
    expect(html).toContain(`<td>${escapeHtml(MARKUP)}</td>`);
    expect(html).toContain('<td>B&amp;B</td>');
    expect(html).toContain('<td>x&lt;y</td>');
    expect(html).toContain('<td class="null">NULL</td>');
    expect(html).toContain('<td class="num">20</td>');
    expect(html).toContain(`<th>${escapeHtml(MARKUP)}</th>`);
    expect(dataOf(html)).toEqual({ chart: queryChart(result), palette: expect.any(Array) as unknown });
    expect(html).toContain('id="chart"');
  });

  it(`lists at most ${MAX_TABLE_ROWS.toLocaleString('en-US')} rows and says so; no chart section when none fits`, () => {
    const rows: Cell[][] = Array.from({ length: MAX_TABLE_ROWS + 5 }, (_, i) => [`S${i}`, i]);
    const html = renderQueryHtml({ title: 'SQL query', description: null, sql: 'SELECT 1', source: 'here', result: { columns: ['symbol', 'n'], rows }, generatedAt: 0 });
    expect(html.match(/<tr><td>/g)).toHaveLength(MAX_TABLE_ROWS);
    expect(html).toContain(`the first 10,000 of 10,005 rows`);
    expect(html).not.toContain('id="chart"');
    expect((dataOf(html) as { chart: unknown }).chart).toBeNull();
  });

  it('formats sizes for the line printed after writing', () => {
    expect([formatBytes(512), formatBytes(73_060), formatBytes(1_234_567)]).toEqual(['512 B', '73.1 kB', '1.2 MB']);
  });
});

describe('--html on the command line', () => {
  it('backtest: writes the report and prints its absolute path and size', async () => {
    const bars = await writeBars('cli.csv', 300);
    const out = collect();
    const err = collect();
    const file = path.join(dir, 'cli-report.html');
    expect(await backtestMain(['--csv', bars, '--symbol', 'CLI', '--html', file, '--json'], out.stream, err.stream)).toBe(0);
    const size = (await stat(file)).size;
    expect(err.text()).toContain(`report: ${file} (${formatBytes(size)})\n`);
    // stdout stays the JSON summary; the report shows the same numbers.
    const summary = JSON.parse(out.text()) as BacktestSummary;
    const html = await readFile(file, 'utf8');
    for (const f of reportFacts(summary).after.flat().filter((x) => x.label !== 'elapsed')) expect(html).toContain(escapeHtml(f.value));
  });

  it('backtest: a bad --html value is a usage error; an unwritable path fails before the run, naming why', async () => {
    const bars = await writeBars('bad.csv', 30);
    const run = async (html: string[]): Promise<{ code: number; out: string; err: string }> => {
      const out = collect();
      const err = collect();
      const code = await backtestMain(['--csv', bars, ...html], out.stream, err.stream);
      return { code, out: out.text(), err: err.text() };
    };
    expect(await run(['--html'])).toMatchObject({ code: 2, err: expect.stringContaining("argument missing") as unknown });
    expect(await run(['--html', 'report.txt'])).toMatchObject({ code: 2, err: expect.stringContaining('--html must name an .html file') as unknown });
    const noDir = path.join(dir, 'no', 'such', 'dir', 'r.html');
    expect(await run(['--html', noDir])).toEqual({ code: 1, out: '', err: `backtest: cannot write ${noDir}: the directory ${path.dirname(noDir)} does not exist\n` });
    const isDir = path.join(dir, 'folder.html');
    await mkdir(isDir);
    expect(await run(['--html', isDir])).toEqual({ code: 1, out: '', err: `backtest: cannot write ${isDir}: it is a directory\n` });
  });

  it('query: parses --html; prints the table too only with --format; an unwritable path fails before the query', async () => {
    expect(parseQueryArgs(['signals', '--html', 'o.html'], '/r')).toEqual({ query: 'signals', format: 'table', lake: '/r/data/lake', range: {}, html: { file: 'o.html', alsoPrint: false } });
    expect(parseQueryArgs(['signals', '--format', 'csv', '--html', 'o.htm'], '/r').html).toEqual({ file: 'o.htm', alsoPrint: true });
    expect(() => parseQueryArgs(['signals', '--html'], '/r')).toThrow('--html needs a value');
    expect(() => parseQueryArgs(['signals', '--html', 'o.csv'], '/r')).toThrow('--html must name an .html file, got "o.csv"');
    const out = collect();
    const errs: string[] = [];
    const write = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      errs.push(String(chunk));
      return true;
    });
    try {
      const noDir = path.join(dir, 'missing', 'q.html');
      // The lake does not exist either: the path is checked first, so that is what is reported.
      expect(await queryMain(['signals', '--lake', path.join(dir, 'nolake'), '--html', noDir], { TICKSTREAM_MODE: 'local' }, out.stream, dir)).toBe(1);
      expect(errs.join('')).toBe(`query: cannot write ${noDir}: the directory ${path.dirname(noDir)} does not exist\n`);
    } finally {
      write.mockRestore();
    }
    expect(out.text()).toBe('');
  });
});
