import { decodeRecord } from '../../../shared/tick';
import type { KinesisClient, PutRecordsCommand, PutRecordsCommandOutput } from '@aws-sdk/client-kinesis';
import { KinesisWriter } from '../../../producer/kinesis-writer';
import { runProducer } from '../../../producer/pipeline';
import type { TickSource } from '../../../producer/sources/source';
import type { Tick } from '../../../shared/tick';
import { captureLogs, flushLogs } from './helpers';
/** inside the tick contract's time window (shared/tick.ts TICK_BOUNDS) */
const T0 = Date.UTC(2024, 0, 2);

function slowKinesis(delayMs: number): { client: KinesisClient; stored: () => number } {
  let stored = 0;
  const client = {
    send: async (cmd: PutRecordsCommand): Promise<PutRecordsCommandOutput> => {
      // unref: the flush-timeout test leaves a call hanging on purpose
      await new Promise((r) => setTimeout(r, delayMs).unref());
      const n = cmd.input.Records?.length ?? 0;
      // an aggregate record holds several ticks
      for (const r of cmd.input.Records ?? []) {
        const d = decodeRecord(r.Data ?? new Uint8Array());
        if (!d.ok) throw new Error(d.reason);
        stored += d.ticks.length;
      }
      return { Records: Array.from({ length: n }, (_, i) => ({ SequenceNumber: String(i), ShardId: 's' })), FailedRecordCount: 0, $metadata: {} };
    },
  } as unknown as KinesisClient;
  return { client, stored: () => stored };
}

/** Endless source: 100 symbols per batch, one batch per millisecond. */
const endless: TickSource = {
  name: 'synthetic',
  async *ticks(signal) {
    for (let k = 1; !signal.aborted; k++) {
      yield Array.from({ length: 100 }, (_, s): Tick => ({ v: 1, symbol: `S${s}`, ts: T0 + k, price: 1, volume: 1, previousClose: 1, source: 'synthetic', producedAt: T0 + k }));
      await new Promise((r) => setTimeout(r, 1));
    }
  },
};

describe('runProducer', () => {
  it('on abort stops the source and flushes everything it yielded', async () => {
    const k = slowKinesis(5);
    const logs = captureLogs();
    const writer = new KinesisWriter(k.client, { streamName: 's', logger: logs.logger, maxBuffered: 1_000 });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const result = await runProducer({ source: endless, writer, logger: logs.logger, signal: ac.signal, metricsIntervalMs: 0 });
    expect(result.flushed).toBe(true);
    expect(result.ticks).toBeGreaterThan(0);
    expect(k.stored()).toBe(result.ticks);
    expect(writer.pending).toBe(0);
    await flushLogs();
    expect(logs.lines().find((l) => l.message === 'flushed')).toMatchObject({ ticks: result.ticks, recordsSent: result.ticks });
  });

  it('reports a flush that does not finish in time instead of hanging', async () => {
    const k = slowKinesis(10_000);
    const logs = captureLogs();
    const writer = new KinesisWriter(k.client, { streamName: 's', logger: logs.logger });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 20);
    const result = await runProducer({ source: endless, writer, logger: logs.logger, signal: ac.signal, metricsIntervalMs: 0, flushTimeoutMs: 200 });
    expect(result.flushed).toBe(false);
    await flushLogs();
    expect(logs.lines().some((l) => l.level === 'error' && l.message === 'flush timed out; unacknowledged records are lost')).toBe(true);
  });
});
