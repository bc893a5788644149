/**
 * AWS lake: enriched ticks to a Firehose delivery stream as newline-delimited
 * JSON rows in the Glue schema (+ `dt` for dynamic partitioning); Firehose's
 * record format conversion turns them into Parquet under ticks/dt=YYYY-MM-DD/.
 *
 * PutRecordBatch acknowledges durably (Firehose holds the data from then on),
 * so flush() has nothing to wait for. Firehose is at-least-once: a replayed or
 * retried row is delivered again, so the lake can hold duplicate
 * (symbol, ts) rows that queries must tolerate (see README, "Querying the lake").
 */
import type { FirehoseClient, _Record as FirehoseRecord } from '@aws-sdk/client-firehose';
import { PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import type { EnrichedTick } from '../../shared/enriched';
import type { Logger } from '../../shared/logger';
import { PartialWriteError, SinkWriteError } from '../errors';
import { describeError } from '../../shared/describe-error';
import type { TickSink } from '../ports';
import { toJsonLine } from './rows';
import type { RetryPolicy } from '../../shared/runtime/retry';
import { backoffDelay } from '../../shared/runtime/retry';
import { sleep } from '../../shared/runtime/sleep';
import { DEFAULT_RETRY } from './util';

/** PutRecordBatch limits. */
const FIREHOSE_MAX_RECORDS = 500;
export const FIREHOSE_MAX_BYTES = 4 * 1024 * 1024;
const FIREHOSE_MAX_RECORD_BYTES = 1000 * 1024;

export interface FirehoseTickSinkOptions {
  deliveryStreamName: string;
  /**
   * Pack consecutive rows into one Firehose record of at most this many
   * bytes (0 or unset: one row per record). Firehose bills ingestion and
   * format conversion per record rounded up to 5 KB, so a ~600 B row alone
   * pays for 5 KB; the stream's RecordDeAggregation processor splits a packed
   * record back into its JSON rows before partitioning and conversion
   * (infra/sections/lake.ts).
   */
  recordBytes?: number;
  retry?: RetryPolicy;
  logger?: Logger;
}

/**
 * Newline-delimited rows joined into records of at most `maxBytes` each
 * (a row larger than that is a record of its own). Rows never split.
 */
export function packRows(lines: readonly string[], maxBytes: number): Buffer[] {
  const out: Buffer[] = [];
  let cur: Buffer[] = [];
  let bytes = 0;
  for (const line of lines) {
    const b = Buffer.from(line);
    if (cur.length > 0 && bytes + b.length > maxBytes) {
      out.push(Buffer.concat(cur, bytes));
      cur = [];
      bytes = 0;
    }
    cur.push(b);
    bytes += b.length;
  }
  if (cur.length > 0) out.push(Buffer.concat(cur, bytes));
  return out;
}

/** Split into PutRecordBatch calls of ≤ 500 records and ≤ 4 MiB. */
export function packBatches(records: readonly Buffer[], maxRecords = FIREHOSE_MAX_RECORDS, maxBytes = FIREHOSE_MAX_BYTES): Buffer[][] {
  const batches: Buffer[][] = [];
  let cur: Buffer[] = [];
  let bytes = 0;
  for (const r of records) {
    if (cur.length > 0 && (cur.length >= maxRecords || bytes + r.length > maxBytes)) {
      batches.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(r);
    bytes += r.length;
  }
  if (cur.length > 0) batches.push(cur);
  return batches;
}

export class FirehoseTickSink implements TickSink {
  readonly name = 'firehose';
  private readonly retry: RetryPolicy;

  constructor(
    private readonly client: FirehoseClient,
    private readonly opts: FirehoseTickSinkOptions,
  ) {
    this.retry = opts.retry ?? DEFAULT_RETRY;
  }

  async write(rows: readonly EnrichedTick[]): Promise<void> {
    const lines = rows.map(toJsonLine);
    const pack = this.opts.recordBytes ?? 0;
    const records = pack > 0 ? packRows(lines, Math.min(pack, FIREHOSE_MAX_RECORD_BYTES)) : lines.map((l) => Buffer.from(l));
    for (const rec of records) {
      if (rec.length > FIREHOSE_MAX_RECORD_BYTES) throw new SinkWriteError(this.name, `record of ${rec.length} bytes exceeds Firehose's ${FIREHOSE_MAX_RECORD_BYTES}`);
    }
    // Sequential: Firehose keeps no order anyway, and one stream's throughput
    // quota is shared by every worker; parallel calls would just be throttled.
    for (const batch of packBatches(records)) await this.putBatch(batch);
  }

  /** One PutRecordBatch, then re-send only the entries that failed. */
  private async putBatch(batch: Buffer[]): Promise<void> {
    let pending: FirehoseRecord[] = batch.map((Data) => ({ Data }));
    for (let attempt = 1; ; attempt++) {
      let res;
      try {
        res = await this.client.send(new PutRecordBatchCommand({ DeliveryStreamName: this.opts.deliveryStreamName, Records: pending }));
      } catch (err) {
        throw new SinkWriteError(this.name, `PutRecordBatch to ${this.opts.deliveryStreamName} failed: ${describeError(err)}`, { cause: err });
      }
      if (!res.FailedPutCount) return;
      const responses = res.RequestResponses ?? [];
      const failed = pending.filter((_, i) => responses[i]?.ErrorCode !== undefined);
      // A response list that does not line up with the request cannot tell us
      // which entries failed: re-send them all (duplicates beat loss).
      pending = failed.length > 0 ? failed : pending;
      if (attempt >= this.retry.maxAttempts) {
        const codes = [...new Set(responses.map((r) => r.ErrorCode).filter((c) => c !== undefined))].join(', ');
        throw new PartialWriteError(this.name, pending.length, attempt, { cause: new Error(codes || 'FailedPutCount > 0') });
      }
      const delay = backoffDelay(attempt - 1, this.retry);
      this.opts.logger?.debug('firehose entries failed, retrying', { failed: pending.length, attempt, delay });
      await sleep(delay);
    }
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
