/**
 * The enriched tick as each sink stores it, all derived from ENRICHED_COLUMNS
 * (shared/enriched.ts) so DynamoDB, the Firehose JSON and the Parquet lake
 * carry the same columns under the same names.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { EnrichedTick } from '../../shared/enriched';
import { ENRICHED_COLUMNS, PARTITION_COLUMN } from '../../shared/enriched';

type Row = Record<string, unknown>;

/**
 * One Firehose record: the Glue columns in schema order plus the `dt`
 * partition key (read by dynamic partitioning's jq `.dt`), newline-terminated.
 * ts/produced_at stay epoch ms: the OpenX JSON SerDe of Firehose's record
 * format conversion reads epoch millis into Parquet timestamps.
 */
export function toJsonRow(tick: EnrichedTick): Record<string, unknown> {
  const out: Row = {};
  for (const c of ENRICHED_COLUMNS) out[c.name] = (tick as unknown as Row)[c.name] ?? null;
  out[PARTITION_COLUMN.name] = tick.dt;
  return out;
}

export function toJsonLine(tick: EnrichedTick): string {
  return `${JSON.stringify(toJsonRow(tick))}\n`;
}

/** DynamoDB attribute for one column value; null means "omit the attribute". */
export function toAttr(v: unknown): AttributeValue | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return null;
    return { N: String(v) };
  }
  if (typeof v === 'boolean') return { BOOL: v };
  return { S: typeof v === 'string' ? v : JSON.stringify(v) };
}

/** Columns plus dt as DynamoDB attributes; null columns are left out (an
 *  absent attribute costs nothing, a NULL one costs bytes on every item). */
export function toDynamoAttributes(tick: EnrichedTick): Record<string, AttributeValue> {
  const item: Record<string, AttributeValue> = {};
  for (const c of ENRICHED_COLUMNS) {
    const a = toAttr((tick as unknown as Row)[c.name]);
    if (a) item[c.name] = a;
  }
  item[PARTITION_COLUMN.name] = { S: tick.dt };
  return item;
}
