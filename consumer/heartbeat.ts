/**
 * Run-time health, the record processor's half: each processor process
 * touches `<dir>/<pid>.json` whenever it makes progress (a KCL call begins or
 * ends, a batch is applied, a sink retry is scheduled). The KCL calls
 * processRecords even for empty batches (callProcessRecordsEvenForEmptyRecordList),
 * every idleTimeBetweenReads, so an idle shard beats too. A processor that is
 * stopped (SIGSTOP, a stuck event loop) or awaits something that never
 * settles stops beating; one that retries a sink outage keeps beating. The
 * check (consumer/health.ts) reads the files; the file goes when the shard's
 * processor ends (its stdin closes).
 */
import fs from 'node:fs';
import path from 'node:path';

/** The daemon launcher (consumer/daemon.ts) writes the JVM's pid here. */
export const DAEMON_PID_FILE = 'daemon.pid';

export interface HeartbeatFile {
  readonly pid: number;
  readonly shardId: string | undefined;
  readonly at: number;
}

export class Heartbeat {
  private last = -Infinity;
  private shardId: string | undefined;
  private readonly file: string;

  constructor(
    private readonly dir: string,
    private readonly pid: number = process.pid,
    /** At most one write per this many ms: a beat is a file write. */
    private readonly minIntervalMs = 1000,
    private readonly now: () => number = Date.now,
  ) {
    this.file = path.join(dir, `${pid}.json`);
  }

  beat(shardId?: string): void {
    if (shardId !== undefined) this.shardId = shardId;
    const t = this.now();
    if (t - this.last < this.minIntervalMs) return;
    this.last = t;
    const body: HeartbeatFile = { pid: this.pid, shardId: this.shardId, at: t };
    try {
      fs.mkdirSync(this.dir, { recursive: true });
      fs.writeFileSync(this.file, JSON.stringify(body));
    } catch {
      // A full or read-only tmp must not stop a shard: the health check
      // then reports this processor as silent, which is what it is.
    }
  }

  close(): void {
    fs.rmSync(this.file, { force: true });
  }
}

// `never` input: any callback's parameter type accepts it, so the real
// processor (typed inputs) fits; the wrapper passes its input through untouched.
type KclCallback = (input: never, done: () => void) => void;

/**
 * The aws-kcl processor object with a beat before and after every call.
 * The shard id comes from `initialize`.
 */
export function withHeartbeat<P extends Record<string, KclCallback>>(processor: P, hb: Heartbeat): P {
  const out: Record<string, KclCallback> = {};
  for (const [name, call] of Object.entries(processor)) {
    out[name] = (input: never, done) => {
      const shardId = name === 'initialize' ? (input as { shardId?: string } | undefined)?.shardId : undefined;
      hb.beat(shardId);
      call(input, () => {
        hb.beat();
        done();
      });
    };
  }
  return out as P;
}
