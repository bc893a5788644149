/**
 * What every page shares: the live stream and the formatting. Values are
 * only ever written with textContent: nothing the server sends is parsed as
 * HTML, whatever a symbol, a message or a dead letter's reason holds.
 */
import type { LiveEvent, Topic } from '../wire';

/** Opens the live stream; the server sends a snapshot first (again after every reconnect), then changes. */
export function connect(o: { topics: Topic[]; symbol?: string }, onEvent: (e: LiveEvent) => void): EventSource {
  const q = new URLSearchParams();
  if (o.topics.length > 0) q.set('topics', o.topics.join(','));
  if (o.symbol !== undefined) q.set('symbol', o.symbol);
  const es = new EventSource(`/events?${q.toString()}`);
  const conn = document.getElementById('conn');
  const show = (text: string, cls: string): void => {
    if (conn === null) return;
    conn.textContent = text;
    conn.className = `conn ${cls}`;
  };
  es.onopen = () => show('live', 'live');
  es.onerror = () => show('reconnecting…', 'down');
  es.onmessage = (m: MessageEvent<string>) => onEvent(JSON.parse(m.data) as LiveEvent);
  return es;
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (className !== undefined) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

export function fmt(x: number | null, digits = 2): string {
  return x === null ? '–' : x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function fmtPct(x: number | null): string {
  return x === null ? '–' : `${x > 0 ? '+' : ''}${x.toFixed(2)} %`;
}

/** UTC, as every tick's ts is. */
export function fmtTime(ms: number | null): string {
  return ms === null ? '–' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

/** Runs `f` once in the next animation frame, however often it is asked in between. */
export function frameBatcher(f: () => void): () => void {
  let asked = false;
  return () => {
    if (asked) return;
    asked = true;
    requestAnimationFrame(() => {
      asked = false;
      f();
    });
  };
}
