/**
 * npm run bench:emulator — what the local Kinesis emulator (kinesis-local,
 * the Scala.js build of kinesis-mock) costs per call, the figures behind the
 * laptop's ceiling (README, "Where the laptop's ceiling is"). Prints one JSON
 * object:
 * - put_ms_per_record_by_stored: PutRecords time per record (batches of
 *   100, one shard) as the shard fills. kinesis-mock groups a request's
 *   entries by a key that holds the shard's whole record vector, so every
 *   entry costs time proportional to the records already stored.
 * - put_us_per_record_per_1000_stored: the slope of that line.
 * - get_cpu_ms_per_empty_call: the emulator's CPU per GetRecords at the tip
 *   of a shard (what each idle poll of a KCL worker costs it).
 *
 * Loopback only; the emulator runs as its own process, so its CPU is read
 * from /proc (Linux).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetRecordsCommand, GetShardIteratorCommand, PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { startKinesisLocal } from '../local/emulators';
import { clkTck, readProc } from '../local/procfs';
import { LOCAL_REGION, createStream } from '../local/stack';
import { kinesisClient } from '../shared/aws';

const STREAM = 'bench';
const SHARD = 'shardId-000000000000';
const BATCH = 100;
const MAX_STORED = 20_000;
const REPORT_EVERY = 5_000;
const GET_SECONDS = 5;

function cpuSeconds(pid: number): number {
  const r = readProc(pid);
  if (r === undefined) throw new Error(`kinesis-local (pid ${pid}) is gone`);
  return r.cpuTicks / clkTck();
}

const put = (k: KinesisClient): Promise<unknown> =>
  k.send(new PutRecordsCommand({ StreamName: STREAM, Records: Array.from({ length: BATCH }, (_, i) => ({ Data: Buffer.alloc(300, 1), PartitionKey: `S${i}` })) }));

/** Least-squares slope of y over x. */
function slope(points: readonly (readonly [number, number])[]): number {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return sxx === 0 ? 0 : sxy / sxx;
}

async function emptyGetCpuMs(k: KinesisClient, pid: number): Promise<number> {
  const it = await k.send(new GetShardIteratorCommand({ StreamName: STREAM, ShardId: SHARD, ShardIteratorType: 'LATEST' }));
  let iterator = it.ShardIterator;
  const cpu0 = cpuSeconds(pid);
  const until = Date.now() + GET_SECONDS * 1000;
  let calls = 0;
  while (Date.now() < until && iterator !== undefined) {
    iterator = (await k.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }))).NextShardIterator;
    calls++;
  }
  return Math.round(((cpuSeconds(pid) - cpu0) * 1000 * 100) / Math.max(1, calls)) / 100;
}

async function main(): Promise<void> {
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-emulator-'));
  const emulator = await startKinesisLocal({ logDir });
  try {
    const k = kinesisClient({ region: LOCAL_REGION, endpoint: emulator.endpoint });
    await createStream(k, STREAM, 1);
    const pid = emulator.proc.child.pid;
    if (pid === undefined) throw new Error('kinesis-local has no pid');
    const getEmpty = await emptyGetCpuMs(k, pid);
    const byStored: Record<string, number> = {};
    const points: [number, number][] = [];
    for (let stored = 0; stored < MAX_STORED; stored += BATCH) {
      const t0 = performance.now();
      await put(k);
      const msPerRecord = (performance.now() - t0) / BATCH;
      points.push([stored, msPerRecord]);
      if (stored % REPORT_EVERY === 0) byStored[String(stored)] = Math.round(msPerRecord * 1000) / 1000;
      if (stored % REPORT_EVERY === 0) process.stderr.write(`bench:emulator: ${stored} stored, ${msPerRecord.toFixed(3)} ms per put record\n`);
    }
    const getFull = await emptyGetCpuMs(k, pid);
    process.stdout.write(
      JSON.stringify(
        {
          put_ms_per_record_by_stored: byStored,
          put_us_per_record_per_1000_stored: Math.round(slope(points) * 1000 * 1000 * 100) / 100,
          get_cpu_ms_per_empty_call: { empty_shard: getEmpty, [`${MAX_STORED}_stored`]: getFull },
          batch: BATCH,
          cores: os.cpus().length,
        },
        null,
        2,
      ) + '\n',
    );
  } finally {
    await emulator.stop();
    fs.rmSync(logDir, { recursive: true, force: true });
  }
}

void main().catch((e: unknown) => {
  process.stderr.write(`bench:emulator: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
