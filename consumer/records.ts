/**
 * What a Kinesis record can hold, as the consumer reads it:
 * - a tick or an aggregate of one symbol's ticks (shared/tick.ts decodeRecord);
 * - a redriven row `{"v":1,"rows":[row]}` (shared/enriched.ts encodeRowRedrive),
 *   put back by `npm run dlq -- redrive` for a row a sink once refused.
 * Never throws: whatever fails is a reason for a dead letter.
 */
import { ENRICHED_COLUMNS, PARTITION_COLUMN, ROW_REDRIVE_PREFIX, storable, type EnrichedTick } from '../shared/enriched';
import { decodeRecord, MAX_RECORD_BYTES, TICK_SCHEMA_VERSION, TickSchema, type Tick } from '../shared/tick';

export type DecodeResult = { ok: true; kind: 'ticks'; ticks: Tick[] } | { ok: true; kind: 'rows'; rows: EnrichedTick[] } | { ok: false; reason: string };

const REDRIVE_PREFIX = Buffer.from(ROW_REDRIVE_PREFIX);
const DT = /^\d{4}-\d{2}-\d{2}$/;

export function decodeStreamRecord(bytes: Uint8Array): DecodeResult {
  const isRedrive = bytes.byteLength > REDRIVE_PREFIX.byteLength && Buffer.from(bytes.buffer, bytes.byteOffset, REDRIVE_PREFIX.byteLength).equals(REDRIVE_PREFIX);
  if (!isRedrive) {
    const r = decodeRecord(bytes);
    return r.ok ? { ok: true, kind: 'ticks', ticks: r.ticks } : r;
  }
  if (bytes.byteLength > MAX_RECORD_BYTES) return { ok: false, reason: `payload too large: ${bytes.byteLength} bytes > ${MAX_RECORD_BYTES}` };
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (err) {
    return { ok: false, reason: `invalid JSON: ${(err as Error).message}` };
  }
  const o = json as { v?: unknown; rows?: unknown };
  if (Object.keys(o).length !== 2 || !Array.isArray(o.rows) || o.rows.length !== 1) return { ok: false, reason: 'invalid redrive: expected exactly {"v":1,"rows":[row]}' };
  const problem = rowProblem(o.rows[0]);
  if (problem !== undefined) return { ok: false, reason: `invalid redrive: ${problem}` };
  return { ok: true, kind: 'rows', rows: [o.rows[0] as EnrichedTick] };
}

/**
 * A redriven row is checked as strictly as a tick: its tick columns against
 * the tick contract's bounds, every other column by type, and every number
 * storable, so a redrive cannot carry what the sinks would refuse again.
 */
function rowProblem(row: unknown): string | undefined {
  if (typeof row !== 'object' || row === null || Array.isArray(row)) return 'row is not an object';
  const r = row as Record<string, unknown>;
  const expected = new Set<string>([...ENRICHED_COLUMNS.map((c) => c.name), PARTITION_COLUMN.name]);
  for (const k of Object.keys(r)) if (!expected.has(k)) return `unknown column ${k}`;
  for (const c of ENRICHED_COLUMNS) {
    const v = r[c.name];
    if (v === null || v === undefined) {
      if (!c.nullable) return `${c.name}: required`;
      continue;
    }
    const ok =
      c.type === 'string' ? typeof v === 'string' : c.type === 'boolean' ? typeof v === 'boolean' : typeof v === 'number' && storable(v) === v;
    if (!ok) return `${c.name}: not a storable ${c.type}`;
  }
  if (typeof r.dt !== 'string' || !DT.test(r.dt)) return 'dt: expected YYYY-MM-DD';
  const asTick = TickSchema.safeParse({
    v: TICK_SCHEMA_VERSION,
    symbol: r.symbol,
    ts: r.ts,
    price: r.price,
    volume: r.volume,
    ...(r.previous_close === null || r.previous_close === undefined ? {} : { previousClose: r.previous_close }),
    source: r.source,
    producedAt: r.produced_at,
  });
  if (!asTick.success) return asTick.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
  if (new Date(r.ts as number).toISOString().slice(0, 10) !== r.dt) return 'dt: not the UTC date of ts';
  return undefined;
}
