import { ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import path from 'node:path';
import { SymbolAnalyzer } from '../../../analytics';
import { startPipeline, type Pipeline } from '../../../local/pipeline';
import { KinesisWriter } from '../../../producer/kinesis-writer';
import { syntheticTicks, testSymbols } from '../../helpers/ticks';
import { tmpDir, waitFor } from '../../helpers/wait';

/**
 * Two real KCL MultiLangDaemon workers (same application, different worker
 * ids) share a 4-shard stream through the DynamoDB lease table, and the
 * result in DynamoDB is exactly what the pure analytics computes in-process.
 */
describe('two KCL workers share the leases', () => {
  let p: Pipeline;
  const dir = tmpDir('two-workers');

  beforeAll(async () => {
    p = await startPipeline({ shards: 4, workers: 2, dataDir: path.join(dir, 'data'), runDir: path.join(dir, 'run'), checkpointEveryMs: 1000 });
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('consumes 10,000 ticks with both workers holding leases, sma5/sma20 equal to the pure core', async () => {
    const symbols = testSymbols(40);
    const ticks = await syntheticTicks(symbols, 250);
    expect(ticks).toHaveLength(10_000);

    // Watch the lease table for the whole run: who held which lease.
    const owners = new Set<string>();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const r = await p.stack.dynamo.send(new ScanCommand({ TableName: p.applicationName })).catch(() => ({ Items: [] }));
        for (const item of r.Items ?? []) {
          const owner = item.leaseOwner?.S;
          if (owner) owners.add(owner);
        }
        await new Promise((res) => setTimeout(res, 300));
      }
    })();

    const writer = new KinesisWriter(p.stack.kinesis, { streamName: p.streamName });
    await writer.write(ticks);
    expect(writer.stats.recordsSent).toBe(10_000);

    await waitFor('10,000 rows in the ticks table', async () => ((await p.countRows(p.tables.ticks)) >= 10_000 ? true : undefined), 240_000, 1000);
    // both must have held a lease at some point; give the second a moment if it joined late
    await waitFor('both workers in the lease table', () => Promise.resolve(owners.size >= 2 ? true : undefined), 60_000, 500);
    watching = false;
    await watcher;
    expect([...owners].sort()).toEqual(['worker-1', 'worker-2']);

    const rows: Record<string, unknown>[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const r = await p.stack.dynamo.send(new ScanCommand({ TableName: p.tables.ticks, ...(start ? { ExclusiveStartKey: start } : {}) }));
      for (const i of r.Items ?? []) rows.push(unmarshall(i));
      start = r.LastEvaluatedKey;
    } while (start);
    expect(rows).toHaveLength(10_000);

    const expected = new Map<string, { sma5: number | null; sma20: number | null }>();
    const analyzers = new Map<string, SymbolAnalyzer>();
    for (const t of ticks) {
      let a = analyzers.get(t.symbol);
      if (!a) analyzers.set(t.symbol, (a = new SymbolAnalyzer(t.symbol)));
      const r = a.analyze(t);
      if (r.kind !== 'applied') throw new Error('generated ticks must not repeat');
      expected.set(`${t.symbol}/${t.ts}`, { sma5: r.row.sma5, sma20: r.row.sma20 });
    }
    let mismatches = 0;
    for (const row of rows) {
      const e = expected.get(`${String(row.symbol)}/${Number(row.ts)}`);
      const got = { sma5: (row.sma5 as number | null | undefined) ?? null, sma20: (row.sma20 as number | null | undefined) ?? null };
      if (!e || !Object.is(e.sma5, got.sma5) || !Object.is(e.sma20, got.sma20)) mismatches++;
    }
    expect({ mismatches, rows: rows.length }).toEqual({ mismatches: 0, rows: 10_000 });
  });
});
