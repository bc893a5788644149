import fs from 'node:fs';
import path from 'node:path';
import { checkHealth, type Health } from '../../../consumer/health';
import { ENV } from '../../../shared/env-names';
import { startPipeline, type Pipeline } from '../../../local/pipeline';
import { closeDuckdb } from '../../../shared/parquet';
import { putInOrder, tickRecords } from '../../helpers/pipeline-data';
import { syntheticTicks, testSymbols } from '../../helpers/ticks';
import { tmpDir, waitFor } from '../../helpers/wait';

/** Shorter than production's 90 s so the test is quick; longer than a DynamoDB request's 30 s timeout. */
const STALE_MS = 40_000;
const OUTAGE_MS = 35_000;

/**
 * The consumer health check on a real local pipeline (KCL daemon, one Node
 * record processor per shard): a DynamoDB outage, during which the
 * processors retry, leaves the worker healthy; a record processor stopped
 * with SIGSTOP makes it unhealthy within the stale window, naming its shard.
 */
describe('consumer health check (consumer/health.ts) on a running worker', () => {
  let p: Pipeline;
  const dir = tmpDir('health');
  const hbDir = path.join(dir, 'heartbeats');
  let stopped: number | undefined;

  beforeAll(async () => {
    p = await startPipeline({
      shards: 2,
      workers: 1,
      dataDir: path.join(dir, 'data'),
      runDir: path.join(dir, 'run'),
      checkpointEveryMs: 1000,
      dynamodbProxy: true,
      workerEnv: { [ENV.heartbeatDir]: hbDir },
    });
  });
  afterAll(async () => {
    if (stopped !== undefined) process.kill(stopped, 'SIGCONT');
    await p?.stop();
    await closeDuckdb();
  });

  const health = (): Health => checkHealth(hbDir, STALE_MS);
  const processorPids = (): number[] => fs.readdirSync(hbDir).flatMap((n) => (/^(\d+)\.json$/.exec(n) ? [Number(n.split('.')[0])] : []));

  it('is healthy through a sink outage and unhealthy within the window when a processor stalls', async () => {
    const ticks = await syntheticTicks(testSymbols(10), 200, 7);
    const records = tickRecords(ticks);
    await putInOrder(p.stack.kinesis, p.streamName, records.slice(0, 500));
    await waitFor('both shards\' processors reporting', () => Promise.resolve(health().healthy && Object.keys(health().processors).length === 2 ? true : undefined), 180_000, 500);

    // A transient outage: every DynamoDB connection reset for 35 s while records keep coming.
    p.dynamoProxy!.pause();
    const outageStart = Date.now();
    await putInOrder(p.stack.kinesis, p.streamName, records.slice(500, 1000));
    const during: Health[] = [];
    while (Date.now() - outageStart < OUTAGE_MS) {
      during.push(health());
      await new Promise((r) => setTimeout(r, 1000));
    }
    p.dynamoProxy!.resume();
    expect(during.filter((h) => !h.healthy)).toEqual([]);
    await waitFor('processors reporting after the outage', () => Promise.resolve(health().healthy && Object.keys(health().processors).length > 0 ? true : undefined), 120_000, 500);

    // A stuck processor: SIGSTOP one (a live pid whose heartbeat stops).
    const victim = processorPids()[0]!;
    const shard = (JSON.parse(fs.readFileSync(path.join(hbDir, `${victim}.json`), 'utf8')) as { shardId: string }).shardId;
    process.kill(victim, 'SIGSTOP');
    stopped = victim;
    const stoppedAt = Date.now();
    const sick = await waitFor(
      'the health check to fail',
      () => {
        const h = health();
        return Promise.resolve(h.healthy ? undefined : h);
      },
      STALE_MS + 20_000,
      500,
    );
    const after = Date.now() - stoppedAt;
    process.stderr.write(`health check failed ${after} ms after SIGSTOP (stale window ${STALE_MS} ms): ${sick.reason}\n`);
    expect(sick.reason).toContain(shard);
    expect(after).toBeLessThanOrEqual(STALE_MS + 3000);

    process.kill(victim, 'SIGCONT');
    stopped = undefined;
    await waitFor('healthy again once it resumes', () => Promise.resolve(health().healthy ? true : undefined), 60_000, 500);
  }, 600_000);
});
