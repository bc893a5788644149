/**
 * The pure part of `npm run soak` (local/soak.ts): per-minute aggregation of
 * process samples, least-squares slopes after the warm-up, and the verdict
 * of each series against the soak's goals. No I/O here: local/procfs.ts reads
 * the samples, local/soak.ts runs the pipeline.
 */

/** Whose process: ours (judged) or an emulator's (reported only). */
export type ProcKind = 'orchestrator' | 'jvm' | 'processor' | 'kinesis-local' | 'dynalite';
const OUR_KINDS: readonly ProcKind[] = ['orchestrator', 'jvm', 'processor'];
export const ALL_KINDS: readonly ProcKind[] = [...OUR_KINDS, 'kinesis-local', 'dynalite'];

/** One reading of one process (from /proc/<pid>/stat and status). */
export interface ProcSample {
  /** epoch ms */
  at: number;
  pid: number;
  kind: ProcKind;
  /** orchestrator, worker-1, worker-1/shardId-000000000003, kinesis-local, dynalite */
  name: string;
  rssKb: number;
  /** utime + stime, clock ticks, since the process started */
  cpuTicks: number;
  /** epoch ms the process started */
  startMs: number;
}

/** A process over one minute. */
export interface MinuteProcess {
  kind: ProcKind;
  name: string;
  pid: number;
  /** mean of the minute's samples */
  rss_mb: number;
  rss_max_mb: number;
  /** CPU time / wall time / cores, % (100 = every core busy) */
  cpu_pct: number | null;
  samples: number;
}

export interface CpuClock {
  /** clock ticks per second (USER_HZ, 100 on Linux) */
  clkTck: number;
  cores: number;
}

const round = (v: number, digits = 1): number => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};

/**
 * The processes seen in one minute [from, to): RSS mean and max, CPU share.
 * `before` holds each pid's last sample before `from` (updated here with this
 * minute's last ones, for the next minute). A pid's CPU share is its CPU time
 * between that earlier sample (or, for a process that started within the
 * minute, its start; else its first sample in the minute) and its last sample
 * in the minute, over the same wall time, over the cores.
 */
export function aggregateMinute(samples: readonly ProcSample[], before: Map<number, ProcSample>, from: number, clock: CpuClock): MinuteProcess[] {
  const byPid = new Map<number, ProcSample[]>();
  for (const s of samples) {
    const l = byPid.get(s.pid) ?? [];
    l.push(s);
    byPid.set(s.pid, l);
  }
  const out: MinuteProcess[] = [];
  for (const [pid, l] of byPid) {
    l.sort((a, b) => a.at - b.at);
    const first = l[0]!;
    const last = l[l.length - 1]!;
    const prev = before.get(pid);
    let base: { at: number; ticks: number } | undefined;
    if (prev !== undefined && prev.startMs === first.startMs) base = { at: prev.at, ticks: prev.cpuTicks };
    else if (first.startMs >= from) base = { at: first.startMs, ticks: 0 };
    else if (l.length > 1) base = { at: first.at, ticks: first.cpuTicks };
    const wallS = base === undefined ? 0 : (last.at - base.at) / 1000;
    const cpu = base === undefined || wallS <= 0 ? null : round((100 * (last.cpuTicks - base.ticks)) / clock.clkTck / wallS / clock.cores);
    const rss = l.map((s) => s.rssKb / 1024);
    out.push({
      kind: first.kind,
      name: first.name,
      pid,
      rss_mb: round(rss.reduce((a, b) => a + b, 0) / rss.length),
      rss_max_mb: round(Math.max(...rss)),
      cpu_pct: cpu,
      samples: l.length,
    });
    before.set(pid, last);
  }
  const order = (k: ProcKind): number => ALL_KINDS.indexOf(k);
  return out.sort((a, b) => order(a.kind) - order(b.kind) || a.name.localeCompare(b.name) || a.pid - b.pid);
}

export interface Fit {
  slope: number;
  intercept: number;
  /** standard error of the slope; null with fewer than 3 points */
  stderr: number | null;
  n: number;
}

/** Ordinary least squares y = intercept + slope·x; null with fewer than 2 distinct x. */
export function leastSquares(points: readonly { x: number; y: number }[]): Fit | null {
  const n = points.length;
  if (n < 2) return null;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    sxx += (p.x - mx) ** 2;
    sxy += (p.x - mx) * (p.y - my);
  }
  if (sxx === 0) return null;
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  let stderr: number | null = null;
  if (n > 2) {
    const sse = points.reduce((a, p) => a + (p.y - (intercept + slope * p.x)) ** 2, 0);
    stderr = Math.sqrt(sse / (n - 2) / sxx);
  }
  return { slope, intercept, stderr, n };
}

/** One minute of the soak, as printed. */
export interface Minute {
  /** 1, 2, …: minute k covers [k-1, k) minutes after the consumers were up */
  minute: number;
  /** wall seconds covered (the last minute may be shorter) */
  seconds: number;
  processes: MinuteProcess[];
  /** produced − applied at the minute's end */
  lag: number;
  produced: number;
  consumed: number;
  /** put→DynamoDB latency of the samples received in the minute */
  latency_ms: { p50: number | null; p99: number | null; samples: number };
  /** The producer's side of that latency, means over the minute: one
   *  PutRecords call, and a tick's source time → Kinesis acknowledgement
   *  (null when nothing was sent). */
  producer_ms: { put_mean: number | null; source_to_ack_mean: number | null };
  /** per JVM, from `jcmd <pid> GC.heap_info`, when it answered */
  jvm_heap?: { name: string; pid: number; heap_used_mb: number; heap_committed_mb: number; metaspace_used_mb: number | null }[];
}

type SeriesUnit = 'MB' | 'ms' | 'ticks';

export interface Series {
  kind: ProcKind | 'latency' | 'lag' | 'jvm-heap' | 'producer';
  unit: SeriesUnit;
  /** (minutes since the consumers were up at the minute's middle, value), after the warm-up */
  points: { x: number; y: number }[];
}

/** orchestrator, kinesis-local, dynalite (one each); jvm worker-1 pid 7,
 *  processor worker-1/shardId-000000000003 pid 9 (a restart or a lease move
 *  makes a new process, so a new series). */
function processKey(p: { kind: ProcKind; name: string; pid: number }): string {
  return p.kind === 'jvm' || p.kind === 'processor' ? `${p.kind} ${p.name} pid ${p.pid}` : p.name;
}

/**
 * The series the soak judges or reports, from the minutes that start at or
 * after `warmupMinutes`: RSS of each process (by kind, name and pid: a
 * record processor that moved is a new series), the minute's p99 latency
 * (minutes with at least 20 samples), the lag, each JVM's heap used, the
 * producer's mean source→Kinesis-ack time (to tell where latency grows).
 */
export function seriesOf(minutes: readonly Minute[], warmupMinutes: number): Map<string, Series> {
  const out = new Map<string, Series>();
  const add = (key: string, kind: Series['kind'], unit: SeriesUnit, x: number, y: number): void => {
    const s = out.get(key) ?? { kind, unit, points: [] };
    s.points.push({ x, y });
    out.set(key, s);
  };
  for (const m of minutes) {
    const start = m.minute - 1;
    if (start < warmupMinutes - 1e-9) continue;
    const x = start + m.seconds / 120;
    for (const p of m.processes) add(`rss_mb ${processKey(p)}`, p.kind, 'MB', x, p.rss_mb);
    if (m.latency_ms.p99 !== null && m.latency_ms.samples >= 20) add('latency_p99_ms', 'latency', 'ms', x, m.latency_ms.p99);
    add('lag_ticks', 'lag', 'ticks', x, m.lag);
    if (m.producer_ms.source_to_ack_mean !== null) add('producer_source_to_ack_ms_mean', 'producer', 'ms', x, m.producer_ms.source_to_ack_mean);
    for (const h of m.jvm_heap ?? []) add(`jvm_heap_used_mb ${h.name} pid ${h.pid}`, 'jvm-heap', 'MB', x, h.heap_used_mb);
  }
  return out;
}

export interface Goals {
  /** RSS slope of our processes, MB per 10 min (default 1) */
  rssMbPer10Min: number;
  /** p99 slope: at most this many ms per 10 min … (default 20) */
  p99MsPer10Min: number;
  /** … or this fraction of the median p99 per 10 min, whichever is larger (default 0.1) */
  p99FractionPer10Min: number;
  /** lag slope: at most this many seconds of production per 10 min (default 1) */
  lagSecondsPer10Min: number;
  /** lag: at most this many seconds of production at any minute's end (default 30) */
  lagMaxSeconds: number;
  /** ticks per second produced */
  rate: number;
}

export const DEFAULT_GOALS: Omit<Goals, 'rate'> = { rssMbPer10Min: 1, p99MsPer10Min: 20, p99FractionPer10Min: 0.1, lagSecondsPer10Min: 1, lagMaxSeconds: 30 };

/** A series' fit and verdict as printed. */
export interface SeriesVerdict {
  kind: Series['kind'];
  unit: SeriesUnit;
  points: number;
  first: number | null;
  last: number | null;
  max: number | null;
  slope_per_10min: number | null;
  stderr_per_10min: number | null;
  goal: string;
  /** ok / DRIFT against the goal; reported: not judged (emulators, JVM heap, producer); too short: fewer than 3 minutes after the warm-up */
  verdict: 'ok' | 'DRIFT' | 'reported' | 'too short';
}

const MIN_POINTS = 3;

function median(v: readonly number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function judgeSeries(s: Series, goals: Goals): SeriesVerdict {
  const ys = s.points.map((p) => p.y);
  const fit = leastSquares(s.points);
  const slope = fit === null ? null : fit.slope * 10;
  const base: Omit<SeriesVerdict, 'goal' | 'verdict'> = {
    kind: s.kind,
    unit: s.unit,
    points: s.points.length,
    first: ys.length > 0 ? round(ys[0]!, 2) : null,
    last: ys.length > 0 ? round(ys[ys.length - 1]!, 2) : null,
    max: ys.length > 0 ? round(Math.max(...ys), 2) : null,
    slope_per_10min: slope === null ? null : round(slope, 2),
    stderr_per_10min: fit?.stderr == null ? null : round(fit.stderr * 10, 2),
  };
  const judged = (goal: string, ok: boolean): SeriesVerdict => ({ ...base, goal, verdict: s.points.length < MIN_POINTS || slope === null ? 'too short' : ok ? 'ok' : 'DRIFT' });
  switch (s.kind) {
    case 'orchestrator':
    case 'jvm':
    case 'processor':
      return judged(`RSS slope < ${goals.rssMbPer10Min} MB/10 min`, (slope ?? 0) < goals.rssMbPer10Min);
    case 'latency': {
      const limit = Math.max(goals.p99MsPer10Min, ys.length > 0 ? goals.p99FractionPer10Min * median(ys) : 0);
      return judged(`p99 flat: slope < ${round(limit)} ms/10 min (max of ${goals.p99MsPer10Min} ms and ${goals.p99FractionPer10Min * 100} % of the median p99)`, (slope ?? 0) < limit);
    }
    case 'lag': {
      const slopeLimit = Math.max(50, goals.rate * goals.lagSecondsPer10Min);
      const maxLimit = Math.max(500, goals.rate * goals.lagMaxSeconds);
      return judged(`lag bounded: slope < ${slopeLimit} ticks/10 min and every minute's lag < ${maxLimit} ticks`, (slope ?? 0) < slopeLimit && Math.max(...ys) < maxLimit);
    }
    default:
      return { ...base, goal: 'reported, not judged', verdict: 'reported' };
  }
}

export interface Verdict {
  /** ok: every judged series met its goal; DRIFT: one did not; inconclusive: a
   *  judged kind (our processes, p99, lag) had no series long enough */
  result: 'ok' | 'DRIFT' | 'inconclusive';
  drifting: string[];
  too_short: string[];
}

/** The run's verdict over the series' verdicts. A series too short (a record
 *  processor whose lease moved) is listed but only matters when its kind has
 *  no series long enough. */
export function overallVerdict(v: Record<string, SeriesVerdict>): Verdict {
  const entries = Object.entries(v);
  const drifting = entries.filter(([, s]) => s.verdict === 'DRIFT').map(([k]) => k);
  const tooShort = entries.filter(([, s]) => s.verdict === 'too short').map(([k]) => k);
  const required: Series['kind'][] = [...OUR_KINDS, 'latency', 'lag'];
  const uncovered = required.filter((k) => !entries.some(([, s]) => s.kind === k && (s.verdict === 'ok' || s.verdict === 'DRIFT')));
  return { result: drifting.length > 0 ? 'DRIFT' : uncovered.length > 0 ? 'inconclusive' : 'ok', drifting, too_short: tooShort };
}
