import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkHealth, main } from '../../../consumer/health';
import { DAEMON_PID_FILE, Heartbeat, withHeartbeat } from '../../../consumer/heartbeat';

const STALE = 90_000;
let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'health-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const daemon = (pid = 100): void => fs.writeFileSync(path.join(dir, DAEMON_PID_FILE), `${pid}\n`);
const beatAt = (pid: number, shardId: string, at: number): void => new Heartbeat(dir, pid, 0, () => at).beat(shardId);
const alive = (...pids: number[]) => (pid: number) => pids.includes(pid);

describe('checkHealth', () => {
  test('unhealthy before the daemon has started, and when its JVM is gone', () => {
    expect(checkHealth(dir, STALE, 0, alive()).healthy).toBe(false);
    daemon(100);
    expect(checkHealth(dir, STALE, 0, alive()).reason).toContain('not running');
  });

  test('healthy with the daemon up and no processors: a worker without a lease is not stuck', () => {
    daemon();
    expect(checkHealth(dir, STALE, 1_000_000, alive(100))).toEqual({ healthy: true, reason: 'daemon running, no leases held', processors: {} });
  });

  test('healthy while every live processor reported within the window; unhealthy, naming the shard, when one falls silent', () => {
    daemon();
    beatAt(201, 'shardId-0', 1_000_000);
    beatAt(202, 'shardId-1', 1_000_000 - STALE + 1);
    expect(checkHealth(dir, STALE, 1_000_000, alive(100, 201, 202)).healthy).toBe(true);
    const h = checkHealth(dir, STALE, 1_000_000 + 2, alive(100, 201, 202));
    expect(h.healthy).toBe(false);
    expect(h.reason).toContain('shardId-1');
    expect(h.reason).not.toContain('shardId-0');
  });

  test('a dead processor\'s leftover file is not a live processor: ignored and removed', () => {
    daemon();
    beatAt(203, 'shardId-2', 0);
    expect(checkHealth(dir, STALE, 10 * STALE, alive(100)).healthy).toBe(true);
    expect(fs.existsSync(path.join(dir, '203.json'))).toBe(false);
  });

  test('main prints one JSON line and exits 1 when unhealthy, 0 when healthy', () => {
    const lines: string[] = [];
    expect(main({ TICKSTREAM_HEARTBEAT_DIR: dir }, (l) => lines.push(l))).toBe(1);
    daemon(process.pid);
    expect(main({ TICKSTREAM_HEARTBEAT_DIR: dir }, (l) => lines.push(l))).toBe(0);
    expect(lines.map((l) => (JSON.parse(l) as { healthy: boolean }).healthy)).toEqual([false, true]);
  });
});

describe('Heartbeat', () => {
  test('writes at most once per interval, and close removes the file', () => {
    let now = 0;
    const hb = new Heartbeat(dir, 42, 1000, () => now);
    const file = path.join(dir, '42.json');
    hb.beat('shardId-7');
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ pid: 42, shardId: 'shardId-7', at: 0 });
    now = 500;
    hb.beat();
    expect((JSON.parse(fs.readFileSync(file, 'utf8')) as { at: number }).at).toBe(0);
    now = 1000;
    hb.beat();
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ pid: 42, shardId: 'shardId-7', at: 1000 });
    hb.close();
    expect(fs.existsSync(file)).toBe(false);
  });

  test('withHeartbeat beats when a KCL call starts and when it completes, and learns the shard from initialize', () => {
    const beats: (string | undefined)[] = [];
    const hb = { beat: (s?: string) => void beats.push(s) } as unknown as Heartbeat;
    let finish: () => void = () => undefined;
    const wrapped = withHeartbeat(
      {
        initialize: (_i: { shardId: string }, done: () => void) => done(),
        processRecords: (_i: { records: unknown[] }, done: () => void) => {
          finish = done;
        },
      },
      hb,
    );
    const done = jest.fn();
    wrapped.initialize({ shardId: 'shardId-3' }, done);
    expect(beats).toEqual(['shardId-3', undefined]);
    wrapped.processRecords({ records: [] }, done);
    expect(beats).toHaveLength(3);
    finish();
    expect(beats).toHaveLength(4);
    expect(done).toHaveBeenCalledTimes(2);
  });
});
