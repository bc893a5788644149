/**
 * moto's standalone server (PyPI moto[server], pinned by
 * scripts/requirements-moto.txt) as a local AWS for the AWS-mode adapters:
 * SNS, SQS, Firehose -> S3, DynamoDB, Athena, over real HTTP on 127.0.0.1.
 *
 * The venv is created on demand by scripts/setup-python.sh (a fast no-op when
 * present), so a fresh clone needs nothing but python3.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { freePort } from './ports';
import { promisify } from 'node:util';
import { sleep } from '../shared/runtime/sleep';
import { killOnExit } from '../shared/runtime/process';

const ROOT = findRoot(__dirname);
const execFileAsync = promisify(execFile);

/** Walk up to the directory holding package.json: this file runs from
 *  local/ under ts-jest and from dist/local/ once built. */
function findRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'scripts', 'setup-python.sh'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the tickstream root above ${start}`);
    dir = parent;
  }
}

export interface MotoServer {
  /** e.g. http://127.0.0.1:43121 */
  readonly endpoint: string;
  readonly pid: number | undefined;
  readonly region: string;
  /** Drop every resource in the emulator (POST /moto-api/reset). */
  reset(): Promise<void>;
  /** TERM, then KILL if it has not exited within 5 s. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartMotoOptions {
  /** Default 30 s: the first start after an install compiles .pyc files. */
  startTimeoutMs?: number;
  /** Where moto's own output goes; default: discarded unless it fails to start. */
  log?: NodeJS.WritableStream;
}

/** Region and dummy credentials for SDK clients pointed at moto. */
export function motoClientConfig(endpoint: string): {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
} {
  return { endpoint, region: MOTO_REGION, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
}

const MOTO_REGION = 'us-east-1';

/** Run scripts/setup-python.sh: creates .venv with moto on a fresh clone. */
async function ensureMotoInstalled(): Promise<string> {
  const root = ROOT;
  try {
    await execFileAsync('bash', [path.join(root, 'scripts', 'setup-python.sh')], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`scripts/setup-python.sh failed: ${(e.stderr ?? e.message).trim().slice(-2000)}`, { cause: err });
  }
  return path.join(root, '.venv', 'bin', 'moto_server');
}


/**
 * moto_server's own entry point, preceded on Linux by prctl(PR_SET_PDEATHSIG,
 * SIGKILL): the kernel then kills moto when the Node process that started it
 * dies, even by SIGKILL (a jest worker killed on timeout), where no 'exit'
 * handler runs. Elsewhere it is a plain moto_server.
 */
const LAUNCHER = [
  'import sys',
  'try:',
  '    import ctypes, signal',
  "    ctypes.CDLL('libc.so.6', use_errno=True).prctl(1, signal.SIGKILL)",
  'except Exception:',
  '    pass',
  'from moto.server import main',
  'sys.exit(main(sys.argv[1:]))',
].join('\n');

async function waitHealthy(endpoint: string, child: ChildProcess, deadline: number, output: () => string): Promise<void> {
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`moto_server exited during start-up (code ${child.exitCode}, signal ${child.signalCode}): ${output()}`);
    }
    try {
      const res = await fetch(`${endpoint}/moto-api/data.json`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`moto_server not healthy at ${endpoint} in time: ${output()}`);
    await sleep(100);
  }
}

/** Start a fresh moto server on a free 127.0.0.1 port and wait until it answers. */
export async function startMoto(opts: StartMotoOptions = {}): Promise<MotoServer> {
  const bin = await ensureMotoInstalled();
  // freePort() then bind is racy in principle; retry once on a lost race.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const child = spawn(path.join(path.dirname(bin), 'python'), ['-c', LAUNCHER, '-H', '127.0.0.1', '-p', String(port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, MOTO_ALLOW_NONEXISTENT_REGION: 'false', PYTHONUNBUFFERED: '1' },
    });
    // a test run that dies without calling stop() must not leave moto behind
    killOnExit(child, { group: false });
    let tail = '';
    const collect = (b: Buffer): void => {
      opts.log?.write(b);
      tail = (tail + b.toString('utf8')).slice(-4000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

    const stop = async (): Promise<void> => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    };
    try {
      await waitHealthy(endpoint, child, Date.now() + (opts.startTimeoutMs ?? 30_000), () => tail);
    } catch (err) {
      await stop();
      if (attempt < 2 && /address already in use/i.test(tail)) continue;
      throw err;
    }
    return {
      endpoint,
      pid: child.pid,
      region: MOTO_REGION,
      stop,
      async reset() {
        const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
        await res.arrayBuffer();
        if (!res.ok) throw new Error(`moto reset failed: HTTP ${res.status}`);
      },
    };
  }
}
