/**
 * The shell of a self-contained HTML report: the charting library, the data
 * and the drawing script are inlined, so the file opens from disk with no
 * network, and a Content-Security-Policy says so to the browser as well.
 *
 * Pure: text in, HTML text out. Data goes in a `type="application/json"`
 * block (parsed, never run) through jsonForScript, text through escapeHtml;
 * the CSP admits only the two inline scripts written here (by their SHA-256),
 * so markup that slipped into a cell could not run even if an escape were
 * missed: no other script, no event-handler attribute, no request anywhere.
 */
import { createHash } from 'node:crypto';
import { CHART_ATTRIBUTION, escapeHtml, jsonForScript, lightweightChartsSource } from '../../shared/web/assets';

export interface PageParts {
  title: string;
  /** Trusted markup built by the renderers from escaped text. */
  body: string;
  /** The report's data, read by `script` as `DATA`. */
  data: unknown;
  /** Draws the charts; runs after the library set window.LightweightCharts. */
  script: string;
  /** Extra CSS for this kind of report. */
  style?: string;
}

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

const BASE_STYLE = `
:root { color-scheme: light; --fg: #1f2933; --muted: #616e7c; --line: #d9e2ec; --buy: #0b8a5f; --sell: #c62828; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1200px; padding: 16px 24px 32px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: #fff; }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 24px 0 8px; }
p.sub, .note { color: var(--muted); margin: 4px 0; }
.chart { height: 360px; border: 1px solid var(--line); border-radius: 4px; }
.chart.small { height: 200px; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; margin: 4px 0; color: var(--muted); font-size: 13px; }
.legend i { display: inline-block; width: 14px; height: 3px; vertical-align: middle; margin-right: 4px; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 10px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
th { background: #f5f7fa; position: sticky; top: 0; }
td.num, th.num { text-align: right; }
td.null { color: var(--muted); font-style: italic; }
.pos { color: var(--buy); } .neg { color: var(--sell); }
.scroll { max-height: 520px; overflow: auto; border: 1px solid var(--line); border-radius: 4px; }
pre { background: #f5f7fa; padding: 8px 12px; border-radius: 4px; overflow: auto; }
footer { margin-top: 28px; color: var(--muted); font-size: 12px; }
`;

export function renderPage(p: PageParts): string {
  const lib = lightweightChartsSource();
  // Inlined as is: a `</script` in it would end the block early. 5.2.1 has none; a new version is checked here.
  if (/<\/script|<!--/i.test(lib)) throw new Error('the lightweight-charts script cannot be inlined: it holds </script or <!--');
  // The drawing script finds its data by id; nothing else is global.
  const app = `(function () {\n"use strict";\nvar DATA = JSON.parse(document.getElementById("report-data").textContent);\n${p.script}\n})();`;
  const csp = `default-src 'none'; script-src ${sha256(lib)} ${sha256(app)}; style-src 'unsafe-inline'; img-src data:`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(p.title)}</title>
<style>${BASE_STYLE}${p.style ?? ''}</style>
</head>
<body>
${p.body}
<footer><a href="${escapeHtml(CHART_ATTRIBUTION.href)}" rel="noopener noreferrer">${escapeHtml(CHART_ATTRIBUTION.text)}</a> (Apache-2.0)</footer>
<script type="application/json" id="report-data">${jsonForScript(p.data)}</script>
<script>${lib}</script>
<script>${app}</script>
</body>
</html>
`;
}

/** `1.2 MB`, `730 kB`, `512 B`: the size printed after a report is written. */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  if (n < 1_000_000) return `${(n / 1000).toFixed(1)} kB`;
  return `${(n / 1_000_000).toFixed(1)} MB`;
}
