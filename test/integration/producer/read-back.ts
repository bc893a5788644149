import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { decodeRecord, type Tick } from '../../../shared/tick';

/** Every record of the stream, per shard, in shard order. */
export async function readAll(kinesis: KinesisClient, streamName: string): Promise<Map<string, Tick[]>> {
  const shards = (await kinesis.send(new ListShardsCommand({ StreamName: streamName }))).Shards ?? [];
  const out = new Map<string, Tick[]>();
  for (const shard of shards) {
    const id = shard.ShardId as string;
    const ticks: Tick[] = [];
    let it = (await kinesis.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: id, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    for (let empty = 0; it !== undefined && empty < 2; ) {
      const r = await kinesis.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10_000 }));
      const records = r.Records ?? [];
      if (records.length === 0) empty++;
      for (const rec of records) {
        const d = decodeRecord(rec.Data ?? new Uint8Array());
        if (!d.ok) throw new Error(`undecodable record on ${id}: ${d.reason}`);
        ticks.push(...d.ticks);
      }
      it = r.NextShardIterator;
    }
    out.set(id, ticks);
  }
  return out;
}

/** Zero loss, no duplicates, per-symbol order, one shard per symbol. */
export function checkReadBack(perShard: Map<string, Tick[]>, sent: readonly Tick[]): void {
  const expected = new Map<string, number[]>();
  for (const t of sent) expected.set(t.symbol, [...(expected.get(t.symbol) ?? []), t.ts]);
  const got = new Map<string, number[]>();
  const shardOf = new Map<string, string>();
  for (const [shard, ticks] of perShard) {
    for (const t of ticks) {
      got.set(t.symbol, [...(got.get(t.symbol) ?? []), t.ts]);
      const prev = shardOf.get(t.symbol);
      if (prev !== undefined && prev !== shard) throw new Error(`${t.symbol} found on ${prev} and ${shard}`);
      shardOf.set(t.symbol, shard);
    }
  }
  const total = [...perShard.values()].reduce((n, l) => n + l.length, 0);
  expect(total).toBe(sent.length);
  const mismatched = [...expected.keys()].filter((s) => JSON.stringify(got.get(s)) !== JSON.stringify(expected.get(s)));
  expect(mismatched).toEqual([]);
}

