import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startDynalite, type Emulator } from '../../../local/emulators';
import { LOCAL_REGION, createTables } from '../../../local/stack';
import { LeaseManager, groupOf } from '../../../producer/leases';
import { dynamoClient } from '../../../shared/aws';
import { testSymbols } from '../../helpers/ticks';
import { tmpDir } from '../../helpers/wait';
import { FakeClock, captureLogs } from '../../unit/producer/helpers';

/**
 * LeaseManager rounds driven by hand against dynalite, with one virtual
 * clock for every task: joins, fair shares, hand-overs and expiry-based
 * takeover, deterministic and fast.
 */
describe('LeaseManager on dynalite', () => {
  const dir = tmpDir('producer-leases');
  let emu: Emulator;
  let dynamo: DynamoDBClient;
  const universe = testSymbols(1000);
  const GROUPS = 16;
  const LEASE = 10_000;
  const HEARTBEAT = 2_000;

  beforeAll(async () => {
    emu = await startDynalite({ logDir: dir });
    dynamo = dynamoClient({ region: LOCAL_REGION, endpoint: emu.endpoint });
  }, 60_000);
  afterAll(async () => {
    dynamo?.destroy();
    await emu?.stop();
  });

  function manager(table: string, id: string, clock: FakeClock, released: string[] = []): LeaseManager {
    return new LeaseManager({
      dynamo,
      table,
      workerId: id,
      universe,
      groups: GROUPS,
      leaseDurationMs: LEASE,
      heartbeatMs: HEARTBEAT,
      logger: captureLogs('warn').logger,
      clock,
      beforeRelease: (g) => {
        released.push(`${id}:${g}`);
        return Promise.resolve();
      },
    });
  }

  /** One heartbeat of every live task, then time moves one heartbeat on. */
  async function round(clock: FakeClock, ms: LeaseManager[]): Promise<void> {
    for (const m of ms) await m.heartbeat();
    clock.t += HEARTBEAT;
  }

  function assertPartition(ms: LeaseManager[]): void {
    const seen = new Map<string, number>();
    ms.forEach((m) => m.symbols().forEach((s) => seen.set(s, (seen.get(s) ?? 0) + 1)));
    const dup = [...seen].filter(([, n]) => n > 1).map(([s]) => s);
    expect(dup).toEqual([]);
  }

  it('splits 16 groups fairly between three tasks that join one after another, without overlap at any round', async () => {
    await createTables(dynamo, { producerLeases: 'leases-join' });
    const clock = new FakeClock(1_000_000);
    const released: string[] = [];
    const a = manager('leases-join', 'a', clock, released);
    await round(clock, [a]);
    expect(a.ownedGroups()).toHaveLength(GROUPS);
    expect(a.symbols()).toHaveLength(1000);

    const b = manager('leases-join', 'b', clock, released);
    const c = manager('leases-join', 'c', clock, released);
    for (let i = 0; i < 12; i++) {
      await round(clock, i < 4 ? [a, b] : [a, b, c]);
      assertPartition([a, b, c]);
    }
    const sizes = [a, b, c].map((m) => m.ownedGroups().length).sort();
    expect(sizes).toEqual([5, 5, 6]);
    const all = [a, b, c].flatMap((m) => m.symbols());
    expect(new Set(all).size).toBe(1000);
    expect(released.length).toBeGreaterThanOrEqual(10);
  });

  it('takes over a dead task’s groups after the lease expires, not before', async () => {
    await createTables(dynamo, { producerLeases: 'leases-death' });
    const clock = new FakeClock(2_000_000);
    const a = manager('leases-death', 'a', clock);
    const b = manager('leases-death', 'b', clock);
    for (let i = 0; i < 10; i++) await round(clock, [a, b]);
    expect(a.ownedGroups()).toHaveLength(8);
    expect(b.ownedGroups()).toHaveLength(8);

    // a dies: it never heartbeats again. Before expiry b must not take a's groups.
    const diedAt = clock.t;
    let tookAt: number | undefined;
    let tookEarly = false;
    while (tookAt === undefined && clock.t - diedAt < 5 * LEASE) {
      await round(clock, [b]);
      if (clock.t - diedAt < LEASE && b.ownedGroups().length !== 8) tookEarly = true;
      if (b.ownedGroups().length === GROUPS) tookAt = clock.t;
    }
    expect(tookEarly).toBe(false);
    expect(tookAt).toBeDefined();
    expect((tookAt as number) - diedAt).toBeLessThanOrEqual(LEASE + 2 * HEARTBEAT);
    // a's own view lapses before b could acquire: a stalled-but-alive a would stop first.
    expect(a.symbols()).toEqual([]);
    expect(b.symbols()).toHaveLength(1000);
  });

  it('hashes symbols to groups stably and evenly', () => {
    expect(groupOf('AAPL', 16)).toBe(groupOf('AAPL', 16));
    const counts = new Array<number>(16).fill(0);
    for (const s of universe) counts[groupOf(s, 16)] = (counts[groupOf(s, 16)] ?? 0) + 1;
    expect(Math.min(...counts)).toBeGreaterThan(1000 / 16 / 2);
    expect(Math.max(...counts)).toBeLessThan((1000 / 16) * 2);
  });
});
