/**
 * The AWS source's alert feed, as plain data: which days of the alerts index
 * (ALERTS_BY_DAY, shared/tables.ts) the next read asks for and from which
 * tick time, which of the alerts read are new, and the newest ones kept for
 * a page that opens. Pure, so the day arithmetic (midnight, the first
 * read's lookback) is unit-tested without DynamoDB; dashboard/aws-source.ts
 * sends the Queries.
 */
import { alertDay } from '../shared/tables';
import type { AlertItem } from './wire';

const DAY_MS = 86_400_000;

/**
 * A poll reads the day of the newest alert seen (less the lateness) up to
 * today, but never more than two days: today and yesterday cover midnight,
 * and an alert stored now with a tick time two days old is not "live"
 * (after a weekend the newest seen is Friday's; reading Friday and Saturday
 * on every poll would find nothing new). The first read after a pause (no
 * alerts page open, so no poll) reads a day more for each midnight passed
 * since the last read, up to lookbackDays: what was published meanwhile is
 * not "late", and a page opened after the pause must list it.
 */
const POLL_DAYS = 2;

export interface AlertFeedLimits {
  /** The most alerts a read returns and the feed keeps. */
  limit: number;
  /** Days the first read goes back, today included. */
  lookbackDays: number;
  /** How late (tick time) an alert may be stored after a newer one and still be picked up. */
  lateMs: number;
}

/** One read: Query each day, newest day first and newest alert first, until `limit` alerts. */
export interface AlertRead {
  /** UTC days (YYYY-MM-DD), newest first. */
  days: string[];
  /** Only alerts at or after this tick time; undefined: the whole day. */
  since: number | undefined;
  limit: number;
}

/** UTC days from the day of `toTs` back to the day of `fromTs`, newest first, at most `max`. */
export function daysBack(fromTs: number, toTs: number, max: number): string[] {
  const first = alertDay(fromTs);
  const out: string[] = [];
  // UTC days are all 24 h long, so stepping back a day's milliseconds visits each once
  for (let t = toTs; out.length < max; t -= DAY_MS) {
    const day = alertDay(t);
    out.push(day);
    if (day <= first) break;
  }
  return out;
}

/** An index entry (unmarshalled) as the alerts page's item, the shape the local source gives; undefined when a field is missing. */
export function alertOf(x: Record<string, unknown>): AlertItem | undefined {
  const { alert_id: id, symbol, type, ts, price, message } = x;
  if (typeof id !== 'string' || typeof symbol !== 'string' || typeof type !== 'string' || typeof message !== 'string') return undefined;
  if (typeof ts !== 'number' || !Number.isFinite(ts) || typeof price !== 'number' || !Number.isFinite(price)) return undefined;
  return { id, symbol, type, ts, price, message };
}

/** Newest first by the alert's own ts, then id (the page's order, dashboard/web/alerts.ts). */
const newestFirst = (a: AlertItem, b: AlertItem): number => b.ts - a.ts || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

export class AlertFeed {
  /** Newest first, at most limit. */
  private kept: AlertItem[] = [];
  /** Ids read with their ts, down to the oldest ts a poll can still read (newest - lateMs): what a re-read must skip. */
  private readonly seen = new Map<string, number>();
  private newest = -Infinity;
  private primed = false;
  /** When the last accepted read was asked for (next's now), and the one asked for since. */
  private readAt: number | undefined;
  private askedAt: number | undefined;

  constructor(private readonly lim: AlertFeedLimits) {}

  /** The read to send now: the first goes back lookbackDays from today; later ones from the newest seen less the lateness. */
  next(now: number): AlertRead {
    const { limit, lookbackDays, lateMs } = this.lim;
    this.askedAt = now;
    if (!this.primed) return { days: daysBack(now - (lookbackDays - 1) * DAY_MS, now, lookbackDays), since: undefined, limit };
    const since = (this.newest === -Infinity ? now : this.newest) - lateMs;
    const midnights = this.readAt === undefined ? 0 : Math.max(0, Math.floor(now / DAY_MS) - Math.floor(this.readAt / DAY_MS));
    return { days: daysBack(since, Math.max(now, this.newest), Math.max(POLL_DAYS, Math.min(lookbackDays, POLL_DAYS + midnights))), since, limit };
  }

  /** The alerts a read returned: returns those not seen before, newest first. */
  accept(items: readonly AlertItem[]): AlertItem[] {
    this.primed = true;
    // a failed read is never accepted: the next one still reaches back to the last that was
    if (this.askedAt !== undefined) this.readAt = this.askedAt;
    const fresh: AlertItem[] = [];
    for (const a of items) {
      if (this.seen.has(a.id)) continue;
      this.seen.set(a.id, a.ts);
      fresh.push(a);
      if (a.ts > this.newest) this.newest = a.ts;
    }
    if (fresh.length === 0) return fresh;
    fresh.sort(newestFirst);
    this.kept = [...fresh, ...this.kept].sort(newestFirst).slice(0, this.lim.limit);
    // no later poll reads below newest - lateMs, so those ids need no remembering
    const floor = this.newest - this.lim.lateMs;
    for (const [id, ts] of this.seen) if (ts < floor) this.seen.delete(id);
    return fresh;
  }

  /** How many ids it remembers to skip: bounded by the alerts in the lateness window. */
  remembered(): number {
    return this.seen.size;
  }

  /** The newest alerts read so far, newest first. */
  recent(): AlertItem[] {
    return [...this.kept];
  }
}
