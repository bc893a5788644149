import type { KinesisClient, PutRecordsCommand, PutRecordsCommandOutput, PutRecordsRequestEntry, PutRecordsResultEntry } from '@aws-sdk/client-kinesis';
import { KinesisWriter, type KinesisWriterOptions } from '../../../producer/kinesis-writer';
import { KinesisWriteError } from '../../../producer/errors';
import { decodeRecord, type Tick } from '../../../shared/tick';
import { captureLogs } from './helpers';

/** Ticks live in the tick contract's time window (shared/tick.ts TICK_BOUNDS). */
const T0 = Date.UTC(2024, 0, 2);
function tick(symbol: string, i: number): Tick {
  return { v: 1, symbol, ts: T0 + i, price: 10 + (i % 7), volume: 100, previousClose: 10, source: 'synthetic', producedAt: T0 + i };
}

function ticks(symbols: number, perSymbol: number): Tick[] {
  const out: Tick[] = [];
  for (let k = 1; k <= perSymbol; k++) for (let s = 0; s < symbols; s++) out.push(tick(`S${s}`, k * 1000));
  return out;
}

/** An in-memory Kinesis: stores accepted records per partition key, can fail entries. */
class FakeKinesis {
  readonly stored = new Map<string, number[]>();
  readonly calls: number[] = [];
  readonly callBytes: number[] = [];
  concurrent = 0;
  maxConcurrent = 0;
  failEntry: (symbol: string, callNo: number) => string | undefined = () => undefined;
  failCall: (callNo: number, records: PutRecordsRequestEntry[]) => Error | undefined = () => undefined;
  delayMs = 0;
  private seq = 0;

  readonly client = {
    send: async (cmd: PutRecordsCommand): Promise<PutRecordsCommandOutput> => {
      const callNo = this.calls.length;
      const records = cmd.input.Records ?? [];
      this.calls.push(records.length);
      this.callBytes.push(records.reduce((n, r) => n + (r.Data?.byteLength ?? 0) + Buffer.byteLength(r.PartitionKey ?? ''), 0));
      this.concurrent++;
      this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent);
      try {
        await new Promise((r) => setTimeout(r, this.delayMs));
        const err = this.failCall(callNo, records);
        if (err) throw err;
        const out: PutRecordsResultEntry[] = records.map((r) => {
          const key = r.PartitionKey ?? '';
          const code = this.failEntry(key, callNo);
          if (code !== undefined) return { ErrorCode: code, ErrorMessage: 'Rate exceeded for shard shardId-000000000000' };
          const decoded = decodeRecord(r.Data ?? new Uint8Array());
          if (!decoded.ok) throw new Error(decoded.reason);
          const list = this.stored.get(key) ?? [];
          for (const t of decoded.ticks) {
            if (t.symbol !== key) throw new Error(`record under key ${key} holds a tick of ${t.symbol}`);
            list.push(t.ts - T0);
          }
          this.stored.set(key, list);
          return { SequenceNumber: String(++this.seq), ShardId: 'shardId-000000000000' };
        });
        return { Records: out, FailedRecordCount: out.filter((o) => o.ErrorCode).length, $metadata: {} };
      } finally {
        this.concurrent--;
      }
    },
  } as unknown as KinesisClient;
}

function writer(k: FakeKinesis, o: Partial<KinesisWriterOptions> = {}): KinesisWriter {
  return new KinesisWriter(k.client, { streamName: 's', backoff: { baseMs: 1, maxMs: 5 }, logger: captureLogs().logger, ...o });
}

function expectExactlyOnceInOrder(k: FakeKinesis, symbols: number, perSymbol: number): void {
  expect(k.stored.size).toBe(symbols);
  for (const [sym, list] of k.stored) {
    expect({ sym, list }).toEqual({ sym, list: Array.from({ length: perSymbol }, (_, i) => (i + 1) * 1000) });
  }
}

describe('KinesisWriter', () => {
  it('writes every tick once, in order per symbol, in calls of at most 500 records', async () => {
    const k = new FakeKinesis();
    const w = writer(k);
    await w.write(ticks(700, 3));
    expectExactlyOnceInOrder(k, 700, 3);
    expect(Math.max(...k.calls)).toBeLessThanOrEqual(500);
    expect(w.stats).toMatchObject({ recordsSent: 2100, retriedRecords: 0, failedRecords: 0 });
  });

  it('refuses ticks the consumer could not store, counts them by reason, and sends the rest', async () => {
    const k = new FakeKinesis();
    const w = writer(k);
    const good = ticks(3, 2);
    const bad: Tick[] = [
      { ...tick('S0', 100), price: 1e130 },
      { ...tick('S1', 100), ts: 9e15 },
      { ...tick('S2', 100), price: 2e12 },
    ];
    await w.write([...good.slice(0, 3), ...bad, ...good.slice(3)]);
    expect(w.stats.recordsSent).toBe(6);
    expect(w.metrics.refusals()).toEqual({
      total: 3,
      byReason: { 'price: must be at most 1000000000000': 2, 'ts: must be before 2100-01-01 (epoch ms 4102444800000)': 1 },
    });
  });

  it('finds the one record Kinesis refuses for good in a shared call, refuses its tick by reason, and writes every other in order', async () => {
    const k = new FakeKinesis();
    const all = ticks(40, 3);
    const bad = all[61]!;
    k.failCall = (_n, records) =>
      records.some((r) => r.PartitionKey === bad.symbol && decodeRecord(r.Data!).ok && (decodeRecord(r.Data!) as { ticks: Tick[] }).ticks.some((t) => t.ts === bad.ts))
        ? Object.assign(new Error('1 validation error detected'), { name: 'InvalidArgumentException', $metadata: { httpStatusCode: 400 } })
        : undefined;
    const w = writer(k, { maxTicksPerRecord: 1 });
    await w.write(all);
    expect(w.stats.recordsSent).toBe(119);
    expect(w.metrics.refusals()).toEqual({ total: 1, byReason: { 'kinesis: InvalidArgumentException': 1 } });
    const stored = k.stored.get(bad.symbol)!;
    expect(stored).toEqual(all.filter((t) => t.symbol === bad.symbol && t.ts !== bad.ts).map((t) => t.ts - T0));
  });

  it('respects the byte limit per call', async () => {
    const k = new FakeKinesis();
    const size = 170; // ~ one encoded tick with its key
    await writer(k, { maxBatchBytes: size * 10 }).write(ticks(100, 1));
    expect(Math.max(...k.callBytes)).toBeLessThanOrEqual(size * 10);
    expect(k.calls.reduce((a, b) => a + b, 0)).toBe(100);
  });

  it('retries only the failed entries of a partly failed call: no loss, no duplicates, order kept', async () => {
    const k = new FakeKinesis();
    let n = 0;
    // every 7th entry fails, including retries sometimes
    k.failEntry = () => (++n % 7 === 0 ? 'ProvisionedThroughputExceededException' : undefined);
    const w = writer(k, { maxAttempts: 50 });
    await w.write(ticks(300, 5));
    expectExactlyOnceInOrder(k, 300, 5);
    expect(w.stats.retriedRecords).toBeGreaterThan(0);
    expect(w.stats.recordsSent).toBe(1500);
  });

  it('retries a call that failed as a whole', async () => {
    const k = new FakeKinesis();
    k.failCall = (c) => (c === 0 ? Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }) : undefined);
    const w = writer(k);
    await w.write(ticks(10, 2));
    expectExactlyOnceInOrder(k, 10, 2);
  });

  it('bounds calls in flight and applies backpressure to enqueue', async () => {
    const k = new FakeKinesis();
    k.delayMs = 5;
    const w = writer(k, { maxInFlight: 2, maxBatchRecords: 10, maxBuffered: 50 });
    const all = ticks(200, 2);
    let maxPending = 0;
    for (let i = 0; i < all.length; i += 20) {
      await w.enqueue(all.slice(i, i + 20));
      maxPending = Math.max(maxPending, w.pending);
    }
    await w.flush();
    expectExactlyOnceInOrder(k, 200, 2);
    expect(k.maxConcurrent).toBeLessThanOrEqual(2);
    // enqueue returned only with fewer than maxBuffered + one slice outstanding
    expect(maxPending).toBeLessThan(50 + 20);
  });

  it('fails with KinesisWriteError after maxAttempts, and at once on a fatal error', async () => {
    const k = new FakeKinesis();
    k.failEntry = () => 'InternalFailure';
    const w = writer(k, { maxAttempts: 3 });
    await expect(w.write(ticks(2, 1))).rejects.toBeInstanceOf(KinesisWriteError);
    expect(k.calls).toHaveLength(3);
    expect(w.stats.failedRecords).toBe(2);

    const k2 = new FakeKinesis();
    k2.failCall = () => Object.assign(new Error('Stream s not found'), { name: 'ResourceNotFoundException' });
    const w2 = writer(k2);
    await expect(w2.write(ticks(2, 1))).rejects.toThrow(/ResourceNotFoundException/);
    expect(k2.calls).toHaveLength(1);
    await expect(w2.enqueue(ticks(1, 1))).rejects.toBeInstanceOf(KinesisWriteError);
  });

  it('packs a backlog of one symbol into aggregate records: far fewer round trips, same ticks in the same order', async () => {
    const k = new FakeKinesis();
    k.delayMs = 2;
    const w = writer(k, { maxInFlight: 4 });
    await w.write(ticks(1, 2000));
    expectExactlyOnceInOrder(k, 1, 2000);
    expect(w.stats.recordsSent).toBe(2000);
    // the first tick goes alone; the backlog behind it travels in records of <= 500 ticks
    expect(k.calls.length).toBeLessThanOrEqual(6);
    expect(w.stats.kinesisRecords).toBe(k.calls.length);
  });

  it('keeps per-symbol order when aggregate records fail and are retried', async () => {
    const k = new FakeKinesis();
    let n = 0;
    k.failEntry = () => (n++ % 3 === 0 ? 'ProvisionedThroughputExceededException' : undefined);
    const w = writer(k, { maxAttempts: 50, maxTicksPerRecord: 7 });
    await w.write(ticks(5, 200));
    expectExactlyOnceInOrder(k, 5, 200);
    expect(w.stats.retriedRecords).toBeGreaterThan(0);
  });

  it('never aggregates with maxTicksPerRecord 1', async () => {
    const k = new FakeKinesis();
    const w = writer(k, { maxTicksPerRecord: 1 });
    await w.write(ticks(1, 20));
    expectExactlyOnceInOrder(k, 1, 20);
    expect(k.calls).toEqual(Array.from({ length: 20 }, () => 1));
  });
});
