import { zeroCounters, type BatchStats } from '../../../consumer/shard-processor';
import { MAX_DATAGRAM_BYTES, splitReport, StatusReporter, type LiveLetter, type LiveRow, type StatusMessage } from '../../../consumer/status';
import type { EnrichedTick } from '../../../shared/enriched';
import { addStatus, emptyTotals, StatusServer } from '../../../local/status-server';

function batch(shardId: string, startedAt: number, applied: number): BatchStats {
  return { ...zeroCounters(), shardId, startedAt, records: applied, applied, latenciesMs: [] };
}

function message(shardId: string, over: Partial<StatusMessage>): StatusMessage {
  return { ...zeroCounters(), worker: 'worker-1', pid: 1, shardId, latenciesMs: [], ...over };
}

describe('status channel: when each shard first applied a tick', () => {
  it('keeps, per shard, the earliest batch start reported, whatever order the datagrams arrive in', () => {
    const t = emptyTotals();
    addStatus(t, message('shardId-000000000004', { applied: 5, appliedSince: 2000 }), 2600);
    addStatus(t, message('shardId-000000000004', { applied: 5, appliedSince: 1500 }), 2700);
    addStatus(t, message('shardId-000000000004', { applied: 5, appliedSince: 3000 }), 3500);
    addStatus(t, message('shardId-000000000005', { records: 2 }), 3600);
    expect([...t.firstAppliedByShard]).toEqual([['shardId-000000000004', 1500]]);
    expect({ applied: t.applied, firstAppliedAt: t.firstAppliedAt }).toEqual({ applied: 15, firstAppliedAt: 2600 });
  });

  it('reports the start of the first batch that applied a tick, not of batches that applied none', async () => {
    const server = new StatusServer();
    const port = await server.start();
    const reporter = new StatusReporter(port, 'worker-1', 10);
    try {
      reporter.started('shardId-000000000012');
      reporter.record(batch('shardId-000000000012', 1000, 0));
      reporter.record(batch('shardId-000000000012', 1100, 7));
      reporter.record(batch('shardId-000000000012', 1200, 3));
      reporter.flush();
      const deadline = Date.now() + 5000;
      while (server.totals.applied < 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect({ applied: server.totals.applied, first: server.totals.firstAppliedByShard.get('shardId-000000000012') }).toEqual({ applied: 10, first: 1100 });
    } finally {
      reporter.close();
      server.close();
    }
  });
});

function row(symbol: string, ts: number): EnrichedTick {
  return { symbol, ts, dt: '2024-01-02', price: 10, volume: 100, previous_close: 9, change_pct: 11.1, tick_change_pct: null, sma5: 10, sma20: 9.5, ema12: null, rsi14: 55, bb_upper: 11, bb_lower: 9, vwap: null, volume_avg: 100, volume_ratio: 1, signal: null, anomaly: false, volume_spike: false, market_state: null, source: 'synthetic', produced_at: ts };
}

describe('status channel: stored rows and alerts for the live dashboard', () => {
  it('splits a big report into datagrams under the budget that together carry every item and the counters once', () => {
    const rows: LiveRow[] = Array.from({ length: 1500 }, (_, i) => ({ ...row(`S${i % 40}`, 1_700_000_000_000 + i), stored_at: 1 }));
    const reasons: LiveLetter[] = [{ id: 'x', kind: 'record', reason: 'r'.repeat(900), at: 1 }];
    let seq = 0;
    const parts = splitReport({ ...message('shardId-000000000001', { applied: 1500, records: 1500 }), rows, letters: reasons }, () => ++seq);
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) expect(Buffer.byteLength(p)).toBeLessThanOrEqual(MAX_DATAGRAM_BYTES);
    const got = parts.map((p) => JSON.parse(p) as StatusMessage);
    const t = emptyTotals();
    for (const m of got) addStatus(t, m, 0);
    expect({ applied: t.applied, rows: got.flatMap((m) => m.rows ?? []).map((r) => r.ts), letters: got.flatMap((m) => m.letters ?? []), seqs: got.map((m) => m.seq), lost: t.reportsLost.lost }).toEqual({
      applied: 1500,
      rows: rows.map((r) => r.ts),
      letters: reasons,
      seqs: got.map((_, i) => i + 1),
      lost: 0,
    });
  });

  it('counts the datagrams lost from the gaps in the sequence numbers', () => {
    const t = emptyTotals();
    for (const seq of [1, 2, 5, 6]) addStatus(t, message('shardId-000000000001', { seq }), 0);
    expect(t.reportsLost.lost).toBe(2);
  });

  it('sends each stored row and published alert, and past the per-flush budget keeps every symbol but only its latest row', async () => {
    const server = new StatusServer();
    const port = await server.start();
    const got: StatusMessage[] = [];
    server.onReport((m) => got.push(m));
    const reporter = new StatusReporter(port, 'worker-1', 10_000);
    try {
      const stored = Array.from({ length: 2500 }, (_, i) => row(`S${i % 50}`, 1_700_000_000_000 + i));
      const alert = { id: 'a1', symbol: 'S1', type: 'BUY' as const, ts: 1, price: 10, message: 'S1 is in an Uptrend! Consider a buy opportunity.', changePct: null, sma5: null, sma20: null, volumeRatio: null };
      reporter.record({ ...batch('shardId-000000000003', 1000, 2500), checkpointedAt: '4977' });
      reporter.stored('shardId-000000000003', stored, 1234);
      reporter.published('shardId-000000000003', alert);
      reporter.flush();
      const deadline = Date.now() + 5000;
      while (server.totals.applied < 2500 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 100));
      const rows = got.flatMap((m) => m.rows ?? []);
      const latest = new Map(rows.map((r) => [r.symbol, r.ts]));
      expect({
        rows: rows.length,
        symbols: latest.size,
        latestOfS7: latest.get('S7'),
        storedAt: rows[0]?.stored_at,
        coalesced: got.reduce((a, m) => a + (m.rowsCoalesced ?? 0), 0),
        alerts: got.flatMap((m) => m.alerts ?? []).map((a) => a.message),
        checkpoint: got[0]?.checkpoint,
      }).toEqual({ rows: 2000, symbols: 50, latestOfS7: 1_700_000_000_000 + 2457, storedAt: 1234, coalesced: 500, alerts: [alert.message], checkpoint: '4977' });
    } finally {
      reporter.close();
      server.close();
    }
  });
});
