import { zeroCounters, type BatchStats } from '../../../consumer/shard-processor';
import { StatusReporter, type StatusMessage } from '../../../consumer/status';
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
