/**
 * Process readings from Linux's /proc, for `npm run soak`: resident size,
 * CPU time, start time, children. Linux only (the soak says so elsewhere).
 */
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface ProcReading {
  pid: number;
  ppid: number;
  rssKb: number;
  /** utime + stime, clock ticks */
  cpuTicks: number;
  /** epoch ms */
  startMs: number;
}

let clkTckCache: number | undefined;
/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ). */
export function clkTck(): number {
  if (clkTckCache === undefined) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const v = Number(r.stdout?.trim());
    clkTckCache = r.status === 0 && Number.isInteger(v) && v > 0 ? v : 100;
  }
  return clkTckCache;
}

let bootMsCache: number | undefined;
/** When the machine booted, epoch ms (/proc/stat btime). */
function bootMs(): number {
  if (bootMsCache === undefined) {
    const m = /^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'));
    bootMsCache = m ? Number(m[1]) * 1000 : 0;
  }
  return bootMsCache;
}

/** Fields 3… of /proc/<pid>/stat (after the command name, which may hold spaces and parentheses). */
export function parseStat(text: string): { ppid: number; cpuTicks: number; startTicks: number } | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const f = text.slice(close + 2).trim().split(/\s+/);
  // f[0] is field 3 (state): ppid 4, utime 14, stime 15, starttime 22
  const ppid = Number(f[1]);
  const utime = Number(f[11]);
  const stime = Number(f[12]);
  const start = Number(f[19]);
  if (![ppid, utime, stime, start].every(Number.isFinite)) return undefined;
  return { ppid, cpuTicks: utime + stime, startTicks: start };
}

/** One reading of `pid`, or undefined when it is gone (or a zombie without memory). */
export function readProc(pid: number): ProcReading | undefined {
  try {
    const stat = parseStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
    const rss = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (stat === undefined || rss === null) return undefined;
    return { pid, ppid: stat.ppid, rssKb: Number(rss[1]), cpuTicks: stat.cpuTicks, startMs: bootMs() + (stat.startTicks * 1000) / clkTck() };
  } catch {
    return undefined;
  }
}

/** The command line of `pid`, arguments joined by spaces ('' when gone). */
export function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/** Direct children of `pid`: from every thread's /proc/<pid>/task/<tid>/children
 *  (a JVM forks from whichever thread runs ProcessBuilder), else by scanning
 *  /proc for the parent pid. */
export function childrenOf(pid: number): number[] {
  const out = new Set<number>();
  try {
    const tasks = fs.readdirSync(`/proc/${pid}/task`);
    let readable = false;
    for (const t of tasks) {
      try {
        const text = fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8');
        readable = true;
        for (const c of text.trim().split(/\s+/)) if (c !== '') out.add(Number(c));
      } catch {
        /* a thread that just ended, or no CONFIG_PROC_CHILDREN */
      }
    }
    if (readable) return [...out];
  } catch {
    return [];
  }
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (parseStat(fs.readFileSync(`/proc/${d}/stat`, 'utf8'))?.ppid === pid) out.add(Number(d));
    } catch {
      /* gone */
    }
  }
  return [...out];
}

/** `pid` and every descendant. */
export function treeOf(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...childrenOf(out[i]!));
  return out;
}

/** Heap figures of `jcmd <pid> GC.heap_info` (Serial, Parallel and G1 wording), MB. */
export function parseHeapInfo(text: string): { usedMb: number; committedMb: number; metaspaceUsedMb: number | null } | undefined {
  let used = 0;
  let total = 0;
  let found = false;
  for (const m of text.matchAll(/(?:generation|heap|PSYoungGen|ParOldGen)\s+total (\d+)K, used (\d+)K/g)) {
    found = true;
    total += Number(m[1]);
    used += Number(m[2]);
  }
  if (!found) return undefined;
  const meta = /Metaspace\s+used (\d+)K/.exec(text);
  const mb = (k: number): number => Math.round((k / 1024) * 10) / 10;
  return { usedMb: mb(used), committedMb: mb(total), metaspaceUsedMb: meta ? mb(Number(meta[1])) : null };
}

/** `jcmd <pid> GC.heap_info`, parsed; undefined when jcmd is missing, fails or times out. */
export function jvmHeapInfo(pid: number, timeoutMs = 15_000): Promise<ReturnType<typeof parseHeapInfo>> {
  return new Promise((resolve) => {
    const jcmd = process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'jcmd') : 'jcmd';
    execFile(jcmd, [String(pid), 'GC.heap_info'], { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout) => {
      resolve(err ? undefined : parseHeapInfo(stdout));
    });
  });
}
