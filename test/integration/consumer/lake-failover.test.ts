/**
 * The lake's share of the failover acceptance test: two writer processes on
 * one lake, one killed with SIGKILL mid-stream and replaced by a new process
 * that replays from its last (lagging) checkpoint. The lake must end up with
 * exactly the rows of an uninterrupted run: no loss, no duplicate (symbol, ts).
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { queryLocalLake } from '../../../lake/duckdb';
import { closeDuckdb } from '../../../shared/parquet';
import { knownInput } from '../../unit/consumer/factories';

jest.setTimeout(180_000);
const CHILD = path.resolve(__dirname, '..', '..', 'unit', 'consumer', 'helpers', 'lake-writer-child.ts');
const SHARDS = { 'shardId-000000000000': ['AAPL', 'MSFT'], 'shardId-000000000001': ['NVDA', 'BRK.B', 'TSLA'] };
const PER_SYMBOL = 300;

let dataDir: string;
const children: ChildProcessWithoutNullStreams[] = [];
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'tickstream-lake-failover-'));
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await closeDuckdb();
  await rm(dataDir, { recursive: true, force: true });
});

interface Writer {
  child: ChildProcessWithoutNullStreams;
  checkpoints: number[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

function writer(worker: string, shard: keyof typeof SHARDS, from: number): Writer {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir, worker, shard, SHARDS[shard].join(','), String(from), '40'], {
    env: { PATH: process.env.PATH },
  });
  children.push(child);
  const checkpoints: number[] = [];
  let out = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString();
    let nl;
    while ((nl = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      const m = /^checkpoint (\d+)$/.exec(line);
      if (m) checkpoints.push(Number(m[1]));
    }
  });
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stderr })),
  );
  return { child, checkpoints, exited };
}

describe('lake under failover', () => {
  it('a writer killed with SIGKILL mid-stream and replayed by a new process leaves every row exactly once', async () => {
    const steady = writer('w-steady', 'shardId-000000000001', 0);
    const victim = writer('w-victim', 'shardId-000000000000', 0);
    // Kill once a few checkpoints have passed: the lake is then ahead of the
    // last checkpoint by up to two flushes, and a flush may be in progress.
    const deadline = Date.now() + 60_000;
    while (victim.checkpoints.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    victim.child.kill('SIGKILL');
    const killed = await victim.exited;
    expect(killed.signal).toBe('SIGKILL');
    const resumeFrom = victim.checkpoints.at(-1) ?? 0;
    expect(resumeFrom).toBeGreaterThan(0);
    expect(resumeFrom).toBeLessThan(SHARDS['shardId-000000000000'].length * PER_SYMBOL);

    const replacement = writer('w-replacement', 'shardId-000000000000', resumeFrom);
    for (const w of [steady, replacement]) expect(await w.exited).toEqual({ code: 0, signal: null, stderr: '' });

    const expected = knownInput({ perSymbol: PER_SYMBOL, seed: 11 });
    const res = await queryLocalLake(
      path.join(dataDir, 'lake'),
      'SELECT COUNT(*) AS n, COUNT(DISTINCT symbol || CAST(ts AS VARCHAR)) AS d, SUM(volume) AS v FROM {{table}}',
    );
    expect(res.rows).toEqual([[expected.length, expected.length, expected.reduce((s, r) => s + r.volume, 0)]]);
  });
});
