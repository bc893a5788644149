import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { dynamoError, type ProxiedRequest } from '../../../local/fault-proxy';
import { startPipeline, type Pipeline } from '../../../local/pipeline';
import { DynamoRestartLedger } from '../../../consumer/sinks/dynamodb-state';
import { closeDuckdb } from '../../../shared/parquet';
import type { Tick } from '../../../shared/tick';
import {
  allCheckpointedAt,
  diffRows,
  lakeDistinctKeys,
  lastSequenceByShard,
  pureRun,
  putInOrder,
  readDeadLetters,
  readLake,
  tickRecords,
  unmarshalledRows,
} from '../../helpers/pipeline-data';
import { syntheticTicks, testSymbols } from '../../helpers/ticks';
import { tmpDir, waitFor } from '../../helpers/wait';

const CLI = path.resolve(__dirname, '../../../dist/cli/dlq.js');

/** BatchWriteItem on `table` whose body holds this tick's item key. */
const writesTick = (table: string, t: Tick) => (req: ProxiedRequest): boolean =>
  req.target === 'DynamoDB_20120810.BatchWriteItem' && req.body.includes(`"${table}"`) && req.body.includes(`"symbol":{"S":"${t.symbol}"},"ts":{"N":"${t.ts}"}`);

/**
 * The three error classes through the real KCL daemon, with the workers'
 * DynamoDB traffic going through a proxy that answers chosen calls with
 * DynamoDB's own error responses (dynalite has no IAM and never refuses a
 * number the tick bounds let through). Transient errors are the outage test's.
 */
describe('error classes through the real daemon', () => {
  let p: Pipeline;
  const dir = tmpDir('error-classes');
  const dataDir = path.join(dir, 'data');
  const symbols = testSymbols(10);
  let ticks: Tick[];

  beforeAll(async () => {
    p = await startPipeline({ shards: 2, workers: 1, dataDir, runDir: path.join(dir, 'run'), checkpointEveryMs: 1000, dynamodbProxy: true, alertCooldownMs: 60_000 });
    ticks = await syntheticTicks(symbols, 40);
  });
  afterAll(async () => {
    await p?.stop();
    await closeDuckdb();
  });

  it('a row DynamoDB refuses for good is dead-lettered with the reason while the rest goes on; redriven after the fix, it is stored once', async () => {
    const first = ticks.slice(0, 300);
    const victim = first[155]!;
    const refusal = p.dynamoProxy!.inject({
      match: writesTick(p.tables.ticks, victim),
      ...dynamoError('ValidationException', 'One or more parameter values were invalid: Number overflow. Attempting to store a number with magnitude larger than supported range'),
    });
    const put = await putInOrder(p.stack.kinesis, p.streamName, tickRecords(first));
    await waitFor('every shard checkpointed at its last record', async () => ((await allCheckpointedAt(p.stack.dynamo, p.applicationName, lastSequenceByShard(put))) ? true : undefined), 120_000, 500);

    expect(refusal.hits).toBeGreaterThanOrEqual(1);
    const rows = await unmarshalledRows(p.stack.dynamo, p.tables.ticks);
    expect(rows).toHaveLength(299);
    expect(rows.some((r) => r.symbol === victim.symbol && r.ts === victim.ts)).toBe(false);
    const letters = readDeadLetters(dataDir);
    expect(letters).toHaveLength(1);
    const l = letters[0]!;
    expect({ kind: l.kind, partition_key: l.partition_key, held_by: [...(l.held_by ?? [])].sort(), tick: JSON.parse(Buffer.from(l.data_base64, 'base64').toString()) as unknown }).toEqual({
      kind: 'row',
      partition_key: victim.symbol,
      held_by: ['dynamodb-latest', 'lake'],
      tick: victim,
    });
    expect(l.reason).toMatch(/^refused by dynamodb-ticks: .*ValidationException.*Number overflow/);
    // one failing operation, isolated without retrying it, the worker never restarted
    // (the dead letter's status report follows the error's: wait for both, then count exactly)
    await waitFor('the status to report the error and its dead letter', () => Promise.resolve(p.status.totals.errors >= 1 && p.status.totals.deadLetters >= 1 ? true : undefined), 10_000, 100);
    expect({ errors: p.status.totals.errors, deadLetters: p.status.totals.deadLetters, sinkRetries: p.status.totals.sinkRetries, restarts: p.restarts[0] ?? 0 }).toEqual({ errors: 1, deadLetters: 1, sinkRetries: 0, restarts: 0 });

    // The cause is fixed; the operator redrives the letter.
    refusal.remove();
    const cli = await promisify(execFile)(process.execPath, [CLI, 'redrive', l.id, '--data', dataDir, '--stream', p.streamName, '--kinesis-endpoint', p.stack.kinesisEndpoint], {
      env: { ...process.env, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_REGION: p.stack.region },
    });
    expect(cli.stdout).toContain(l.id);
    const stored = await waitFor(
      'the redriven row in the ticks table',
      async () => {
        const all = await unmarshalledRows(p.stack.dynamo, p.tables.ticks);
        return all.length === 300 ? all : undefined;
      },
      120_000,
      500,
    );
    const pure = await pureRun(first, 60_000);
    expect(diffRows(stored, pure.rows, true)).toEqual([]);
    // stored once everywhere: the lake already held it and kept one copy
    await waitFor('the redrive to be checkpointed', () => Promise.resolve(p.status.totals.redriven >= 1 ? true : undefined), 60_000, 200);
    const lake = await waitFor('the lake flushed', async () => {
      const r = await readLake(dataDir);
      return r.length >= 300 ? r : undefined;
    }, 30_000, 500);
    expect({ rows: lake.length, distinct: lakeDistinctKeys(lake) }).toEqual({ rows: 300, distinct: 300 });
    expect(readDeadLetters(dataDir)).toHaveLength(1);
  });

  it('a table that does not exist stops the worker with one line naming it; it is neither restarted nor quarantined', async () => {
    const next = ticks.slice(300);
    p.dynamoProxy!.inject({
      match: (req) => req.target === 'DynamoDB_20120810.BatchWriteItem' && req.body.includes(`"${p.tables.ticks}"`),
      ...dynamoError('ResourceNotFoundException', 'Requested resource not found'),
    });
    await putInOrder(p.stack.kinesis, p.streamName, tickRecords(next));
    const line = await waitFor('the worker to stop on the configuration error', () => Promise.resolve(p.configStops[0]), 120_000, 250);
    expect(line).toMatch(/^configuration error during dynamodb-ticks write: .*tickstream-ticks.*ResourceNotFoundException.*the resource does not exist/);
    await p.workers[0]!.exited;
    // the supervisor would have restarted it after 1 s; it must not
    await new Promise((r) => setTimeout(r, 3000));
    expect({ restarts: p.restarts[0] ?? 0, stillStopped: p.workers[0]!.child.exitCode !== null }).toEqual({ restarts: 0, stillStopped: true });
    const log = fs.readFileSync(path.join(dir, 'run', 'worker-1.log'), 'utf8');
    const stopLines = log.split('\n').filter((x) => x.includes('"message":"configuration error: stopping this worker"'));
    expect(stopLines.length).toBeGreaterThanOrEqual(1);
    // A configuration stop leaves no start counted that could quarantine a record later.
    for (const shard of ['shardId-000000000000', 'shardId-000000000001']) {
      const item = await p.stack.dynamo.send(new GetItemCommand({ TableName: p.tables.state, Key: { symbol: { S: DynamoRestartLedger.keyOf(shard) } }, ConsistentRead: true }));
      expect({ shard, suspect: item.Item?.suspect?.S }).toEqual({ shard, suspect: undefined });
    }
  });
});
