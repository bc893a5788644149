import { ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import path from 'node:path';
import { startPipeline, type Pipeline } from '../../../local/pipeline';
import { closeDuckdb } from '../../../shared/parquet';
import {
  allCheckpointedAt,
  alertLine,
  diffRows,
  lakeDistinctKeys,
  lastSequenceByShard,
  leaseCheckpoints,
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
const OUTAGE_MS = 10_000;

/**
 * Sink outage: the workers (KCL daemons and record processors) reach the
 * DynamoDB emulator through a proxy that cuts every connection for 10 s
 * mid-stream, while the test reads the emulator directly. The daemons lose
 * their lease table too, as they would in a real outage. No lease checkpoint
 * may ever cover a record whose row is not in the ticks table, and after
 * recovery every row is there, equal to the pure core's.
 */
describe('DynamoDB unreachable for 10 s mid-stream', () => {
  let p: Pipeline;
  const dir = tmpDir('outage');
  const dataDir = path.join(dir, 'data');

  beforeAll(async () => {
    p = await startPipeline({
      shards: 4,
      workers: 2,
      dataDir,
      runDir: path.join(dir, 'run'),
      checkpointEveryMs: 1000,
      alertCooldownMs: COOLDOWN_MS,
      dynamodbProxy: true,
    });
  });
  afterAll(async () => {
    await p?.stop();
    await closeDuckdb();
  });

  /** (symbol, ts) of every row in the ticks table, read directly from the emulator. */
  async function rowKeys(): Promise<Set<string>> {
    const out = new Set<string>();
    let start: Record<string, AttributeValue> | undefined;
    do {
      const r = await p.stack.dynamo.send(
        new ScanCommand({
          TableName: p.tables.ticks,
          ConsistentRead: true,
          ProjectionExpression: '#s, #t',
          ExpressionAttributeNames: { '#s': 'symbol', '#t': 'ts' },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const i of r.Items ?? []) out.add(`${i.symbol!.S}/${i.ts!.N}`);
      start = r.LastEvaluatedKey;
    } while (start);
    return out;
  }

  it('never checkpoints past unwritten rows and loses nothing', async () => {
    const ticks = await syntheticTicks(testSymbols(20), 300, 3);
    const total = ticks.length;
    const pure = await pureRun(ticks, COOLDOWN_MS);
    const records = tickRecords(ticks);
    // where each record landed, filled in as bursts are put
    const put: PutResult[] = [];
    /** shard → [sequence number, row key] of every record put to it */
    const byShard = new Map<string, { seq: bigint; key: string }[]>();
    const index = (results: readonly PutResult[], offset: number): void => {
      results.forEach((r, k) => {
        const t = ticks[offset + k]!;
        let list = byShard.get(r.shardId);
        if (!list) byShard.set(r.shardId, (list = []));
        list.push({ seq: BigInt(r.sequenceNumber), key: `${t.symbol}/${t.ts}` });
      });
    };

    /** Checkpoints first, rows second: a row missing now was missing when the checkpoint was read. */
    const violations: string[] = [];
    let checks = 0;
    const check = async (): Promise<Map<string, string>> => {
      const cps = await leaseCheckpoints(p.stack.dynamo, p.applicationName);
      const rows = await rowKeys();
      checks++;
      for (const [shard, cp] of cps) {
        if (!/^\d+$/.test(cp)) continue; // TRIM_HORIZON, SHARD_END, …
        const at = BigInt(cp);
        const missing = (byShard.get(shard) ?? []).filter((r) => r.seq <= at && !rows.has(r.key));
        if (missing.length > 0) violations.push(`${shard} checkpointed at ${cp} with ${missing.length} row(s) not written, e.g. ${missing[0]!.key}`);
      }
      return cps;
    };

    const half = total / 2;
    const first = await putInOrder(p.stack.kinesis, p.streamName, records.slice(0, half));
    put.push(...first);
    index(first, 0);
    await waitFor('rows from the first half', async () => ((await p.countRows(p.tables.ticks)) >= 1000 ? true : undefined), 120_000, 300);

    const proxy = p.dynamoProxy!;
    proxy.pause();
    const pausedAt = Date.now();
    const rowsAtPause = await p.countRows(p.tables.ticks);
    // the rest of the stream arrives during the outage (Kinesis is not affected)
    const second = await putInOrder(p.stack.kinesis, p.streamName, records.slice(half));
    put.push(...second);
    index(second, half);
    await new Promise((r) => setTimeout(r, 1000));
    const cpEarly = await check();
    const rowsEarly = await p.countRows(p.tables.ticks);
    while (Date.now() - pausedAt < OUTAGE_MS - 1000) {
      await check();
      await new Promise((r) => setTimeout(r, 1000));
    }
    const cpLate = await check();
    const rowsLate = await p.countRows(p.tables.ticks);
    // the outage is real: nothing reached DynamoDB while the proxy was cut
    expect({ checkpointsMoved: cpLate, rowsWritten: rowsLate }).toEqual({ checkpointsMoved: cpEarly, rowsWritten: rowsEarly });
    while (Date.now() - pausedAt < OUTAGE_MS) await new Promise((r) => setTimeout(r, 100));
    proxy.resume();
    const resumedAt = Date.now();
    expect(proxy.stats.refused).toBeGreaterThan(0);

    const last = lastSequenceByShard(put);
    let done = false;
    for (let i = 0; !done && Date.now() - resumedAt < 150_000; i++) {
      await check();
      done = await allCheckpointedAt(p.stack.dynamo, p.applicationName, last);
      if (!done) await new Promise((r) => setTimeout(r, 1000));
    }
    const recoveredMs = Date.now() - resumedAt;
    await check();
    process.stderr.write(
      `outage: ${rowsAtPause}/${total} rows at the cut, ${proxy.stats.refused} connections refused during ${OUTAGE_MS} ms; every shard checkpointed at its end ${recoveredMs} ms after the resume; ${checks} checkpoint/row checks\n`,
    );
    expect(violations).toEqual([]);
    expect(done).toBe(true);

    const rows = await unmarshalledRows(p.stack.dynamo, p.tables.ticks);
    expect(rows).toHaveLength(total);
    expect(diffRows(rows, pure.rows, true)).toEqual([]);
    const lake = await readLake(dataDir);
    expect({ rows: lake.length, distinct: lakeDistinctKeys(lake) }).toEqual({ rows: total, distinct: total });
    expect(diffRows(lake, pure.rows, false)).toEqual([]);
    const alerts = readAlerts(dataDir);
    expect(alerts.length - new Set(alerts.map((a) => a.id)).size).toBe(0);
    expect(sortAlerts(alerts)).toEqual(sortAlerts(pure.alerts.map(alertLine)));
  });
});
