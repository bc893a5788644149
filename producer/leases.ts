import {
  ConditionalCheckFailedException,
  ScanCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { Logger } from '../shared/logger';
import { TABLE_KEYS } from '../shared/tables';
import { systemClock, type Clock } from './clock';
import { LeaseError, errorForLog } from './errors';
import type { SymbolProvider } from './sources/source';

/**
 * Symbol-group leases: how several producer tasks split one symbol universe
 * without overlap or gaps (see README "Producer scale-out").
 *
 * - The universe is cut into `groups` fixed groups by a stable hash of the
 *   symbol, so every symbol is in exactly one group whatever the task count.
 * - One DynamoDB item per group: { group, owner, expiresAt, pendingOwner?,
 *   pendingAt? }. Every change is a conditional write, so two tasks can never
 *   both believe they won the same group.
 * - Each heartbeat a task renews its leases, takes free or expired groups up
 *   to its fair share ceil(groups / live tasks), and, if still short, asks
 *   the busiest task for one group by setting `pendingOwner`.
 * - A task asked for a group first stops producing it and flushes what it
 *   already fetched, then hands the lease over in one conditional write. So
 *   on a join, symbols move without a moment where two tasks produce them.
 * - A task that dies stops renewing; after `leaseDurationMs` its groups are
 *   free and the others take them at their next heartbeat: takeover within
 *   leaseDurationMs + heartbeatMs.
 * - A task produces a group only while its own view of the lease is valid
 *   (last successful renewal + lease duration − one heartbeat of margin), so
 *   a task that stalls (GC, network) stops before anyone else may start.
 */
export interface LeaseManagerOptions {
  readonly dynamo: DynamoDBClient;
  readonly table: string;
  readonly workerId: string;
  readonly universe: readonly string[];
  readonly groups: number;
  readonly leaseDurationMs: number;
  readonly heartbeatMs: number;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Called before a group is handed to another task: stop and flush it. */
  readonly beforeRelease?: (group: number, symbols: readonly string[]) => Promise<void>;
  /** Called whenever the set of owned groups changes. */
  readonly onChange?: (groups: readonly number[], symbols: readonly string[]) => void;
}

interface LeaseItem {
  group: number;
  owner: string | undefined;
  expiresAt: number;
  pendingOwner: string | undefined;
  pendingAt: number;
}

const KEY = TABLE_KEYS.producerLeases.partitionKey;

/** FNV-1a: stable across processes and versions (unlike any runtime hash). */
export function groupOf(symbol: string, groups: number): number {
  let h = 2166136261;
  for (let i = 0; i < symbol.length; i++) h = Math.imul(h ^ symbol.charCodeAt(i), 16777619);
  return (h >>> 0) % groups;
}

function keyValue(group: number): AttributeValue {
  return KEY.type === 'N' ? { N: String(group) } : { S: String(group) };
}

export class LeaseManager {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly members: string[][];
  /** group → local time until which we may produce it */
  private readonly owned = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly o: LeaseManagerOptions) {
    this.clock = o.clock ?? systemClock;
    this.log = o.logger.child({ component: 'leases', workerId: o.workerId });
    this.members = Array.from({ length: o.groups }, () => []);
    for (const s of o.universe) this.members[groupOf(s, o.groups)]?.push(s);
  }

  /** The symbols this task may produce right now. */
  readonly symbols: SymbolProvider = () => {
    const now = this.clock.now();
    const out: string[] = [];
    for (const [g, validUntil] of this.owned) if (validUntil > now) out.push(...(this.members[g] ?? []));
    return out;
  };

  ownedGroups(): number[] {
    return [...this.owned.keys()].sort((a, b) => a - b);
  }

  /** Runs heartbeats until stop(). The first one completes before this resolves. */
  async start(): Promise<void> {
    await this.heartbeat();
    const loop = (): void => {
      if (this.stopped) return;
      this.timer = setTimeout(() => {
        this.running = this.heartbeat().finally(loop);
      }, this.o.heartbeatMs);
    };
    loop();
  }

  /** Stop heartbeats and release every lease so others take over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    const groups = this.ownedGroups();
    this.owned.clear();
    this.changed();
    await Promise.allSettled(
      groups.map((g) =>
        this.update(g, 'SET expiresAt = :zero REMOVE #owner', '#owner = :me', { ':zero': { N: '0' }, ':me': { S: this.o.workerId } }, { '#owner': 'owner' }),
      ),
    );
    this.log.info('leases released', { groups });
  }

  async heartbeat(): Promise<void> {
    try {
      await this.tick();
    } catch (err) {
      // A failed heartbeat is not fatal: leases stay valid until validUntil,
      // and the next heartbeat retries.
      this.log.warn('lease heartbeat failed', errorForLog(err));
    }
  }

  private async tick(): Promise<void> {
    const started = this.clock.now();
    const items = await this.scan();
    const me = this.o.workerId;
    const live = new Set<string>([me]);
    for (const it of items.values()) {
      if (it.owner !== undefined && it.expiresAt > started) live.add(it.owner);
      if (it.pendingOwner !== undefined && started - it.pendingAt < this.o.leaseDurationMs) live.add(it.pendingOwner);
    }
    const fair = Math.ceil(this.o.groups / live.size);
    const floor = Math.floor(this.o.groups / live.size);
    const before = this.ownedGroups().join(',');

    // 1. Renew what we hold, or hand it over if someone asked and we have more than our share.
    let mine = [...items.values()].filter((it) => it.owner === me).length;
    for (const it of items.values()) {
      if (it.owner !== me) {
        this.owned.delete(it.group);
        continue;
      }
      const askedFresh = it.pendingOwner !== undefined && it.pendingOwner !== me && started - it.pendingAt < this.o.leaseDurationMs;
      if (askedFresh && mine > floor) {
        await this.handOver(it, started);
        mine--;
      } else if (await this.renew(it, started)) {
        this.owned.set(it.group, started + this.o.leaseDurationMs - this.o.heartbeatMs);
      } else {
        this.owned.delete(it.group);
        mine--;
      }
    }

    // 2. Take free or expired groups up to our fair share.
    for (let g = 0; g < this.o.groups && this.owned.size < fair; g++) {
      const it = items.get(g);
      if (it !== undefined && it.owner !== undefined && it.expiresAt > started) continue;
      if (await this.acquire(g, started)) this.owned.set(g, started + this.o.leaseDurationMs - this.o.heartbeatMs);
    }

    // 3. Still short: ask the busiest task for one group (one request at a time).
    if (this.owned.size < floor && ![...items.values()].some((it) => it.pendingOwner === me && started - it.pendingAt < this.o.leaseDurationMs)) {
      const counts = new Map<string, number>();
      for (const it of items.values()) if (it.owner !== undefined && it.owner !== me && it.expiresAt > started) counts.set(it.owner, (counts.get(it.owner) ?? 0) + 1);
      const [victim, count] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0] ?? [undefined, 0];
      if (victim !== undefined && count > this.owned.size + 1) {
        const target = [...items.values()].find((it) => it.owner === victim && (it.pendingOwner === undefined || started - it.pendingAt >= this.o.leaseDurationMs));
        if (target !== undefined) await this.request(target, started);
      }
    }

    if (this.ownedGroups().join(',') !== before) this.changed();
  }

  private changed(): void {
    const groups = this.ownedGroups();
    const symbols = this.symbols();
    this.log.info('leases changed', { groups, symbols: symbols.length });
    this.o.onChange?.(groups, symbols);
  }

  private async scan(): Promise<Map<number, LeaseItem>> {
    const out = new Map<number, LeaseItem>();
    let start: Record<string, AttributeValue> | undefined;
    do {
      const res = await this.o.dynamo.send(new ScanCommand({ TableName: this.o.table, ConsistentRead: true, ExclusiveStartKey: start }));
      for (const i of res.Items ?? []) {
        const raw = i[KEY.name];
        const group = Number(raw?.N ?? raw?.S);
        if (!Number.isInteger(group) || group < 0 || group >= this.o.groups) continue;
        out.set(group, {
          group,
          owner: i.owner?.S,
          expiresAt: Number(i.expiresAt?.N ?? 0),
          pendingOwner: i.pendingOwner?.S,
          pendingAt: Number(i.pendingAt?.N ?? 0),
        });
      }
      start = res.LastEvaluatedKey;
    } while (start !== undefined);
    return out;
  }

  private async update(group: number, expr: string, cond: string, values: Record<string, AttributeValue>, names: Record<string, string>): Promise<boolean> {
    try {
      await this.o.dynamo.send(
        new UpdateItemCommand({
          TableName: this.o.table,
          Key: { [KEY.name]: keyValue(group) },
          UpdateExpression: expr,
          ConditionExpression: cond,
          ExpressionAttributeValues: values,
          ExpressionAttributeNames: names,
        }),
      );
      return true;
    } catch (err) {
      // Losing a race is the normal outcome of a conditional write, not an error.
      if (err instanceof ConditionalCheckFailedException || (err as Error).name === 'ConditionalCheckFailedException') return false;
      throw new LeaseError(`lease update for group ${group} failed`, { cause: err });
    }
  }

  private renew(it: LeaseItem, now: number): Promise<boolean> {
    return this.update(it.group, 'SET expiresAt = :exp', '#owner = :me', { ':exp': { N: String(now + this.o.leaseDurationMs) }, ':me': { S: this.o.workerId } }, { '#owner': 'owner' });
  }

  private acquire(group: number, now: number): Promise<boolean> {
    return this.update(
      group,
      'SET #owner = :me, expiresAt = :exp REMOVE pendingOwner, pendingAt',
      'attribute_not_exists(#owner) OR expiresAt < :now',
      { ':me': { S: this.o.workerId }, ':exp': { N: String(now + this.o.leaseDurationMs) }, ':now': { N: String(now) } },
      { '#owner': 'owner' },
    );
  }

  private request(it: LeaseItem, now: number): Promise<boolean> {
    this.log.info('requesting a group', { group: it.group, from: it.owner });
    return this.update(
      it.group,
      'SET pendingOwner = :me, pendingAt = :now',
      '#owner = :victim AND (attribute_not_exists(pendingOwner) OR pendingAt < :stale)',
      { ':me': { S: this.o.workerId }, ':now': { N: String(now) }, ':victim': { S: it.owner ?? '' }, ':stale': { N: String(now - this.o.leaseDurationMs) } },
      { '#owner': 'owner' },
    );
  }

  private async handOver(it: LeaseItem, now: number): Promise<void> {
    const to = it.pendingOwner as string;
    // Stop producing first, and flush, so the new owner never overlaps us.
    this.owned.delete(it.group);
    this.changed();
    await this.o.beforeRelease?.(it.group, this.members[it.group] ?? []);
    const ok = await this.update(
      it.group,
      'SET #owner = :to, expiresAt = :exp REMOVE pendingOwner, pendingAt',
      '#owner = :me AND pendingOwner = :to',
      { ':to': { S: to }, ':me': { S: this.o.workerId }, ':exp': { N: String(this.clock.now() + this.o.leaseDurationMs) } },
      { '#owner': 'owner' },
    );
    this.log.info(ok ? 'group handed over' : 'group hand-over lost a race', { group: it.group, to, at: now });
  }
}
