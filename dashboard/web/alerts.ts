/** The alerts page: the feed as it happens, with the SNS message's text, filterable by type and symbol. */
import type { AlertItem } from '../wire';
import { connect, el, fmt, fmtTime, frameBatcher } from './common.js';

const MAX = 2000;
const feed = document.getElementById('feed')!;
const typeSel = document.getElementById('type') as HTMLSelectElement;
const symbolIn = document.getElementById('symbol') as HTMLInputElement;
const count = document.getElementById('count')!;
typeSel.value = document.body.dataset.type ?? '';
symbolIn.value = document.body.dataset.symbol ?? '';

/** Oldest first by the alert's own ts (then id): the order alerts arrive in is not the order they happened in
 *  (shards and processors report independently, and a snapshot can cross a live update). */
const alerts: AlertItem[] = [];
const seen = new Set<string>();
let fresh: AlertItem[] = [];
let full = true;

const matches = (a: AlertItem): boolean => (typeSel.value === '' || a.type === typeSel.value) && (symbolIn.value === '' || a.symbol === symbolIn.value.trim().toUpperCase());

/** Negative when `a` happened before `b`. */
const order = (a: { ts: number; id: string }, b: { ts: number; id: string }): number => a.ts - b.ts || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** The first index in `n` items (ascending by `before`) where `before(i)` is false: binary search. */
function firstNotBefore(n: number, before: (i: number) => boolean): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (before(mid)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function insertSorted(a: AlertItem): void {
  alerts.splice(
    firstNotBefore(alerts.length, (i) => order(alerts[i]!, a) < 0),
    0,
    a,
  );
}

function item(a: AlertItem): HTMLLIElement {
  const li = el('li');
  li.dataset.id = a.id;
  li.dataset.ts = String(a.ts);
  li.append(el('span', 'when', `${fmtTime(a.ts)} UTC`), el('span', `tag ${a.type === 'BUY' ? 'up' : a.type === 'SELL' ? 'down' : ''}`, a.type), el('span', 'msg', a.message), el('span', 'when', `  @ ${fmt(a.price)}`));
  return li;
}

const render = frameBatcher(() => {
  if (full) {
    feed.replaceChildren(...alerts.filter(matches).reverse().map(item));
    full = false;
  } else {
    // newest first: each new alert goes where its ts puts it, not simply on top
    const shown = feed.children;
    const keyOf = (i: number): { ts: number; id: string } => {
      const d = (shown[i] as HTMLElement).dataset;
      return { ts: Number(d.ts), id: d.id ?? '' };
    };
    for (const a of fresh.filter((x) => matches(x) && seen.has(x.id))) {
      const at = firstNotBefore(shown.length, (i) => order(keyOf(i), a) > 0);
      feed.insertBefore(item(a), shown[at] ?? null);
    }
    while (feed.childElementCount > MAX) feed.lastElementChild?.remove();
  }
  fresh = [];
  count.textContent = `${feed.childElementCount} shown of ${alerts.length}`;
});

function refilter(): void {
  // the address keeps the filter, so a reload or a shared link shows the same
  const q = new URLSearchParams();
  if (typeSel.value !== '') q.set('type', typeSel.value);
  if (symbolIn.value.trim() !== '') q.set('symbol', symbolIn.value.trim().toUpperCase());
  history.replaceState(null, '', q.size > 0 ? `?${q.toString()}` : location.pathname);
  full = true;
  render();
}
typeSel.addEventListener('change', refilter);
symbolIn.addEventListener('input', refilter);

connect({ topics: ['alerts'] }, (e) => {
  for (const a of e.alerts ?? []) {
    if (seen.has(a.id)) continue;
    seen.add(a.id);
    insertSorted(a);
    fresh.push(a);
  }
  // the oldest by ts go, whenever they arrived
  if (alerts.length > MAX) {
    for (const a of alerts.splice(0, alerts.length - MAX)) seen.delete(a.id);
  }
  render();
});
