import { spawn } from 'node:child_process';
import path from 'node:path';
import { ALL_KINDS, type Minute, type SeriesVerdict } from '../../../local/soak-stats';
import { tmpDir } from '../../helpers/wait';

const SOAK = path.resolve(__dirname, '../../../dist/local/soak.js');

interface Report {
  soak: { minutes_requested: number; minutes_measured: number; warmup_minutes: number; rate: number; shards: number; jvm_heap_mb: number; consumers_up_after_s: number | null; interrupted: boolean };
  goals: Record<string, number>;
  minutes: Minute[];
  series: Record<string, SeriesVerdict>;
  verdict: { result: string; drifting: string[]; too_short: string[] };
  totals: { produced: number; consumed_total: number; errors: number; unconsumed_after_drain: number; processors_seen: { pid: number; worker: string; shards: string[] }[] };
}

/**
 * `node dist/local/soak.js --minutes 0.5`: the whole local pipeline for half
 * a minute after the consumers are up, then one JSON object on stdout with
 * every kind of process measured, and a clean stop.
 */
describe('npm run soak: a half-minute soak', () => {
  it('stops by itself and prints one JSON object with every process kind, lag, latency and the series', async () => {
    const dir = tmpDir('soak');
    const started = Date.now();
    const proc = spawn(process.execPath, [SOAK, '--minutes', '0.5', '--warmup', '0', '--rate', '100', '--symbols', '20', '--data', path.join(dir, 'data')], {
      env: { ...process.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => proc.on('exit', (c) => resolve(c)));
    const r = JSON.parse(stdout) as Report;
    expect({ code, stderr: /minute 1\/1 \(30 s\)/.test(stderr) }).toEqual({ code: 0, stderr: true });

    expect(r.soak).toMatchObject({ minutes_requested: 0.5, warmup_minutes: 0, rate: 100, shards: 4, jvm_heap_mb: 384, interrupted: false });
    expect(r.soak.minutes_measured).toBeGreaterThanOrEqual(0.5);
    expect(r.soak.consumers_up_after_s).toBeGreaterThan(0);
    expect(r.minutes).toHaveLength(1);
    const m = r.minutes[0]!;
    expect(m.seconds).toBeGreaterThanOrEqual(29);
    expect(m.produced).toBeGreaterThan(0);
    expect(m.consumed).toBeGreaterThan(0);
    expect(typeof m.lag).toBe('number');
    expect(m.latency_ms.samples).toBeGreaterThan(0);
    expect(m.latency_ms.p99).toBeGreaterThanOrEqual(m.latency_ms.p50!);
    expect(m.producer_ms.source_to_ack_mean).toBeGreaterThan(0);

    // every kind of process, each with a resident size and a CPU share
    for (const kind of ALL_KINDS) {
      const ps = m.processes.filter((p) => p.kind === kind);
      expect({ kind, n: ps.length > 0 }).toEqual({ kind, n: true });
      for (const p of ps) {
        expect({ kind, pid: p.pid > 0, rss: p.rss_mb > 0, cpu: typeof p.cpu_pct }).toEqual({ kind, pid: true, rss: true, cpu: 'number' });
      }
    }
    // one record processor per shard, each named by the shard it reported on
    const processors = m.processes.filter((p) => p.kind === 'processor').map((p) => p.name.replace(/^worker-1\//, ''));
    expect(processors.sort()).toEqual(['shardId-000000000000', 'shardId-000000000001', 'shardId-000000000002', 'shardId-000000000003']);

    // a series per process, plus p99 and lag; with one point none can be judged yet
    for (const key of ['rss_mb orchestrator', 'rss_mb kinesis-local', 'rss_mb dynalite', 'latency_p99_ms', 'lag_ticks']) expect(Object.keys(r.series)).toContain(key);
    expect(Object.keys(r.series).filter((k) => k.startsWith('rss_mb jvm worker-1 pid '))).toHaveLength(1);
    expect(Object.keys(r.series).filter((k) => k.startsWith('rss_mb processor '))).toHaveLength(4);
    expect(r.series['rss_mb orchestrator']).toMatchObject({ kind: 'orchestrator', unit: 'MB', points: 1, verdict: 'too short', goal: 'RSS slope < 1 MB/10 min' });
    expect(r.series['rss_mb dynalite']).toMatchObject({ verdict: 'reported' });
    expect(r.verdict.result).toBe('inconclusive');

    // graceful stop as npm start does: everything produced was consumed
    expect({ errors: r.totals.errors, unconsumed: r.totals.unconsumed_after_drain }).toEqual({ errors: 0, unconsumed: 0 });
    expect(r.totals.consumed_total).toBe(r.totals.produced);
    expect(r.totals.processors_seen).toHaveLength(4);
    process.stderr.write(`soak integration test: ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  });
});
