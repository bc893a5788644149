import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { ALERTS_FILE, LocalAlertPublisher, formatAlertLine } from '../../../consumer/sinks/local-files';
import { MemoryAlertPublisher } from '../../../consumer/sinks/memory';
import type { Alert, PublishResult } from '../../../consumer/ports';
import { alert } from './factories';

const MIN = 60_000;
const T0 = Date.UTC(2024, 2, 1, 15, 0, 0);

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'tickstream-alerts-'));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

/** A stream of alerts for two symbols, some close together in tick time. */
function alertStream(): Alert[] {
  const offsets = [0, 2, 4, 6, 11, 12, 20, 20, 29, 31, 45, 46, 47, 60];
  const out: Alert[] = [];
  offsets.forEach((m, i) => {
    out.push(alert({ symbol: 'AAPL', type: i % 2 ? 'SELL' : 'BUY', ts: T0 + m * MIN }));
    if (i % 3 === 0) out.push(alert({ symbol: 'MSFT', type: 'ANOMALY', ts: T0 + m * MIN + 500 }));
  });
  // Same tick, two types: the second must fall in the cooldown.
  out.push(alert({ symbol: 'MSFT', type: 'VOLUME_SPIKE', ts: T0 + 60 * MIN + 500 }));
  return out;
}

describe('DedupCooldownPublisher (in-memory ledger)', () => {
  it('publishes once per id: the same alert again is a duplicate', async () => {
    const p = new MemoryAlertPublisher(0);
    expect(await p.publish(alert())).toBe('published');
    expect(await p.publish(alert())).toBe('duplicate');
    expect(p.delivered).toHaveLength(1);
  });

  it('measures the cooldown per symbol in tick time, not wall-clock time', async () => {
    const p = new MemoryAlertPublisher(10 * MIN);
    expect(await p.publish(alert({ ts: T0 }))).toBe('published');
    expect(await p.publish(alert({ ts: T0 + 9 * MIN, type: 'SELL' }))).toBe('cooldown');
    expect(await p.publish(alert({ symbol: 'MSFT', ts: T0 + 9 * MIN }))).toBe('published');
    expect(await p.publish(alert({ ts: T0 + 10 * MIN, type: 'ANOMALY' }))).toBe('published');
  });

  it('with no cooldown, publishes every alert of one tick, and a replay of them is all duplicates', async () => {
    const p = new MemoryAlertPublisher(0);
    const sameTick = [alert({ type: 'BUY' }), alert({ type: 'ANOMALY' }), alert({ type: 'VOLUME_SPIKE' })];
    for (const a of sameTick) expect(await p.publish(a)).toBe('published');
    for (const a of sameTick) expect(await p.publish(a)).toBe('duplicate');
  });

  it('with a cooldown, the second alert of the same tick is in cooldown, on replay too', async () => {
    const p = new MemoryAlertPublisher(MIN);
    expect(await p.publish(alert({ type: 'BUY' }))).toBe('published');
    expect(await p.publish(alert({ type: 'ANOMALY' }))).toBe('cooldown');
    expect(await p.publish(alert({ type: 'BUY' }))).toBe('duplicate');
    expect(await p.publish(alert({ type: 'ANOMALY' }))).toBe('cooldown');
  });

  it('serialises concurrent publishes of one symbol in call order', async () => {
    const p = new MemoryAlertPublisher(10 * MIN);
    const results = await Promise.all([alert({ ts: T0 }), alert({ ts: T0 + MIN, type: 'SELL' }), alert({ ts: T0 + 11 * MIN })].map((a) => p.publish(a)));
    expect(results).toEqual(['published', 'cooldown', 'published']);
  });
});

describe('LocalAlertPublisher', () => {
  it('prints a readable line to the given stream and appends the alert to alerts.jsonl', async () => {
    const out = new PassThrough();
    const chunks: string[] = [];
    out.on('data', (b: Buffer) => chunks.push(b.toString()));
    const p = new LocalAlertPublisher({ dataDir, out, cooldownMs: 0 });
    const a = alert();
    expect(await p.publish(a)).toBe('published');
    await p.close();
    expect(chunks.join('')).toBe(`${formatAlertLine(a)}\n`);
    expect(chunks.join('')).toContain('[ALERT BUY] 2024-03-01T15:00:00.000Z AAPL @ 101.5: AAPL is in an Uptrend! Consider a buy opportunity.');
    const lines = (await readFile(path.join(dataDir, ALERTS_FILE), 'utf8')).trim().split('\n');
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual([a]);
  });

  it('dedups against the file left by an earlier process', async () => {
    const out = new PassThrough();
    const first = new LocalAlertPublisher({ dataDir, out, cooldownMs: 0 });
    await first.publish(alert());
    await first.close();
    const second = new LocalAlertPublisher({ dataDir, out, cooldownMs: 0 });
    expect(await second.publish(alert())).toBe('duplicate');
    await second.close();
    expect((await readFile(path.join(dataDir, ALERTS_FILE), 'utf8')).trim().split('\n')).toHaveLength(1);
  });

  it.each([10 * MIN, 0])('a crash and replay from any point gives exactly the alerts file of an uninterrupted run (cooldown %d ms)', async (cooldownMs) => {
    const stream = alertStream();
    const run = async (dir: string, segments: [number, number][]): Promise<{ file: string; results: PublishResult[] }> => {
      const results: PublishResult[] = [];
      for (const [from, to] of segments) {
        // Each segment is a new process: a new publisher that reloads the file.
        const p = new LocalAlertPublisher({ dataDir: dir, out: new PassThrough(), cooldownMs });
        for (const a of stream.slice(from, to)) results.push(await p.publish(a));
        await p.close();
      }
      return { file: await readFile(path.join(dir, ALERTS_FILE), 'utf8'), results };
    };
    const reference = await run(path.join(dataDir, 'ref'), [[0, stream.length]]);
    expect(reference.results.includes('cooldown')).toBe(cooldownMs > 0);
    expect(reference.results.filter((r) => r === 'published').length).toBeGreaterThan(3);
    for (let crashAt = 1; crashAt < stream.length; crashAt++) {
      for (const replayFrom of new Set([crashAt, crashAt - 1, Math.max(0, crashAt - 3), 0])) {
        const got = await run(path.join(dataDir, `c${crashAt}-${replayFrom}`), [
          [0, crashAt],
          [replayFrom, stream.length],
        ]);
        expect({ crashAt, replayFrom, file: got.file }).toEqual({ crashAt, replayFrom, file: reference.file });
        // The replayed tail decides exactly as the original did, except that
        // what was published before now reports 'duplicate'.
        const tail = got.results.slice(crashAt);
        const expected = reference.results.slice(replayFrom).map((r, i) => (r === 'published' && replayFrom + i < crashAt ? 'duplicate' : r));
        expect({ crashAt, replayFrom, tail }).toEqual({ crashAt, replayFrom, tail: expected });
      }
    }
  });
});
