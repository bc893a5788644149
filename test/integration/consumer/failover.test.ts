import path from 'node:path';
import { startPipeline, type Pipeline } from '../../../local/pipeline';
import { closeDuckdb } from '../../../shared/parquet';
import type { Tick } from '../../../shared/tick';
import {
  allCheckpointedAt,
  alertLine,
  diffRows,
  lakeDistinctKeys,
  lastSequenceByShard,
  leases,
  pureRun,
  putInOrder,
  readAlerts,
  readLake,
  sortAlerts,
  tickRecords,
  unmarshalledRows,
  type PutResult,
} from '../../helpers/pipeline-data';
import { syntheticTicks, testSymbols } from '../../helpers/ticks';
import { tmpDir, waitFor } from '../../helpers/wait';

const COOLDOWN_MS = 60_000;
const FAILOVER_MS = 5000;

interface LeaseSample {
  at: number;
  owners: Map<string, string | undefined>;
}

/**
 * Failover with the real daemon: two workers share the stream, one is killed
 * with SIGKILL (its whole process group: the JVM and its record processors)
 * while it holds leases and has work not yet checkpointed. The survivor takes
 * its leases over and replays from the last checkpoints; the final DynamoDB
 * rows, lake rows and alerts must equal an uninterrupted run of the pure core.
 */
describe('failover after kill -9 of a worker', () => {
  let p: Pipeline;
  const dir = tmpDir('failover');
  const dataDir = path.join(dir, 'data');

  beforeAll(async () => {
    p = await startPipeline({
      shards: 4,
      workers: 2,
      dataDir,
      runDir: path.join(dir, 'run'),
      // checkpoints far enough apart that the killed worker leaves work past its last one
      checkpointEveryMs: 3000,
      failoverTimeMillis: FAILOVER_MS,
      alertCooldownMs: COOLDOWN_MS,
    });
  });
  afterAll(async () => {
    await p?.stop();
    await closeDuckdb();
  });

  it('ends with DynamoDB, lake and alerts equal to an uninterrupted run', async () => {
    const symbols = testSymbols(40);
    const ticks = await syntheticTicks(symbols, 300, 11);
    const total = ticks.length;
    expect(total).toBe(12_000);
    const pure = await pureRun(ticks, COOLDOWN_MS);
    expect(pure.alerts.length).toBeGreaterThan(0);
    // four bursts of 75 ticks per symbol each, in stream order
    const bursts: Tick[][] = [0, 1, 2, 3].map((b) => ticks.slice(b * 3000, (b + 1) * 3000));

    const samples: LeaseSample[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        try {
          const ls = await leases(p.stack.dynamo, p.applicationName);
          samples.push({ at: Date.now(), owners: new Map(ls.map((l) => [String(l.leaseKey), l.leaseOwner as string | undefined])) });
        } catch {
          /* the next sample will do */
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const ownedBy = (s: LeaseSample | undefined, worker: string): number => (s ? [...s.owners.values()].filter((o) => o === worker).length : 0);

    const put: PutResult[] = [];
    const t0 = Date.now();
    try {
      put.push(...(await putInOrder(p.stack.kinesis, p.streamName, tickRecords([...bursts[0]!, ...bursts[1]!]))));
      await waitFor(
        'both workers holding leases and the first rows written',
        async () => {
          const s = samples.at(-1);
          return ownedBy(s, 'worker-1') > 0 && ownedBy(s, 'worker-2') > 0 && (await p.countRows(p.tables.ticks)) >= 1500 ? true : undefined;
        },
        120_000,
        200,
      );
      const before = samples.at(-1)!;
      const killedShards = [...before.owners].filter(([, o]) => o === 'worker-1').map(([k]) => k);
      const killedAt = Date.now();
      await p.killWorker(0);
      const rowsAtKill = await p.countRows(p.tables.ticks);
      expect({ worker1HeldLeases: killedShards.length > 0, worker1DiedOfSigkill: p.workers[0]?.child.signalCode === 'SIGKILL' }).toEqual({ worker1HeldLeases: true, worker1DiedOfSigkill: true });
      expect(rowsAtKill).toBeGreaterThan(0);
      expect(rowsAtKill).toBeLessThan(total);

      // the rest of the stream arrives while the survivor is alone
      put.push(...(await putInOrder(p.stack.kinesis, p.streamName, tickRecords([...bursts[2]!, ...bursts[3]!]))));
      const last = lastSequenceByShard(put);
      await waitFor(
        'the survivor owning every lease',
        () => Promise.resolve(samples.at(-1) !== undefined && samples.at(-1)!.at > killedAt && ownedBy(samples.at(-1), 'worker-2') === samples.at(-1)!.owners.size ? true : undefined),
        120_000,
        250,
      );
      const takeoverMs = samples.find((s) => s.at > killedAt && ownedBy(s, 'worker-2') === s.owners.size)!.at - killedAt;
      await waitFor('every shard checkpointed at its last record', async () => ((await allCheckpointedAt(p.stack.dynamo, p.applicationName, last)) ? true : undefined), 120_000, 500);
      const doneMs = Date.now() - killedAt;
      process.stderr.write(
        `failover: killed worker-1 ${killedAt - t0} ms into the test, holding ${killedShards.join(', ')} with ${rowsAtKill}/${total} rows written; worker-2 owned every lease ${takeoverMs} ms after the kill, all shards checkpointed at the end ${doneMs} ms after it; records handed to processors ${p.status.totals.records} for ${total} put (the excess is the replay from the killed worker's last checkpoints)\n`,
      );
    } finally {
      watching = false;
      await watcher;
    }

    const finalLeases = await leases(p.stack.dynamo, p.applicationName);
    expect(finalLeases.map((l) => l.leaseOwner)).toEqual(finalLeases.map(() => 'worker-2'));

    const rows = await unmarshalledRows(p.stack.dynamo, p.tables.ticks);
    expect(rows).toHaveLength(total);
    expect(diffRows(rows, pure.rows, true)).toEqual([]);

    const latest = await unmarshalledRows(p.stack.dynamo, p.tables.latest);
    const lastRowOf = new Map<string, { ts: number; sma5: number | null; sma20: number | null }>();
    for (const r of pure.rows.values()) lastRowOf.set(r.symbol, { ts: r.ts, sma5: r.sma5, sma20: r.sma20 });
    const latestDiffs = latest.filter((l) => {
      const e = lastRowOf.get(String(l.symbol));
      return !e || e.ts !== l.ts || !Object.is(e.sma5, l.sma5 ?? null) || !Object.is(e.sma20, l.sma20 ?? null);
    });
    expect({ latest: latest.length, differing: latestDiffs.map((l) => l.symbol) }).toEqual({ latest: 40, differing: [] });

    const lake = await readLake(dataDir);
    expect({ rows: lake.length, distinct: lakeDistinctKeys(lake) }).toEqual({ rows: total, distinct: total });
    expect(diffRows(lake, pure.rows, false)).toEqual([]);

    const alerts = readAlerts(dataDir);
    expect(alerts.length - new Set(alerts.map((a) => a.id)).size).toBe(0);
    expect(sortAlerts(alerts)).toEqual(sortAlerts(pure.alerts.map(alertLine)));
  });
});
