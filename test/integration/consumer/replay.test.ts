import { DeleteItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import fs from 'node:fs';
import path from 'node:path';
import { startPipeline, type Pipeline } from '../../../local/pipeline';
import { closeDuckdb } from '../../../shared/parquet';
import {
  allCheckpointedAt,
  alertLine,
  lakeDistinctKeys,
  lastSequenceByShard,
  leases,
  pureRun,
  putInOrder,
  readAlerts,
  readLake,
  scanAll,
  sortAlerts,
  tableSnapshot,
  tickRecords,
  type LakeRow,
} from '../../helpers/pipeline-data';
import { syntheticTicks, testSymbols } from '../../helpers/ticks';
import { tmpDir, waitFor } from '../../helpers/wait';

const COOLDOWN_MS = 60_000;

interface Outputs {
  ticks: string[];
  latest: string[];
  state: string[];
  ledger: string[];
  lake: LakeRow[];
  lakeFiles: string[];
  alertsFile: string;
}

/**
 * Replay: the whole stream is processed, the KCL checkpoints are reset to
 * TRIM_HORIZON and the stream is processed again by a fresh worker, first
 * with the per-symbol snapshots kept (every tick is a duplicate), then with
 * the state table wiped too (a full recompute). DynamoDB, the lake and the
 * alerts must come out identical each time.
 */
describe('replaying a stream from TRIM_HORIZON', () => {
  let p: Pipeline;
  const dir = tmpDir('replay');
  const dataDir = path.join(dir, 'data');

  beforeAll(async () => {
    p = await startPipeline({
      shards: 4,
      workers: 1,
      dataDir,
      runDir: path.join(dir, 'run'),
      // no timed checkpoint during a pass: the graceful stop's shutdownRequested
      // is what checkpoints at the end of each one
      checkpointEveryMs: 600_000,
      shutdownGraceMillis: 30_000,
      alertCooldownMs: COOLDOWN_MS,
    });
  });
  afterAll(async () => {
    await p?.stop();
    await closeDuckdb();
  });

  function splitState(items: string[]): { state: string[]; ledger: string[] } {
    const isLedger = (i: string): boolean => i.includes('"S":"~shard/');
    return { state: items.filter((i) => !isLedger(i)), ledger: items.filter(isLedger) };
  }

  async function outputs(): Promise<Outputs> {
    const lakeDir = path.join(dataDir, 'lake', 'ticks');
    return {
      ticks: await tableSnapshot(p.stack.dynamo, p.tables.ticks),
      latest: await tableSnapshot(p.stack.dynamo, p.tables.latest),
      // the symbols' snapshots; the crash-loop ledger shares the table (~shard/<id>)
      ...splitState(await tableSnapshot(p.stack.dynamo, p.tables.state)),
      lake: await readLake(dataDir),
      lakeFiles: fs.existsSync(lakeDir) ? (fs.readdirSync(lakeDir, { recursive: true }) as string[]).sort() : [],
      alertsFile: fs.readFileSync(path.join(dataDir, 'alerts.jsonl'), 'utf8'),
    };
  }

  /** Every lease back to TRIM_HORIZON, as an operator would do to reprocess a stream. */
  async function resetCheckpoints(): Promise<void> {
    const items = await leases(p.stack.dynamo, p.applicationName);
    expect(items.length).toBeGreaterThan(0);
    for (const l of items) {
      // The real KCL 3.x lease item: if these names changed, the reset below would silently do nothing.
      expect({ leaseKey: typeof l.leaseKey, checkpoint: typeof l.checkpoint, sub: typeof l.checkpointSubSequenceNumber }).toEqual({
        leaseKey: 'string',
        checkpoint: 'string',
        sub: 'number',
      });
      await p.stack.dynamo.send(
        new UpdateItemCommand({
          TableName: p.applicationName,
          Key: { leaseKey: { S: String(l.leaseKey) } },
          UpdateExpression: 'SET #cp = :th, #sub = :zero',
          ExpressionAttributeNames: { '#cp': 'checkpoint', '#sub': 'checkpointSubSequenceNumber' },
          ExpressionAttributeValues: { ':th': { S: 'TRIM_HORIZON' }, ':zero': { N: '0' } },
        }),
      );
    }
    const after = await leases(p.stack.dynamo, p.applicationName);
    expect(after.map((l) => l.checkpoint)).toEqual(after.map(() => 'TRIM_HORIZON'));
  }

  /** Waits until every record has been handed to a processor, then stops the worker gracefully. */
  async function consumeAndStop(records: number, last: ReadonlyMap<string, string>): Promise<void> {
    await waitFor('every record processed', () => Promise.resolve(p.status.totals.records >= records ? true : undefined), 120_000, 300);
    await p.stopWorker(0, 60_000);
    // 143 = 128 + SIGTERM: the JVM exited by itself after its shutdown hook,
    // not killed at the end of the grace period
    const w = p.workers[0]!.child;
    expect({ exitCode: w.exitCode, signal: w.signalCode, checkpointedAtTheEnd: await allCheckpointedAt(p.stack.dynamo, p.applicationName, last) }).toEqual({
      exitCode: 143,
      signal: null,
      checkpointedAtTheEnd: true,
    });
  }

  /** Start the worker, wait until it has re-read every record, stop it gracefully. */
  async function processAgain(last: ReadonlyMap<string, string>, total: number): Promise<{ records: number; applied: number; duplicates: number }> {
    const before = { ...p.status.totals };
    p.startWorker(0);
    await consumeAndStop(before.records + total, last);
    return { records: p.status.totals.records - before.records, applied: p.status.totals.applied - before.applied, duplicates: p.status.totals.duplicates - before.duplicates };
  }

  it('gives identical DynamoDB tables, lake and alerts on replay, with and without the saved state', async () => {
    const ticks = await syntheticTicks(testSymbols(20), 200, 7);
    const total = ticks.length;
    expect(total).toBe(4000);
    const pure = await pureRun(ticks, COOLDOWN_MS);
    expect(pure.alerts.length).toBeGreaterThan(0);

    const put = await putInOrder(p.stack.kinesis, p.streamName, tickRecords(ticks));
    const last = lastSequenceByShard(put);
    await consumeAndStop(total, last);

    const first = await outputs();
    expect({ ticks: first.ticks.length, latest: first.latest.length, state: first.state.length, lake: first.lake.length, lakeDistinct: lakeDistinctKeys(first.lake) }).toEqual({
      ticks: total,
      latest: 20,
      state: 20,
      lake: total,
      lakeDistinct: total,
    });
    const alerts = readAlerts(dataDir);
    expect({ alerts: alerts.length, distinctIds: new Set(alerts.map((a) => a.id)).size }).toEqual({ alerts: pure.alerts.length, distinctIds: pure.alerts.length });
    expect(sortAlerts(alerts)).toEqual(sortAlerts(pure.alerts.map(alertLine)));

    // Replay 1: checkpoints reset, snapshots kept: every tick is a duplicate.
    await resetCheckpoints();
    const r1 = await processAgain(last, total);
    expect(r1).toEqual({ records: total, applied: 0, duplicates: total });
    // Every pass ends with a graceful stop, which leaves no start counted
    // towards the crash-loop quarantine.
    expect(first.ledger.length).toBeGreaterThan(0);
    expect(first.ledger.map((i) => /"starts":\{"N":"(\d+)"\}/.exec(i)?.[1])).toEqual(first.ledger.map(() => '0'));
    const second = await outputs();
    expect(second.ticks).toEqual(first.ticks);
    expect(second.latest).toEqual(first.latest);
    expect(second.state).toEqual(first.state);
    expect(second.lake).toEqual(first.lake);
    expect(second.lakeFiles).toEqual(first.lakeFiles);
    expect(second.alertsFile).toEqual(first.alertsFile);

    // Replay 2: checkpoints reset and the state table wiped: a full recompute.
    await resetCheckpoints();
    for (const item of await scanAll(p.stack.dynamo, p.tables.state)) {
      await p.stack.dynamo.send(new DeleteItemCommand({ TableName: p.tables.state, Key: { symbol: item.symbol! } }));
    }
    expect(await p.countRows(p.tables.state)).toBe(0);
    const r2 = await processAgain(last, total);
    expect(r2).toEqual({ records: total, applied: total, duplicates: 0 });
    const third = await outputs();
    expect(third.ticks).toEqual(first.ticks);
    expect(third.latest).toEqual(first.latest);
    // the recomputed snapshots are the same plain data as the first pass's
    expect(third.state).toEqual(first.state);
    expect({ rows: third.lake.length, distinct: lakeDistinctKeys(third.lake) }).toEqual({ rows: total, distinct: total });
    expect(third.lake).toEqual(first.lake);
    expect(third.lakeFiles).toEqual(first.lakeFiles);
    expect(third.alertsFile).toEqual(first.alertsFile);
    const ids = readAlerts(dataDir).map((a) => a.id);
    expect(ids.length - new Set(ids).size).toBe(0);
  });
});
