import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';

/**
 * A child process the local stack owns. Every one is registered so that an
 * exit of the parent (normal, Ctrl-C, a failed test) takes them down too:
 * a leaked emulator would hold its port and memory until the machine restarts.
 */
export interface ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** SIGTERM, then SIGKILL after `graceMs` (kinesis-local can ignore TERM
   *  while it holds hung HTTP/2 connections). Resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
  readonly exited: Promise<number | null>;
}

const live = new Map<ChildProcess, { group: boolean }>();
let hooksInstalled = false;

/**
 * Last resort for a parent that exits without stopping its children (a test
 * run that dies, an uncaught error): SIGKILL every child still registered,
 * its whole process group when `group` (the daemon's node children too).
 * 'exit' handlers must be synchronous: a plain SIGKILL is all they can do.
 * The child is forgotten by itself when it exits.
 */
export function killOnExit(child: ChildProcess, opts: { group: boolean }): void {
  if (!hooksInstalled) {
    hooksInstalled = true;
    process.on('exit', () => {
      for (const [c, o] of live) {
        try {
          if (o.group && c.pid !== undefined) process.kill(-c.pid, 'SIGKILL');
          else c.kill('SIGKILL');
        } catch {
          /* already gone */
        }
      }
    });
  }
  live.set(child, opts);
  const forget = (): void => void live.delete(child);
  child.once('exit', forget);
  child.once('error', forget);
}

export function startProcess(
  name: string,
  command: string,
  args: string[],
  opts: SpawnOptions & { logFile?: string } = {},
): ManagedProcess {
  const { logFile, ...spawnOpts } = opts;
  let out: 'ignore' | number = 'ignore';
  if (logFile !== undefined) out = fs.openSync(logFile, 'a');
  const child = spawn(command, args, {
    stdio: ['ignore', out, out],
    // own process group, so stop() reaches grandchildren (the KCL daemon's
    // record processors) and a Ctrl-C in the terminal is handled by us, in order
    detached: true,
    ...spawnOpts,
  });
  if (typeof out === 'number') fs.closeSync(out);
  killOnExit(child, { group: true });
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null)));
    child.once('error', () => resolve(null));
  });
  const signalGroup = (sig: NodeJS.Signals): void => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      /* already gone */
    }
  };
  return {
    name,
    child,
    exited,
    async stop(graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      signalGroup('SIGTERM');
      const timer = setTimeout(() => signalGroup('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      // the group may still hold stragglers whose leader has already exited
      signalGroup('SIGKILL');
      return code;
    },
  };
}
