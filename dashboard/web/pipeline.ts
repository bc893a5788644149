/** The pipeline page: produced, consumed, lag, ticks/s; each shard's owner, checkpoint and pace; dead letters and errors. */
import type { PipelineView } from '../wire';
import { connect, el, fmt, fmtTime, frameBatcher } from './common.js';

const figures = document.getElementById('figures')!;
const shards = document.querySelector('#shards tbody')!;
const reasons = document.querySelector('#reasons tbody')!;
const letters = document.getElementById('letters')!;
const errors = document.getElementById('errors')!;
let view: PipelineView | undefined;

function cell(text: string, num = false): HTMLTableCellElement {
  return el('td', num ? 'num' : undefined, text);
}

const render = frameBatcher(() => {
  const v = view;
  if (v === undefined) return;
  const figure = (label: string, value: string): HTMLDivElement => {
    const d = el('div');
    d.append(el('b', undefined, value), el('span', undefined, label));
    return d;
  };
  figures.replaceChildren(
    figure('produced', v.produced === null ? '–' : String(v.produced)),
    figure('consumed', String(v.consumed)),
    figure('lag (ticks)', v.lag === null ? '–' : String(v.lag)),
    figure('ticks/s', fmt(v.ticksPerSec, 0)),
    figure('dead letters', String(v.deadLetters)),
    figure('errors', String(v.errors)),
    figure('status reports lost', String(v.reportsLost)),
  );
  shards.replaceChildren(
    ...v.shards.map((s) => {
      const tr = el('tr');
      tr.dataset.shard = s.shardId;
      tr.append(cell(s.shardId), cell(s.owner ?? '–'), cell(s.checkpoint ?? '–'), cell(s.millisBehindLatest === null ? '–' : String(s.millisBehindLatest), true), cell(fmt(s.recordsPerSec, 1), true), cell(s.lastReportAt === null ? '–' : fmtTime(s.lastReportAt)));
      return tr;
    }),
  );
  if (v.shards.length === 0) {
    const tr = el('tr');
    tr.append(cell(v.mode === 'history' ? 'no pipeline is running: this is the history of a past run' : v.mode === 'aws' ? 'no lease in the KCL lease table yet (or it could not be read: see errors)' : 'waiting for the first report…'));
    shards.replaceChildren(tr);
  }
  reasons.replaceChildren(
    ...v.deadLetterReasons.map((r) => {
      const tr = el('tr');
      tr.append(cell(String(r.count), true), cell(r.reason));
      return tr;
    }),
  );
  letters.replaceChildren(
    ...v.recentDeadLetters.map((l) => {
      const li = el('li');
      li.dataset.id = l.id;
      li.append(el('span', 'when', fmtTime(l.at)), el('span', 'tag', l.kind), el('span', 'reason', l.reason), el('span', 'when', `  ${l.id}`));
      return li;
    }),
  );
  errors.replaceChildren(
    ...v.recentErrors.map((e) => {
      const li = el('li');
      li.append(el('span', 'when', fmtTime(e.at)), el('span', 'tag', e.code), el('span', undefined, e.what));
      return li;
    }),
  );
  document.body.dataset.updatedAt = String(v.updatedAt);
});

connect({ topics: ['pipeline'] }, (e) => {
  if (e.pipeline === undefined) return;
  view = e.pipeline;
  render();
});
