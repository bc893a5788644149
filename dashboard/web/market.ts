/**
 * The market page: every symbol, sortable and filterable, smooth at
 * thousands of symbols updating every second. Only the rows in view exist
 * in the DOM (a pool positioned over a spacer); changes are gathered between
 * frames and written once per animation frame, and a cell is touched only
 * when its text changes.
 */
import type { MarketRow } from '../wire';
import { connect, el, fmt, fmtPct, fmtTime, frameBatcher } from './common.js';

const ROW_H = 24;
/** Rows drawn above and below the view, so a scroll shows no gap. */
const OVERSCAN = 8;
/** A sort on a live column is redone at most this often, so rows do not jump at every tick. */
const RESORT_MS = 1000;

interface Column {
  key: string;
  label: string;
  num: boolean;
  text: (r: MarketRow) => string;
  cls?: (r: MarketRow) => string;
  sort: (r: MarketRow) => number | string;
}

const signed = (x: number | null): string => (x === null ? '' : x > 0 ? 'up' : x < 0 ? 'down' : '');
const orMin = (x: number | null): number => x ?? -Infinity;

const COLUMNS: Column[] = [
  { key: 'symbol', label: 'Symbol', num: false, text: (r) => r.symbol, sort: (r) => r.symbol },
  { key: 'price', label: 'Last', num: true, text: (r) => fmt(r.price), sort: (r) => r.price },
  { key: 'change', label: 'Chg %', num: true, text: (r) => fmtPct(r.change_pct), cls: (r) => signed(r.change_pct), sort: (r) => orMin(r.change_pct) },
  { key: 'sma5', label: 'SMA-5', num: true, text: (r) => fmt(r.sma5), sort: (r) => orMin(r.sma5) },
  { key: 'sma20', label: 'SMA-20', num: true, text: (r) => fmt(r.sma20), sort: (r) => orMin(r.sma20) },
  { key: 'trend', label: 'Trend', num: false, text: (r) => r.trend ?? '–', cls: (r) => (r.trend === 'UP' ? 'up' : r.trend === 'DOWN' ? 'down' : ''), sort: (r) => r.trend ?? '' },
  { key: 'rsi', label: 'RSI', num: true, text: (r) => fmt(r.rsi14, 1), sort: (r) => orMin(r.rsi14) },
  { key: 'bb', label: 'Boll. %', num: true, text: (r) => fmt(r.bb_pct, 0), sort: (r) => orMin(r.bb_pct) },
  { key: 'vol', label: 'Vol ×', num: true, text: (r) => fmt(r.volume_ratio), sort: (r) => orMin(r.volume_ratio) },
  { key: 'signal', label: 'Signal', num: false, text: (r) => r.last_signal ?? '–', cls: (r) => (r.last_signal === 'BUY' ? 'up' : r.last_signal === 'SELL' ? 'down' : ''), sort: (r) => r.last_signal ?? '' },
  { key: 'when', label: 'Signal at (UTC)', num: false, text: (r) => fmtTime(r.last_signal_ts), sort: (r) => orMin(r.last_signal_ts) },
];

const rows = new Map<string, MarketRow>();
const changed = new Set<string>();
let order: string[] = [];
let reorder = true;
let lastSort = 0;
let sortCol = COLUMNS[0]!;
let sortDir = 1;
let filter: string[] = [];

const body = document.getElementById('grid-body')!;
const spacer = document.getElementById('grid-spacer')!;
const headRow = document.getElementById('grid-head')!;
const count = document.getElementById('count')!;
const filterInput = document.getElementById('filter') as HTMLInputElement;

/** A pooled row: its element, cells, what it shows and the text each cell has. */
interface Slot {
  row: HTMLDivElement;
  link: HTMLAnchorElement;
  cells: HTMLDivElement[];
  texts: string[];
  classes: string[];
  symbol: string | undefined;
  ts: number | undefined;
}
const pool: Slot[] = [];

function makeSlot(): Slot {
  const row = el('div', 'grid-row');
  row.setAttribute('role', 'row');
  const cells = COLUMNS.map((c) => {
    const d = el('div', c.num ? 'num' : '');
    d.setAttribute('role', 'cell');
    row.append(d);
    return d;
  });
  const link = el('a');
  cells[0]!.append(link);
  body.append(row);
  return { row, link, cells, texts: COLUMNS.map(() => ''), classes: COLUMNS.map(() => ''), symbol: undefined, ts: undefined };
}

function matches(r: MarketRow): boolean {
  return filter.every((f) => r.symbol.includes(f) || r.trend === f || r.last_signal === f);
}

function sortOrder(): void {
  const list = [...rows.values()].filter(matches);
  const key = sortCol.sort;
  list.sort((a, b) => {
    const x = key(a);
    const y = key(b);
    const c = x < y ? -1 : x > y ? 1 : a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0;
    return c * sortDir;
  });
  order = list.map((r) => r.symbol);
  spacer.style.height = `${order.length * ROW_H}px`;
  count.textContent = `${order.length} of ${rows.size} symbols`;
  document.body.dataset.rows = String(rows.size);
  lastSort = performance.now();
  reorder = false;
}

function fill(slot: Slot, r: MarketRow, force: boolean): void {
  if (force || slot.symbol !== r.symbol) {
    slot.symbol = r.symbol;
    slot.row.dataset.symbol = r.symbol;
    slot.link.href = `/symbol/${encodeURIComponent(r.symbol)}`;
  }
  if (slot.ts !== r.ts) {
    slot.ts = r.ts;
    slot.row.dataset.ts = String(r.ts);
  }
  COLUMNS.forEach((c, i) => {
    const text = c.text(r);
    if (slot.texts[i] !== text) {
      slot.texts[i] = text;
      if (i === 0) slot.link.textContent = text;
      else slot.cells[i]!.textContent = text;
    }
    const cls = c.cls?.(r) ?? '';
    if (slot.classes[i] !== cls) {
      slot.classes[i] = cls;
      slot.cells[i]!.className = `${c.num ? 'num ' : ''}${cls}`;
    }
  });
}

function render(): void {
  const sortsOnLive = sortCol.key !== 'symbol';
  if (reorder || (sortsOnLive && changed.size > 0 && performance.now() - lastSort >= RESORT_MS)) sortOrder();
  else if (sortsOnLive && changed.size > 0) schedule(); // come back when the resort is due
  const first = Math.max(0, Math.floor(body.scrollTop / ROW_H) - OVERSCAN);
  const visible = Math.ceil(body.clientHeight / ROW_H) + 2 * OVERSCAN;
  const last = Math.min(order.length, first + visible);
  while (pool.length < last - first) pool.push(makeSlot());
  for (let i = 0; i < pool.length; i++) {
    const slot = pool[i]!;
    const sym = order[first + i];
    const r = sym === undefined ? undefined : rows.get(sym);
    if (r === undefined) {
      if (slot.symbol !== undefined) {
        slot.row.hidden = true;
        slot.symbol = undefined;
        slot.ts = undefined;
        delete slot.row.dataset.symbol;
      }
      continue;
    }
    slot.row.hidden = false;
    slot.row.style.transform = `translateY(${(first + i) * ROW_H}px)`;
    if (slot.symbol !== r.symbol || changed.has(r.symbol)) fill(slot, r, false);
  }
  changed.clear();
}

const schedule = frameBatcher(render);

for (const c of COLUMNS) {
  const h = el('div', c.num ? 'num' : '', c.label);
  h.setAttribute('role', 'columnheader');
  h.addEventListener('click', () => {
    sortDir = sortCol === c ? -sortDir : c.num ? -1 : 1;
    sortCol = c;
    for (const x of headRow.children) x.removeAttribute('aria-sort');
    h.setAttribute('aria-sort', sortDir > 0 ? 'ascending' : 'descending');
    reorder = true;
    schedule();
  });
  headRow.append(h);
}
filterInput.addEventListener('input', () => {
  filter = filterInput.value.toUpperCase().split(/\s+/).filter((f) => f !== '');
  reorder = true;
  schedule();
});
body.addEventListener('scroll', schedule, { passive: true });
window.addEventListener('resize', schedule);

connect({ topics: ['market'] }, (e) => {
  for (const r of e.market ?? []) {
    const prev = rows.get(r.symbol);
    if (prev !== undefined && prev.ts > r.ts) continue;
    if (prev === undefined || !matches(prev) !== !matches(r)) reorder = true;
    rows.set(r.symbol, r);
    changed.add(r.symbol);
  }
  schedule();
});
