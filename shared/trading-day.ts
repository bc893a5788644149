/**
 * The one trading-day rule: a tick belongs to the calendar date of its `ts`
 * in the exchange's time zone (IANA name, as Yahoo's `exchangeTimezoneName`
 * gives it). Without a time zone the date is the UTC date, which is what every
 * tick before tick schema v2 got, so v1 ticks roll over exactly as before.
 *
 * Session VWAP (analytics/vwap.ts), the Yahoo source's volume reset and the
 * replay's previous close all roll over here, so "today" means one thing.
 * The lake's `dt` partition stays the UTC date (shared/enriched.ts dtOf): it
 * is a storage key, not a session.
 *
 * Days are numbered like UTC days (days since 1970-01-01 of the local date),
 * so for UTC the number is Math.floor(ts / 86_400_000) and a number saved
 * before this rule existed (VWAP snapshots) still means the same day for a
 * US listing during regular hours.
 */
export const DEFAULT_TRADING_TIME_ZONE = 'UTC';

export const MS_PER_DAY = 86_400_000;
/** Every formatter and day cache is per time zone; Intl accepts case
 *  variants of each name, so the caches are bounded rather than trusted. */
const MAX_CACHED_ZONES = 1024;

interface ZoneEntry {
  readonly format: Intl.DateTimeFormat;
  /** UTC ms range [lo, hi) known to fall on local day `day` */
  lo: number;
  hi: number;
  day: number;
}

const zones = new Map<string, ZoneEntry | null>();

function zone(timeZone: string): ZoneEntry | null {
  let z = zones.get(timeZone);
  if (z !== undefined) return z;
  try {
    const format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    z = { format, lo: 0, hi: 0, day: 0 };
  } catch {
    z = null;
  }
  if (zones.size < MAX_CACHED_ZONES) zones.set(timeZone, z);
  return z;
}

/** Whether `timeZone` is a time zone this runtime's Intl knows. */
export function isTimeZone(timeZone: string): boolean {
  return timeZone.length > 0 && timeZone.length <= 64 && zone(timeZone) !== null;
}

/** Local wall-clock time at `ts`, as if it were UTC ms (whole seconds). */
function wallClock(format: Intl.DateTimeFormat, ts: number): number {
  const part: Partial<Record<Intl.DateTimeFormatPartTypes, number>> = {};
  for (const p of format.formatToParts(ts)) part[p.type] = Number(p.value);
  const { year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0 } = part;
  return Date.UTC(year, month - 1, day, hour, minute, second);
}

/**
 * The trading day of `ts` (epoch ms) in `timeZone`, as a day number. An
 * unknown time zone falls back to UTC; tick validation refuses one before it
 * gets here.
 *
 * Formatting costs about 10 µs, too much per tick, so each zone remembers the
 * UTC range of the last day it computed. The range is cached only when the
 * UTC offset is the same at both of its ends as at `ts`: a day with a DST
 * change is computed tick by tick instead of being guessed.
 */
export function tradingDay(ts: number, timeZone: string = DEFAULT_TRADING_TIME_ZONE): number {
  if (timeZone === DEFAULT_TRADING_TIME_ZONE) return Math.floor(ts / MS_PER_DAY);
  const z = zone(timeZone);
  if (z === null) return Math.floor(ts / MS_PER_DAY);
  if (ts >= z.lo && ts < z.hi) return z.day;
  const second = Math.floor(ts / 1000) * 1000;
  const wall = wallClock(z.format, second);
  const offset = wall - second;
  const day = Math.floor(wall / MS_PER_DAY);
  const lo = day * MS_PER_DAY - offset;
  const hi = lo + MS_PER_DAY;
  if (wallClock(z.format, lo) - lo === offset && wallClock(z.format, hi - 1000) - (hi - 1000) === offset) {
    z.lo = lo;
    z.hi = hi;
    z.day = day;
  }
  return day;
}

/** A day number as its date, YYYY-MM-DD. */
export function dayDate(day: number): string {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}

/** The trading day as YYYY-MM-DD. */
export function tradingDate(ts: number, timeZone?: string): string {
  return dayDate(tradingDay(ts, timeZone));
}
