/**
 * Front-end assets that both the live dashboard (served) and the chart reports
 * (inlined into one self-contained HTML file) use, so there is one place that
 * knows where the charting library's file lives and what its licence asks for.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * lightweight-charts v5 is ESM-only through its package exports, and its
 * exports map hides `dist/`; the standalone build (a classic script that sets
 * `window.LightweightCharts`) is what a page without a bundler can load, so we
 * find it next to the package's own package.json.
 */
function lightweightChartsPath(): string {
  return path.join(path.dirname(require.resolve('lightweight-charts/package.json')), 'dist', 'lightweight-charts.standalone.production.js');
}

let cached: string | undefined;
/** The standalone script's text; it keeps its own licence banner at the top. */
export function lightweightChartsSource(): string {
  cached ??= readFileSync(lightweightChartsPath(), 'utf8');
  return cached;
}

/**
 * The Apache-2.0 licence's NOTICE asks for attribution of TradingView's
 * Lightweight Charts™ where charts are shown; every page and report that
 * draws one shows this text with its link.
 */
export const CHART_ATTRIBUTION = {
  text: 'Charts by TradingView Lightweight Charts™',
  href: 'https://www.tradingview.com/',
} as const;

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** Escapes text for an HTML text node or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/**
 * JSON for an inline <script> block: `<` is escaped so that data holding
 * `</script>` or `<!--` cannot end the block and run as markup.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}
