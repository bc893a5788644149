import { PutRecordsCommand, type KinesisClient, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import type { Logger } from '../shared/logger';
import { encodeTick, type Tick } from '../shared/tick';

export interface KinesisWriterOptions {
  streamName: string;
  /** PutRecords limits: 500 records, 5 MiB per call, 1 MiB per record */
  maxBatchRecords?: number;
  maxBatchBytes?: number;
  maxAttempts?: number;
  logger?: Logger;
  sleep?: (ms: number) => Promise<void>;
}

export interface WriterStats {
  recordsSent: number;
  putCalls: number;
  retriedRecords: number;
  failedRecords: number;
}

const MAX_RECORD_BYTES = 1024 * 1024;

/**
 * Writes ticks to Kinesis with the symbol as partition key.
 *
 * Order: a PutRecords call can fail some entries and accept others. If a
 * call held two ticks of one symbol and only the first failed, its retry
 * would land after the second, and the consumer would skip it as out of
 * order: a lost tick. So a call never holds two ticks of one symbol, and a
 * call's failed entries are retried before the next call is sent.
 */
export class KinesisWriter {
  readonly stats: WriterStats = { recordsSent: 0, putCalls: 0, retriedRecords: 0, failedRecords: 0 };
  private readonly maxRecords: number;
  private readonly maxBytes: number;
  private readonly maxAttempts: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly client: KinesisClient,
    private readonly o: KinesisWriterOptions,
  ) {
    this.maxRecords = Math.min(500, o.maxBatchRecords ?? 500);
    this.maxBytes = Math.min(5 * 1024 * 1024, o.maxBatchBytes ?? 5 * 1024 * 1024);
    this.maxAttempts = o.maxAttempts ?? 10;
    this.sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** Sends all ticks; resolves when every one is acknowledged by Kinesis. */
  async write(ticks: readonly Tick[]): Promise<void> {
    let batch: PutRecordsRequestEntry[] = [];
    let bytes = 0;
    const inBatch = new Set<string>();
    for (const t of ticks) {
      const data = encodeTick(t);
      const size = data.byteLength + Buffer.byteLength(t.symbol);
      if (size > MAX_RECORD_BYTES) throw new RangeError(`tick for ${t.symbol} encodes to ${size} bytes, above Kinesis' 1 MiB record limit`);
      if (batch.length >= this.maxRecords || bytes + size > this.maxBytes || inBatch.has(t.symbol)) {
        await this.put(batch);
        batch = [];
        bytes = 0;
        inBatch.clear();
      }
      inBatch.add(t.symbol);
      batch.push({ PartitionKey: t.symbol, Data: data });
      bytes += size;
    }
    if (batch.length > 0) await this.put(batch);
  }

  private async put(entries: PutRecordsRequestEntry[]): Promise<void> {
    let pending = entries;
    for (let attempt = 1; pending.length > 0; attempt++) {
      this.stats.putCalls++;
      let failed: PutRecordsRequestEntry[];
      try {
        const res = await this.client.send(new PutRecordsCommand({ StreamName: this.o.streamName, Records: pending }));
        const results = res.Records ?? [];
        failed = [];
        for (let i = 0; i < pending.length; i++) if (results[i]?.ErrorCode) failed.push(pending[i]!);
        this.stats.recordsSent += pending.length - failed.length;
      } catch (err) {
        if (attempt >= this.maxAttempts) throw err;
        failed = pending;
        this.o.logger?.warn('PutRecords failed, retrying', { attempt, error: (err as Error).message });
      }
      if (failed.length === 0) return;
      if (attempt >= this.maxAttempts) {
        this.stats.failedRecords += failed.length;
        throw new Error(`${failed.length} records still failing after ${attempt} PutRecords attempts`);
      }
      this.stats.retriedRecords += failed.length;
      pending = failed;
      await this.sleep(Math.random() * Math.min(2000, 50 * 2 ** attempt));
    }
  }
}
