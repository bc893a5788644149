import { ScanCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { startDynalite, startKinesisLocal, type Emulator } from '../../../local/emulators';
import { LOCAL_REGION, createStream, createTables } from '../../../local/stack';
import { groupOf } from '../../../producer/leases';
import { dynamoClient, kinesisClient } from '../../../shared/aws';
import { ENV } from '../../../shared/env-names';
import { testSymbols } from '../../helpers/ticks';
import { tmpDir, waitFor } from '../../helpers/wait';

const GROUPS = 8;
const LEASE_MS = 3_000;
const HEARTBEAT_MS = 1_000;
/** The stated takeover bound: lease expiry + one heartbeat + 2 s for a scan and the writes on a busy 2-core box. */
const TAKEOVER_BOUND_MS = LEASE_MS + HEARTBEAT_MS + 2_000;

interface Producer {
  readonly id: string;
  readonly proc: ChildProcess;
  /** "leases changed" events: when, and which groups */
  readonly changes: { at: number; groups: number[] }[];
  readonly lines: Record<string, unknown>[];
}

function startProducer(id: string, env: Record<string, string>): Producer {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '../../../producer/main.ts')], {
    env: { ...process.env, ...env, [ENV.workerId]: id },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const p: Producer = { id, proc, changes: [], lines: [] };
  let buf = '';
  proc.stderr?.on('data', (c: Buffer) => {
    buf += c.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        const j = JSON.parse(line) as Record<string, unknown>;
        p.lines.push(j);
        if (j.message === 'leases changed') p.changes.push({ at: Date.parse(String(j.timestamp)), groups: j.groups as number[] });
      } catch {
        p.lines.push({ raw: line });
      }
    }
  });
  return p;
}

function current(p: Producer): number[] {
  return p.changes.at(-1)?.groups ?? [];
}

async function owners(dynamo: DynamoDBClient, table: string): Promise<Map<number, string>> {
  const r = await dynamo.send(new ScanCommand({ TableName: table, ConsistentRead: true }));
  const now = Date.now();
  const out = new Map<number, string>();
  for (const i of r.Items ?? []) {
    if (i.owner?.S !== undefined && Number(i.expiresAt?.N) > now) out.set(Number(i.group?.N), i.owner.S);
  }
  return out;
}

/** For each group: the intervals during which each producer believed it owned it. */
function ownershipIntervals(p: Producer, until: number): Map<number, [number, number][]> {
  const out = new Map<number, [number, number][]>();
  let held = new Map<number, number>();
  for (const c of p.changes) {
    const next = new Map<number, number>();
    for (const g of c.groups) next.set(g, held.get(g) ?? c.at);
    for (const [g, since] of held) if (!next.has(g)) out.set(g, [...(out.get(g) ?? []), [since, c.at]]);
    held = next;
  }
  for (const [g, since] of held) out.set(g, [...(out.get(g) ?? []), [since, until]]);
  return out;
}

describe('producer scale-out with symbol-group leases', () => {
  const dir = tmpDir('producer-scale');
  let kinesisEmu: Emulator;
  let dynamoEmu: Emulator;
  let dynamo: DynamoDBClient;
  const producers: Producer[] = [];

  beforeAll(async () => {
    [kinesisEmu, dynamoEmu] = await Promise.all([startKinesisLocal({ logDir: dir }), startDynalite({ logDir: dir })]);
    dynamo = dynamoClient({ region: LOCAL_REGION, endpoint: dynamoEmu.endpoint });
    const kinesis = kinesisClient({ region: LOCAL_REGION, endpoint: kinesisEmu.endpoint });
    await createStream(kinesis, 'scale', 4);
    kinesis.destroy();
    await createTables(dynamo, { producerLeases: 'producer-leases' });
  }, 60_000);

  afterAll(async () => {
    for (const p of producers) if (p.proc.exitCode === null) p.proc.kill('SIGKILL');
    dynamo?.destroy();
    await Promise.all([kinesisEmu?.stop(), dynamoEmu?.stop()]);
  });

  it('two producers share 1,000 symbols without overlap, and one takes over when the other is killed', async () => {
    const universe = testSymbols(1000);
    const env = {
      [ENV.source]: 'synthetic',
      [ENV.symbols]: universe.join(','),
      [ENV.streamName]: 'scale',
      [ENV.region]: LOCAL_REGION,
      [ENV.kinesisEndpoint]: kinesisEmu.endpoint,
      [ENV.dynamodbEndpoint]: dynamoEmu.endpoint,
      [ENV.producerLeaseTable]: 'producer-leases',
      [ENV.producerGroups]: String(GROUPS),
      [ENV.producerLeaseMs]: String(LEASE_MS),
      [ENV.producerHeartbeatMs]: String(HEARTBEAT_MS),
      [ENV.syntheticRate]: '100',
      [ENV.logLevel]: 'info',
    };
    const a = startProducer('producer-a', env);
    producers.push(a);
    await waitFor('producer-a to hold all groups', () => Promise.resolve(current(a).length === GROUPS ? true : undefined), 60_000, 200);

    const b = startProducer('producer-b', env);
    producers.push(b);
    await waitFor('an even split', () => Promise.resolve(current(a).length === GROUPS / 2 && current(b).length === GROUPS / 2 ? true : undefined), 60_000, 200);

    // No gaps and no overlap, in the table and in what each process believes.
    const table = await owners(dynamo, 'producer-leases');
    expect([...table.keys()].sort((x, y) => x - y)).toEqual([...Array(GROUPS).keys()]);
    expect(new Set(table.values())).toEqual(new Set(['producer-a', 'producer-b']));
    const symbolsOf = (groups: number[]): string[] => universe.filter((s) => groups.includes(groupOf(s, GROUPS)));
    const sa = symbolsOf(current(a));
    const sb = symbolsOf(current(b));
    expect(sa.filter((s) => sb.includes(s))).toEqual([]);
    expect(sa.length + sb.length).toBe(1000);

    // During the hand-over no group was held by both at once (same host clock).
    const now = Date.now();
    const ia = ownershipIntervals(a, now);
    const ib = ownershipIntervals(b, now);
    const overlaps: string[] = [];
    for (const [g, xs] of ia) for (const [s1, e1] of xs) for (const [s2, e2] of ib.get(g) ?? []) if (s1 < e2 && s2 < e1) overlaps.push(`group ${g}: a ${s1}-${e1}, b ${s2}-${e2}`);
    expect(overlaps).toEqual([]);

    // Kill -9: no release, no flush; b must take a's groups within the bound.
    const killedAt = Date.now();
    a.proc.kill('SIGKILL');
    const took = await waitFor('producer-b to hold all groups', () => Promise.resolve(current(b).length === GROUPS ? (b.changes.at(-1)?.at ?? Date.now()) - killedAt : undefined), 60_000, 100);
    process.stderr.write(`${JSON.stringify({ test: 'scale-out', takeoverMs: took, boundMs: TAKEOVER_BOUND_MS })}\n`);
    expect(took).toBeLessThanOrEqual(TAKEOVER_BOUND_MS);
    expect(symbolsOf(current(b))).toHaveLength(1000);

    // And b is still producing (ticks acknowledged by Kinesis), with no errors logged.
    expect(b.lines.filter((l) => l.level === 'error')).toEqual([]);
    b.proc.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => b.proc.once('exit', resolve));
    expect(code).toBe(0);
    expect(b.lines.some((l) => l.message === 'flushed')).toBe(true);
    expect(b.lines.some((l) => l.message === 'leases released')).toBe(true);
  });
});
