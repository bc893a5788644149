import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import readline from 'node:readline';

/**
 * Plays the MultiLangDaemon's side of the multilang protocol against one
 * record-processor process: initialize, processRecords, checkpoint replies,
 * shutdownRequested. For tests and benchmarks of the processor alone; the
 * real daemon is used everywhere else.
 *
 * Every line the child prints on stdout is parsed as a protocol message; any
 * other line is recorded in `strayLines`, which must stay empty.
 */
export interface DriverRecord {
  data: string;
  partitionKey: string;
  sequenceNumber: string;
  subSequenceNumber?: number;
  approximateArrivalTimestamp?: number;
}

export class MultilangDriver {
  readonly strayLines: string[] = [];
  readonly checkpoints: string[] = [];
  readonly stderr: string[] = [];
  private readonly child: ChildProcessWithoutNullStreams;
  private waiting: { responseFor: string; resolve: () => void; reject: (e: Error) => void } | undefined;
  private exitCode: number | null | undefined;

  constructor(command: string, args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    readline.createInterface({ input: this.child.stdout }).on('line', (line) => this.onLine(line));
    readline.createInterface({ input: this.child.stderr }).on('line', (line) => {
      if (this.stderr.length < 10_000) this.stderr.push(line);
    });
    this.child.on('exit', (code) => {
      this.exitCode = code;
      this.waiting?.reject(new Error(`record processor exited with code ${code} while waiting for ${this.waiting.responseFor}`));
      this.waiting = undefined;
    });
  }

  private onLine(line: string): void {
    if (line.trim() === '') return; // aws-kcl frames each message with newlines
    let msg: { action?: string; responseFor?: string; sequenceNumber?: string | null };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      this.strayLines.push(line);
      return;
    }
    if (msg.action === 'status') {
      const w = this.waiting;
      if (w && w.responseFor === msg.responseFor) {
        this.waiting = undefined;
        w.resolve();
      } else this.strayLines.push(line);
    } else if (msg.action === 'checkpoint') {
      const seq = msg.sequenceNumber ?? 'SHARD_END';
      this.checkpoints.push(seq);
      this.send({ action: 'checkpoint', checkpoint: seq, error: null, sequenceNumber: seq });
    } else {
      this.strayLines.push(line);
    }
  }

  private send(msg: object): void {
    this.child.stdin.write(JSON.stringify(msg) + '\n');
  }

  private request(msg: { action: string } & Record<string, unknown>): Promise<void> {
    if (this.exitCode !== undefined) return Promise.reject(new Error(`record processor already exited (${this.exitCode})`));
    return new Promise((resolve, reject) => {
      this.waiting = { responseFor: msg.action, resolve, reject };
      this.send(msg);
    });
  }

  initialize(shardId: string): Promise<void> {
    return this.request({ action: 'initialize', shardId, sequenceNumber: null, subSequenceNumber: null });
  }

  processRecords(records: DriverRecord[], millisBehindLatest = 0): Promise<void> {
    return this.request({ action: 'processRecords', records, millisBehindLatest });
  }

  shutdownRequested(): Promise<void> {
    return this.request({ action: 'shutdownRequested' });
  }

  /** Closes stdin (as the daemon does) and waits for the process to exit. */
  async end(timeoutMs = 10_000): Promise<number | null> {
    this.child.stdin.end();
    if (this.exitCode !== undefined) return this.exitCode;
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.child.kill('SIGKILL');
      }, timeoutMs);
      this.child.once('exit', (code) => {
        clearTimeout(t);
        resolve(code);
      });
    });
  }
}
