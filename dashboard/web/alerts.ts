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

/** Oldest first. */
const alerts: AlertItem[] = [];
const seen = new Set<string>();
let fresh: AlertItem[] = [];
let full = true;

const matches = (a: AlertItem): boolean => (typeSel.value === '' || a.type === typeSel.value) && (symbolIn.value === '' || a.symbol === symbolIn.value.trim().toUpperCase());

function item(a: AlertItem): HTMLLIElement {
  const li = el('li');
  li.dataset.id = a.id;
  li.append(el('span', 'when', `${fmtTime(a.ts)} UTC`), el('span', `tag ${a.type === 'BUY' ? 'up' : a.type === 'SELL' ? 'down' : ''}`, a.type), el('span', 'msg', a.message), el('span', 'when', `  @ ${fmt(a.price)}`));
  return li;
}

const render = frameBatcher(() => {
  if (full) {
    feed.replaceChildren(...alerts.filter(matches).reverse().map(item));
    full = false;
  } else {
    const add = fresh.filter(matches).reverse().map(item);
    feed.prepend(...add);
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
    alerts.push(a);
    fresh.push(a);
  }
  if (alerts.length > MAX) {
    for (const a of alerts.splice(0, alerts.length - MAX)) seen.delete(a.id);
  }
  render();
});
