import { zeroCounters } from '../../../consumer/shard-processor';
import type { LiveRow, StatusMessage } from '../../../consumer/status';
import { LiveStore } from '../../../dashboard/live-store';

function liveRow(symbol: string, ts: number, over: Partial<LiveRow> = {}): LiveRow {
  return { symbol, ts, price: 10, volume: 100, change_pct: 1, sma5: 10, sma20: 9, rsi14: 50, bb_upper: 12, bb_lower: 8, volume_ratio: 1, signal: null, anomaly: false, volume_spike: false, produced_at: ts, stored_at: ts + 5, ...over };
}

function report(over: Partial<StatusMessage>): StatusMessage {
  return { ...zeroCounters(), worker: 'worker-1', pid: 7, shardId: 'shardId-000000000001', latenciesMs: [], ...over };
}

describe('the live store (the dashboard fed by status reports alone)', () => {
  it("keeps each symbol's latest row with its trend, band position and last signal, whatever order datagrams arrive in", () => {
    const s = new LiveStore({ source: 'test', now: () => 10_000 });
    s.apply(report({ seq: 1, rows: [liveRow('AAA', 1000, { signal: 'BUY' }), liveRow('AAA', 2000, { price: 11, sma5: 8 })] }), 0);
    s.apply(report({ seq: 3, rows: [liveRow('AAA', 1500)] }), 0);
    expect(s.market()).toEqual([expect.objectContaining({ symbol: 'AAA', ts: 2000, trend: 'DOWN', bb_pct: 75, last_signal: 'BUY', last_signal_ts: 1000, stored_at: 2005 })]);
    expect(s.points('AAA').map((p) => p.ts)).toEqual([1000, 2000]);
    expect(s.pipeline().reportsLost).toBe(1);
  });

  it('shows per shard its owner, checkpoint, lag and pace, and the dead letters by reason', () => {
    let now = 0;
    const s = new LiveStore({ source: 'test', now: () => now, produced: () => 50 });
    s.apply(report({ seq: 1, records: 10, applied: 10, millisBehindLatest: 300, checkpoint: '42' }), 1000);
    s.apply(report({ seq: 1, pid: 8, worker: 'worker-2', shardId: 'shardId-000000000002', records: 5, applied: 4, deadLetters: 1, letters: [{ id: 'shardId-000000000002/9', kind: 'record', reason: 'invalid JSON: <img src=x>', at: 1 }] }), 2000);
    now = 3000;
    const v = s.pipeline();
    expect({ consumed: v.consumed, lag: v.lag, shards: v.shards, reasons: v.deadLetterReasons }).toEqual({
      consumed: 14,
      lag: 35,
      shards: [
        { shardId: 'shardId-000000000001', owner: 'worker-1', checkpoint: '42', millisBehindLatest: 300, recordsPerSec: 2, lastReportAt: 1000 },
        { shardId: 'shardId-000000000002', owner: 'worker-2', checkpoint: null, millisBehindLatest: null, recordsPerSec: 1, lastReportAt: 2000 },
      ],
      reasons: [{ reason: 'invalid JSON: <img src=x>', count: 1 }],
    });
  });
});
