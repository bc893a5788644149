/**
 * The HTML shells of the pages. They hold no data: every value reaches the
 * page as JSON and is written with textContent, so nothing a record, a
 * symbol or a dead letter's reason holds can run as markup. The few values
 * put into the shell (a symbol, an error message) go through escapeHtml.
 */
import { CHART_ATTRIBUTION, escapeHtml } from '../shared/web/assets';

type PageName = 'market' | 'symbol' | 'alerts' | 'pipeline';

const NAV: [PageName, string, string][] = [
  ['market', '/', 'Market'],
  ['alerts', '/alerts', 'Alerts'],
  ['pipeline', '/pipeline', 'Pipeline'],
];

function layout(o: { title: string; page: PageName | 'error'; body: string; scripts: string[]; data?: Record<string, string>; source: string }): string {
  const nav = NAV.map(([name, href, label]) => `<a href="${href}"${name === o.page ? ' aria-current="page"' : ''}>${label}</a>`).join('');
  const data = Object.entries(o.data ?? {})
    .map(([k, v]) => ` data-${k}="${escapeHtml(v)}"`)
    .join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(o.title)} · tickstream</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/style.css">
</head>
<body data-page="${o.page}"${data}>
<header><strong>tickstream</strong><nav>${nav}</nav><span id="conn" class="conn">connecting…</span><span class="source">${escapeHtml(o.source)}</span></header>
<main>
${o.body}
</main>
${o.scripts.map((s) => `<script type="module" src="${s}"></script>`).join('\n')}
</body>
</html>
`;
}

const ATTRIBUTION = `<p class="attribution"><a href="${CHART_ATTRIBUTION.href}" rel="noopener noreferrer">${escapeHtml(CHART_ATTRIBUTION.text)}</a></p>`;

export function marketPage(source: string): string {
  return layout({
    title: 'Market',
    page: 'market',
    source,
    scripts: ['/static/market.js'],
    body: `<div class="toolbar"><label>Filter <input id="filter" type="search" placeholder="symbol, UP, BUY…" autocomplete="off"></label><span id="count">0 symbols</span></div>
<div id="grid" class="grid" role="table" aria-label="market">
<div class="grid-head" role="row" id="grid-head"></div>
<div class="grid-body" id="grid-body"><div id="grid-spacer"></div></div>
</div>`,
  });
}

export function symbolPage(source: string, symbol: string): string {
  return layout({
    title: symbol,
    page: 'symbol',
    source,
    data: { symbol },
    scripts: ['/static/lightweight-charts.js', '/static/symbol.js'],
    body: `<h1>${escapeHtml(symbol)} <span id="last" class="last"></span></h1>
<div class="legend"><span class="k price">price</span><span class="k sma5">SMA-5</span><span class="k sma20">SMA-20</span><span class="k bb">Bollinger (20, 2)</span><span class="k vol">volume</span><span class="k rsi">RSI-14</span><span class="k buy">▲ BUY</span><span class="k sell">▼ SELL</span><span class="k anomaly">● anomaly</span><span id="lod" class="lod"></span></div>
<div id="chart" class="chart"></div>
${ATTRIBUTION}`,
  });
}

export function alertsPage(source: string, filter: { type?: string; symbol?: string }): string {
  return layout({
    title: 'Alerts',
    page: 'alerts',
    source,
    data: { type: filter.type ?? '', symbol: filter.symbol ?? '' },
    scripts: ['/static/alerts.js'],
    body: `<div class="toolbar"><label>Type <select id="type"><option value="">all</option><option>BUY</option><option>SELL</option><option>ANOMALY</option><option>VOLUME_SPIKE</option></select></label>
<label>Symbol <input id="symbol" type="search" autocomplete="off" maxlength="20"></label><span id="count"></span></div>
<ol id="feed" class="feed"></ol>`,
  });
}

export function pipelinePage(source: string): string {
  return layout({
    title: 'Pipeline',
    page: 'pipeline',
    source,
    scripts: ['/static/pipeline.js'],
    body: `<section class="figures" id="figures"></section>
<h2>Shards</h2>
<table class="table" id="shards"><thead><tr><th>shard</th><th>lease owner</th><th>last checkpoint</th><th>ms behind latest</th><th>records/s</th><th>last report</th></tr></thead><tbody></tbody></table>
<h2>Dead letters</h2>
<table class="table" id="reasons"><thead><tr><th>count</th><th>reason</th></tr></thead><tbody></tbody></table>
<ol id="letters" class="feed"></ol>
<h2>Errors</h2>
<ol id="errors" class="feed"></ol>`,
  });
}

/** A page for a refused or unknown request: status, one sentence, the way back. */
export function errorPage(source: string, status: number, message: string): string {
  return layout({
    title: String(status),
    page: 'error',
    source,
    scripts: [],
    body: `<h1>${status}</h1><p class="error-message">${escapeHtml(message)}</p><p><a href="/">Back to the market</a></p>`,
  });
}

export const STYLE = `
:root { --bg:#0f1419; --fg:#d8dee6; --dim:#7d8793; --line:#222b35; --up:#26a69a; --down:#ef5350; --accent:#4c9aff; font: 13px/1.4 system-ui, sans-serif; color-scheme: dark; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); }
header { display: flex; gap: 1.5em; align-items: center; padding: .6em 1em; border-bottom: 1px solid var(--line); }
header nav a { color: var(--fg); margin-right: 1em; text-decoration: none; }
header nav a[aria-current] { color: var(--accent); border-bottom: 2px solid var(--accent); }
.conn { color: var(--dim); } .conn.live { color: var(--up); } .conn.down { color: var(--down); }
.source { color: var(--dim); margin-left: auto; }
main { padding: 1em; }
.toolbar { display: flex; gap: 1em; align-items: center; margin-bottom: .6em; }
input, select { background: #17202a; color: var(--fg); border: 1px solid var(--line); padding: .3em .5em; }
.grid { border: 1px solid var(--line); }
.grid-head, .grid-row { display: grid; grid-template-columns: 7em 7em 6em 7em 7em 5em 5em 6em 6em 5em 12em; }
.grid-head > div { padding: .35em .5em; cursor: pointer; color: var(--dim); user-select: none; border-bottom: 1px solid var(--line); }
.grid-head > div[aria-sort] { color: var(--fg); }
.grid-body { height: calc(100vh - 11em); overflow-y: auto; position: relative; contain: strict; }
.grid-row { position: absolute; top: 0; left: 0; right: 0; height: 24px; }
.grid-row[hidden] { display: none; }
.grid-row > div { padding: .2em .5em; white-space: nowrap; overflow: hidden; font-variant-numeric: tabular-nums; }
.grid-row > div.num { text-align: right; }
.grid-row a { color: var(--accent); text-decoration: none; }
.up { color: var(--up); } .down { color: var(--down); }
.chart { height: calc(100vh - 13em); min-height: 420px; }
.legend { display: flex; gap: 1em; color: var(--dim); margin-bottom: .4em; }
.legend .lod { margin-left: auto; font-size: .85em; }
.k.sma5 { color: #f5a623; } .k.sma20 { color: #bd10e0; } .k.bb { color: #5a7fa8; } .k.rsi { color: #9b9b9b; } .k.buy { color: var(--up); } .k.sell { color: var(--down); } .k.anomaly { color: #f8e71c; }
.last { font-weight: normal; color: var(--dim); font-size: .7em; }
.attribution { color: var(--dim); font-size: .85em; } .attribution a { color: var(--dim); }
.feed { list-style: none; padding: 0; margin: 0; }
.feed li { padding: .3em .5em; border-bottom: 1px solid var(--line); white-space: pre-wrap; word-break: break-word; }
.feed .when { color: var(--dim); margin-right: .8em; font-variant-numeric: tabular-nums; }
.feed .tag { display: inline-block; min-width: 7em; font-weight: bold; }
.figures { display: flex; gap: 2.5em; margin-bottom: 1em; }
.figures div { display: flex; flex-direction: column; } .figures b { font-size: 1.6em; font-variant-numeric: tabular-nums; } .figures span { color: var(--dim); }
.table { border-collapse: collapse; margin-bottom: 1em; } .table th, .table td { text-align: left; padding: .3em .8em; border-bottom: 1px solid var(--line); } .table td.num { text-align: right; font-variant-numeric: tabular-nums; }
.error-message { font-size: 1.2em; }
`;
