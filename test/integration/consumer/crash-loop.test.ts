import path from 'node:path';
import { startPipeline, type Pipeline } from '../../../local/pipeline';
import { closeDuckdb } from '../../../shared/parquet';
import { encodeTick, type Tick } from '../../../shared/tick';
import { ENV } from '../../../shared/env-names';
import {
  allCheckpointedAt,
  diffRows,
  lakeDistinctKeys,
  lastSequenceByShard,
  pureRun,
  putInOrder,
  readAlerts,
  readDeadLetters,
  readLake,
  unmarshalledRows,
} from '../../helpers/pipeline-data';
import { syntheticTicks, testSymbols } from '../../helpers/ticks';
import { tmpDir, waitFor } from '../../helpers/wait';

const QUARANTINE_AFTER = 2;

/**
 * A record that kills its record processor from outside every handler (the
 * fault-injection marker: an exception thrown from a timer, as a bug in a
 * library callback would). The daemon dies with it; the supervisor restarts
 * the worker with the same id, as ECS would, and the worker meets the same
 * record again. After QUARANTINE_AFTER restarts at that checkpoint the shard
 * is processed record by record, the record that kills it is found, and it is
 * dead-lettered; every other record is processed exactly once.
 */
describe('crash-loop quarantine through the real daemon', () => {
  let p: Pipeline;
  const dir = tmpDir('crash-loop');
  const dataDir = path.join(dir, 'data');

  beforeAll(async () => {
    p = await startPipeline({
      shards: 1,
      workers: 1,
      dataDir,
      runDir: path.join(dir, 'run'),
      checkpointEveryMs: 1000,
      alertCooldownMs: 60_000,
      // a dead processor holds its JVM for the whole grace period before it exits
      shutdownGraceMillis: 5000,
      workerEnv: { [ENV.faultCrashMarker]: '"symbol":"ZZCRASH"', [ENV.quarantineAfter]: String(QUARANTINE_AFTER) },
    });
  });
  afterAll(async () => {
    await p?.stop();
    await closeDuckdb();
  });

  it('dead-letters the record that kills the processor after N restarts, and processes every other record exactly once', async () => {
    const good = await syntheticTicks(testSymbols(8), 40);
    const killer: Tick = { ...good[150]!, symbol: 'ZZCRASH' };
    const records = good.map((t) => ({ partitionKey: t.symbol, data: encodeTick(t) }));
    records.splice(151, 0, { partitionKey: killer.symbol, data: encodeTick(killer) });
    const put = await putInOrder(p.stack.kinesis, p.streamName, records);
    const killerSeq = put[151]!.sequenceNumber;

    await waitFor('the shard checkpointed at its last record', async () => ((await allCheckpointedAt(p.stack.dynamo, p.applicationName, lastSequenceByShard(put))) ? true : undefined), 420_000, 1000);

    const letters = readDeadLetters(dataDir);
    expect(letters.map((l) => ({ kind: l.kind, seq: l.sequence_number, key: l.partition_key }))).toEqual([{ kind: 'crash', seq: killerSeq, key: 'ZZCRASH' }]);
    expect(letters[0]!.reason).toMatch(/died while processing this record/);
    expect(Buffer.from(letters[0]!.data_base64, 'base64').equals(records[151]!.data)).toBe(true);
    // It took at least N+1 deaths: N at the batch's checkpoint, one more in quarantine.
    expect(p.restarts[0] ?? 0).toBeGreaterThanOrEqual(QUARANTINE_AFTER + 1);

    // Exactly once, in every sink: each row equal to the pure core's, the lake
    // without a duplicate, and no alert twice.
    const rows = await unmarshalledRows(p.stack.dynamo, p.tables.ticks);
    expect(rows).toHaveLength(good.length);
    const pure = await pureRun(good, 60_000);
    expect(diffRows(rows, pure.rows, true)).toEqual([]);
    const lake = await waitFor('the lake to hold every row', async () => {
      const r = await readLake(dataDir);
      return r.length >= good.length ? r : undefined;
    }, 30_000, 500);
    expect({ rows: lake.length, distinct: lakeDistinctKeys(lake) }).toEqual({ rows: good.length, distinct: good.length });
    const alerts = readAlerts(dataDir);
    expect(new Set(alerts.map((a) => a.id)).size).toBe(alerts.length);
    expect(alerts.map((a) => a.id).sort()).toEqual(pure.alerts.map((a) => a.id).sort());
  });
});
