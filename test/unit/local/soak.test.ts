import { zeroCounters } from '../../../consumer/shard-processor';
import { heapFlags } from '../../../consumer/kcl/daemon';
import { parseHeapInfo, parseStat } from '../../../local/procfs';
import { parseSoakOptions } from '../../../local/soak';
import { addStatus, emptyTotals, latenciesSince } from '../../../local/status-server';
import {
  aggregateMinute,
  DEFAULT_GOALS,
  judgeSeries,
  leastSquares,
  overallVerdict,
  seriesOf,
  type Minute,
  type MinuteProcess,
  type ProcSample,
  type Series,
  type SeriesVerdict,
} from '../../../local/soak-stats';

const clock = { clkTck: 100, cores: 2 };
const goals = { ...DEFAULT_GOALS, rate: 200 };

function s(over: Partial<ProcSample> & Pick<ProcSample, 'at' | 'pid'>): ProcSample {
  return { kind: 'processor', name: 'worker-1/shardId-000000000000', rssKb: 100 * 1024, cpuTicks: 0, startMs: 0, ...over };
}

describe('soak: least-squares slope', () => {
  it('finds the line through exact points, with no residual', () => {
    const fit = leastSquares([0, 1, 2, 3, 4].map((x) => ({ x, y: 5 + 0.3 * x })));
    expect(fit?.slope).toBeCloseTo(0.3, 12);
    expect(fit?.intercept).toBeCloseTo(5, 12);
    expect(fit?.stderr).toBeCloseTo(0, 12);
    expect(fit?.n).toBe(5);
  });

  it('fits noisy points as the textbook does, standard error included', () => {
    // x 1..5, y 2 4 5 4 5: slope 0.6, intercept 2.2, residual SS 2.4, Sxx 10
    const fit = leastSquares([2, 4, 5, 4, 5].map((y, i) => ({ x: i + 1, y })))!;
    expect(fit.slope).toBeCloseTo(0.6, 12);
    expect(fit.intercept).toBeCloseTo(2.2, 12);
    expect(fit.stderr).toBeCloseTo(Math.sqrt(2.4 / 3 / 10), 12);
  });

  it('has no slope with fewer than two points or a single x, and no standard error with two', () => {
    expect(leastSquares([])).toBeNull();
    expect(leastSquares([{ x: 1, y: 1 }])).toBeNull();
    expect(leastSquares([{ x: 1, y: 1 }, { x: 1, y: 2 }])).toBeNull();
    expect(leastSquares([{ x: 0, y: 1 }, { x: 2, y: 2 }])).toEqual({ slope: 0.5, intercept: 1, stderr: null, n: 2 });
  });
});

describe('soak: a minute of process readings', () => {
  const from = 1_000_000;

  it('averages RSS, keeps its max, and takes the CPU share from the last reading of the minute before', () => {
    const before = new Map<number, ProcSample>([[7, s({ at: from - 1000, pid: 7, cpuTicks: 500, startMs: 10 })]]);
    const samples = [
      s({ at: from + 29_000, pid: 7, rssKb: 100 * 1024, cpuTicks: 1100, startMs: 10 }),
      s({ at: from + 59_000, pid: 7, rssKb: 110 * 1024, cpuTicks: 1700, startMs: 10 }),
    ];
    const [p] = aggregateMinute(samples, before, from, clock);
    // 12 s of CPU over 60 s of wall on 2 cores: 10 %
    expect(p).toEqual({ kind: 'processor', name: 'worker-1/shardId-000000000000', pid: 7, rss_mb: 105, rss_max_mb: 110, cpu_pct: 10, samples: 2 });
    expect(before.get(7)?.at).toBe(from + 59_000);
  });

  it('counts all the CPU of a process that started within the minute, from its start', () => {
    const [p] = aggregateMinute([s({ at: from + 40_000, pid: 8, cpuTicks: 300, startMs: from + 10_000 })], new Map(), from, clock);
    // 3 s of CPU over the 30 s it lived, 2 cores
    expect(p?.cpu_pct).toBe(5);
  });

  it('measures an older process first seen now from its first reading; with one reading it has no CPU figure', () => {
    const [a] = aggregateMinute([s({ at: from, pid: 9, cpuTicks: 1000 }), s({ at: from + 20_000, pid: 9, cpuTicks: 1200 })], new Map(), from, clock);
    expect(a?.cpu_pct).toBe(5);
    const [b] = aggregateMinute([s({ at: from + 20_000, pid: 10, cpuTicks: 1200 })], new Map(), from, clock);
    expect(b?.cpu_pct).toBeNull();
  });

  it('does not take a reused pid for the process it had before', () => {
    const before = new Map<number, ProcSample>([[11, s({ at: from - 1000, pid: 11, cpuTicks: 90_000, startMs: 5 })]]);
    const [p] = aggregateMinute([s({ at: from + 30_000, pid: 11, cpuTicks: 600, startMs: from })], before, from, clock);
    expect(p?.cpu_pct).toBe(10);
  });

  it('lists the orchestrator, JVMs, processors, then emulators', () => {
    const kinds = aggregateMinute(
      [
        s({ at: from, pid: 5, kind: 'dynalite', name: 'dynalite' }),
        s({ at: from, pid: 4, kind: 'processor', name: 'worker-1/shardId-000000000001' }),
        s({ at: from, pid: 3, kind: 'processor', name: 'worker-1/shardId-000000000000' }),
        s({ at: from, pid: 2, kind: 'jvm', name: 'worker-1' }),
        s({ at: from, pid: 6, kind: 'kinesis-local', name: 'kinesis-local' }),
        s({ at: from, pid: 1, kind: 'orchestrator', name: 'orchestrator' }),
      ],
      new Map(),
      from,
      clock,
    ).map((p) => p.pid);
    expect(kinds).toEqual([1, 2, 3, 4, 6, 5]);
  });
});

function minute(k: number, over: { rss?: Record<string, number>; p99?: number; samples?: number; lag?: number; seconds?: number } = {}): Minute {
  const processes: MinuteProcess[] = Object.entries(over.rss ?? {}).map(([key, rss]) => {
    const [kind, name, pid] = key.split(':') as [MinuteProcess['kind'], string, string];
    return { kind, name, pid: Number(pid), rss_mb: rss, rss_max_mb: rss, cpu_pct: 1, samples: 12 };
  });
  return { minute: k, seconds: over.seconds ?? 60, processes, lag: over.lag ?? 100, produced: 12_000, consumed: 12_000, latency_ms: { p50: 100, p99: over.p99 ?? 400, samples: over.samples ?? 10_000 }, producer_ms: { put_mean: 20, source_to_ack_mean: 60 } };
}

describe('soak: series after the warm-up', () => {
  it('leaves out the minutes that start before the warm-up ends and keys each process by kind, name and pid', () => {
    const minutes = [1, 2, 3, 4].map((k) => minute(k, { rss: { 'orchestrator:orchestrator:1': 100 + k, 'processor:worker-1/shardId-000000000000:9': 50, 'dynalite:dynalite:3': 80 } }));
    const series = seriesOf(minutes, 2);
    expect([...series.keys()].sort()).toEqual(['lag_ticks', 'latency_p99_ms', 'producer_source_to_ack_ms_mean', 'rss_mb dynalite', 'rss_mb orchestrator', 'rss_mb processor worker-1/shardId-000000000000 pid 9']);
    // minutes 3 and 4, at their middles: 2.5 and 3.5 minutes in
    expect(series.get('rss_mb orchestrator')?.points).toEqual([
      { x: 2.5, y: 103 },
      { x: 3.5, y: 104 },
    ]);
  });

  it('puts a short last minute at its own middle and drops p99 of minutes with under 20 samples', () => {
    const series = seriesOf([minute(1, { p99: 300 }), minute(2, { p99: 310, seconds: 30 }), minute(3, { p99: 9999, samples: 5 })], 0);
    expect(series.get('latency_p99_ms')?.points).toEqual([
      { x: 0.5, y: 300 },
      { x: 1.25, y: 310 },
    ]);
    expect(series.get('lag_ticks')?.points).toHaveLength(3);
  });
});

const line = (kind: Series['kind'], unit: Series['unit'], ys: number[]): Series => ({ kind, unit, points: ys.map((y, i) => ({ x: i + 0.5, y })) });

describe('soak: verdicts', () => {
  it('judges our processes against 1 MB per 10 minutes', () => {
    expect(judgeSeries(line('jvm', 'MB', [500, 500.05, 500.1, 500.15]), goals)).toMatchObject({ slope_per_10min: 0.5, verdict: 'ok', points: 4, first: 500, last: 500.15 });
    expect(judgeSeries(line('processor', 'MB', [100, 100.2, 100.4, 100.6]), goals)).toMatchObject({ slope_per_10min: 2, verdict: 'DRIFT' });
    expect(judgeSeries(line('orchestrator', 'MB', [100, 90, 80]), goals).verdict).toBe('ok');
    expect(judgeSeries(line('orchestrator', 'MB', [100, 120]), goals)).toMatchObject({ slope_per_10min: 200, verdict: 'too short' });
  });

  it('reports the emulators, the JVM heap and the producer\'s ack time without judging them', () => {
    expect(judgeSeries(line('kinesis-local', 'MB', [100, 200, 300]), goals)).toMatchObject({ slope_per_10min: 1000, verdict: 'reported' });
    expect(judgeSeries(line('dynalite', 'MB', [100, 200, 300]), goals).verdict).toBe('reported');
    expect(judgeSeries(line('jvm-heap', 'MB', [10, 200, 30]), goals).verdict).toBe('reported');
    expect(judgeSeries(line('producer', 'ms', [10, 200, 300]), goals).verdict).toBe('reported');
  });

  it('calls p99 flat under the larger of 20 ms and 10 % of its median per 10 minutes', () => {
    // median 1000 ms: up to 100 ms per 10 min (9 ms a minute) is flat
    expect(judgeSeries(line('latency', 'ms', [991, 1000, 1009]), goals).verdict).toBe('ok');
    expect(judgeSeries(line('latency', 'ms', [985, 1000, 1015]), goals).verdict).toBe('DRIFT');
    // median 100 ms: the 20 ms floor applies (1.5 ms a minute is 15 per 10)
    expect(judgeSeries(line('latency', 'ms', [98.5, 100, 101.5]), goals).verdict).toBe('ok');
    expect(judgeSeries(line('latency', 'ms', [600, 300, 100]), goals).verdict).toBe('ok');
  });

  it('calls lag bounded when it grows by less than a second of production per 10 minutes and stays under 30 s of it', () => {
    expect(judgeSeries(line('lag', 'ticks', [150, 250, 140, 260, 150]), goals).verdict).toBe('ok');
    expect(judgeSeries(line('lag', 'ticks', [100, 150, 200, 250]), goals)).toMatchObject({ slope_per_10min: 500, verdict: 'DRIFT' });
    expect(judgeSeries(line('lag', 'ticks', [7000, 7000, 7000]), goals).verdict).toBe('DRIFT');
  });

  it('is ok only when every judged kind has a long-enough series and none drifts', () => {
    const v = (kind: SeriesVerdict['kind'], verdict: SeriesVerdict['verdict']): SeriesVerdict => ({ kind, unit: 'MB', points: 3, first: 0, last: 0, max: 0, slope_per_10min: 0, stderr_per_10min: 0, goal: '', verdict });
    const all = { o: v('orchestrator', 'ok'), j: v('jvm', 'ok'), p: v('processor', 'ok'), l: v('latency', 'ok'), g: v('lag', 'ok'), k: v('kinesis-local', 'reported') };
    expect(overallVerdict(all)).toEqual({ result: 'ok', drifting: [], too_short: [] });
    // a processor whose lease moved is too short; another processor covers the kind
    expect(overallVerdict({ ...all, p2: v('processor', 'too short') })).toEqual({ result: 'ok', drifting: [], too_short: ['p2'] });
    expect(overallVerdict({ ...all, p: v('processor', 'too short') }).result).toBe('inconclusive');
    expect(overallVerdict({ ...all, j: v('jvm', 'DRIFT'), p: v('processor', 'too short') })).toEqual({ result: 'DRIFT', drifting: ['j'], too_short: ['p'] });
  });
});

describe('soak: /proc and jcmd parsing', () => {
  it('reads ppid, utime + stime and start time of /proc/<pid>/stat, whatever the command name holds', () => {
    const stat = '4242 (node (x) y) S 4200 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 11 0 98765 1000000 30000 18446744073709551615';
    expect(parseStat(stat)).toEqual({ ppid: 4200, cpuTicks: 300, startTicks: 98765 });
    expect(parseStat('garbage')).toBeUndefined();
  });

  it('sums the generations of GC.heap_info and reads metaspace', () => {
    const text = [
      '9258:',
      ' def new generation   total 118016K, used 30720K [0x00000000e8000000, 0x00000000f0000000, 0x00000000f0000000)',
      '  eden space 104960K,  28% used [0x00000000e8000000, 0x00000000ee680000, 0x00000000ee680000)',
      ' tenured generation   total 262144K, used 10240K [0x00000000f0000000, 0x0000000100000000, 0x0000000100000000)',
      ' Metaspace       used 39936K, committed 40448K, reserved 1089536K',
      '  class space    used 4608K, committed 4864K, reserved 1048576K',
    ].join('\n');
    expect(parseHeapInfo(text)).toEqual({ usedMb: 40, committedMb: 371.3, metaspaceUsedMb: 39 });
    expect(parseHeapInfo(' garbage-first heap   total 262144K, used 51200K [0x0)\n Metaspace       used 1024K, committed 2048K')).toEqual({ usedMb: 50, committedMb: 256, metaspaceUsedMb: 1 });
    expect(parseHeapInfo('9258:\nCould not attach')).toBeUndefined();
  });
});

describe('soak: options', () => {
  it('defaults to npm start\'s load and a warm-up of 10 minutes or a third of the run', () => {
    expect(parseSoakOptions(['--minutes', '60'])).toEqual({ minutes: 60, rate: 200, symbols: 20, shards: 4, workers: 1, warmup: 10, sampleSeconds: 5, heapMb: 384, seed: 42, dataDir: 'data' });
    expect(parseSoakOptions(['--minutes', '6'])).toMatchObject({ minutes: 6, warmup: 2 });
    expect(parseSoakOptions(['--minutes', '0.5', '--warmup', '0', '--rate', '100'])).toMatchObject({ minutes: 0.5, warmup: 0, rate: 100 });
  });

  it('refuses a missing or empty duration and a warm-up longer than the run', () => {
    expect(() => parseSoakOptions([])).toThrow('--minutes: expected a number above 0 and at most 10080 (required and not set)');
    expect(() => parseSoakOptions(['--minutes', '0'])).toThrow(/--minutes/);
    expect(() => parseSoakOptions(['--minutes', '5', '--warmup', '6'])).toThrow(/--warmup/);
    expect(() => parseSoakOptions(['--minutes', 'x'])).toThrow(/--minutes/);
  });
});

describe('soak: a minute\'s latency slice', () => {
  it('takes the samples received since a count, even after the sliding sample dropped its oldest', () => {
    const t = emptyTotals();
    const report = (latenciesMs: number[]): void => addStatus(t, { ...zeroCounters(), worker: 'worker-1', pid: 7, shardId: 'shardId-000000000001', latenciesMs }, 0);
    report([1, 2, 3]);
    const mark = t.latencySamples;
    report([4, 5]);
    expect(latenciesSince(t, mark)).toEqual([4, 5]);
    for (let i = 0; i < 250; i++) report(new Array<number>(1000).fill(9));
    const mark2 = t.latencySamples;
    report([6]);
    expect(t.latenciesMs.length).toBeLessThan(t.latencySamples);
    expect(latenciesSince(t, mark2)).toEqual([6]);
    expect(latenciesSince(t, t.latencySamples)).toEqual([]);
    expect(t.processors.get(7)).toEqual({ worker: 'worker-1', shards: new Set(['shardId-000000000001']) });
  });
});

describe('soak: the JVM heap', () => {
  it('stays -Xmx384m by default and is fixed and pre-touched with jvmHeapMb', () => {
    expect(heapFlags(undefined)).toEqual(['-Xmx384m']);
    expect(heapFlags(384)).toEqual(['-Xms384m', '-Xmx384m', '-XX:+AlwaysPreTouch']);
    expect(() => heapFlags(10)).toThrow(/jvmHeapMb/);
  });
});
