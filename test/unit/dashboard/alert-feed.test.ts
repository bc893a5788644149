import { AlertFeed, alertOf, daysBack } from '../../../dashboard/alert-feed';
import type { AlertItem } from '../../../dashboard/wire';
import { alertDay } from '../../../shared/tables';

const H = 3_600_000;
const MONDAY_NOON = Date.UTC(2024, 2, 4, 12);
const LIMITS = { limit: 3, lookbackDays: 7, lateMs: 120_000 };

function alertAt(id: string, ts: number): AlertItem {
  return { id, symbol: 'AAPL', type: 'BUY', ts, price: 100, message: `AAPL is in an Uptrend! Consider a buy opportunity. (${id})` };
}

describe('alertDay', () => {
  it('is the UTC date of the tick ts, so one second either side of midnight is two days', () => {
    const midnight = Date.UTC(2024, 2, 5);
    expect([alertDay(midnight - 1000), alertDay(midnight), alertDay(midnight + 1000)]).toEqual(['2024-03-04', '2024-03-05', '2024-03-05']);
  });
});

describe('daysBack', () => {
  it('lists the UTC days from the later ts back to the earlier one, newest first, at most max', () => {
    expect(daysBack(Date.UTC(2024, 1, 28, 23), Date.UTC(2024, 2, 1, 1), 7)).toEqual(['2024-03-01', '2024-02-29', '2024-02-28']);
    expect(daysBack(Date.UTC(2024, 1, 28, 23), Date.UTC(2024, 2, 1, 1), 2)).toEqual(['2024-03-01', '2024-02-29']);
    expect(daysBack(MONDAY_NOON - H, MONDAY_NOON, 2)).toEqual(['2024-03-04']);
  });

  it('gives the later day alone when the earlier ts is after it', () => {
    expect(daysBack(MONDAY_NOON + 48 * H, MONDAY_NOON, 2)).toEqual(['2024-03-04']);
  });
});

describe('alertOf', () => {
  it('maps an index entry to the alerts page item, with the SNS message text', () => {
    const item = { alert_id: 'abc', day: '2024-03-04', ts: MONDAY_NOON, symbol: 'AAPL', type: 'BUY', price: 101.5, message: 'AAPL is in an Uptrend! Consider a buy opportunity.' };
    expect(alertOf(item)).toEqual({ id: 'abc', symbol: 'AAPL', type: 'BUY', ts: MONDAY_NOON, price: 101.5, message: 'AAPL is in an Uptrend! Consider a buy opportunity.' });
  });

  it('refuses an entry with a field missing or of the wrong kind', () => {
    const ok = { alert_id: 'abc', ts: MONDAY_NOON, symbol: 'AAPL', type: 'BUY', price: 1, message: 'm' };
    const broken = [{ ...ok, message: undefined }, { ...ok, ts: '1' }, { ...ok, price: Number.NaN }, { ...ok, alert_id: 7 }];
    expect(broken.map(alertOf)).toEqual([undefined, undefined, undefined, undefined]);
  });
});

describe('AlertFeed', () => {
  it('first reads the whole of today and the days before it, up to lookbackDays', () => {
    const read = new AlertFeed(LIMITS).next(MONDAY_NOON);
    expect(read).toEqual({ days: ['2024-03-04', '2024-03-03', '2024-03-02', '2024-03-01', '2024-02-29', '2024-02-28', '2024-02-27'], since: undefined, limit: 3 });
  });

  it('then polls from the newest alert seen less the lateness, today only while that is today', () => {
    const feed = new AlertFeed(LIMITS);
    feed.accept([alertAt('a', MONDAY_NOON - H)]);
    expect(feed.next(MONDAY_NOON)).toEqual({ days: ['2024-03-04'], since: MONDAY_NOON - H - 120_000, limit: 3 });
  });

  it('crosses midnight: after an alert just before it, the poll reads both days', () => {
    const feed = new AlertFeed(LIMITS);
    const beforeMidnight = Date.UTC(2024, 2, 4, 23, 59, 30);
    feed.accept([alertAt('late-monday', beforeMidnight)]);
    expect(feed.next(Date.UTC(2024, 2, 5, 0, 0, 10))).toEqual({ days: ['2024-03-05', '2024-03-04'], since: beforeMidnight - 120_000, limit: 3 });
  });

  it('after a quiet weekend reads today and yesterday, not every day back to the last alert', () => {
    const feed = new AlertFeed(LIMITS);
    feed.accept([alertAt('friday', Date.UTC(2024, 2, 1, 20))]);
    expect(feed.next(MONDAY_NOON).days).toEqual(['2024-03-04', '2024-03-03']);
  });

  it('after a pause (no alerts page open since Friday night), reads every day since the last read, so nothing published meanwhile is missed', () => {
    const feed = new AlertFeed(LIMITS);
    const fridayNight = Date.UTC(2024, 2, 1, 21);
    feed.next(fridayNight);
    feed.accept([alertAt('friday', Date.UTC(2024, 2, 1, 20))]);
    expect(feed.next(MONDAY_NOON).days).toEqual(['2024-03-04', '2024-03-03', '2024-03-02', '2024-03-01']);
    // a read that failed (never accepted) does not count as the last read
    expect(feed.next(MONDAY_NOON + H).days).toEqual(['2024-03-04', '2024-03-03', '2024-03-02', '2024-03-01']);
    feed.accept([alertAt('saturday', Date.UTC(2024, 2, 2, 15))]);
    // caught up: back to today and yesterday (Saturday's lateness window is two days ago)
    expect(feed.next(MONDAY_NOON + 2 * H).days).toEqual(['2024-03-04', '2024-03-03']);
  });

  it('a pause longer than lookbackDays reads lookbackDays', () => {
    const feed = new AlertFeed(LIMITS);
    feed.next(MONDAY_NOON - 30 * 24 * H);
    feed.accept([alertAt('old', MONDAY_NOON - 30 * 24 * H)]);
    expect(feed.next(MONDAY_NOON).days).toHaveLength(7);
  });

  it('with nothing found at first, polls from now less the lateness', () => {
    const feed = new AlertFeed(LIMITS);
    expect(feed.accept([])).toEqual([]);
    expect(feed.next(MONDAY_NOON)).toEqual({ days: ['2024-03-04'], since: MONDAY_NOON - 120_000, limit: 3 });
  });

  it('returns only alerts it has not seen, newest first, and keeps the newest limit for a page that opens', () => {
    const feed = new AlertFeed(LIMITS);
    expect(feed.accept([alertAt('b', MONDAY_NOON - 2000), alertAt('a', MONDAY_NOON - 3000)]).map((a) => a.id)).toEqual(['b', 'a']);
    // a re-read of the lateness window brings b again, and a late one older than b
    expect(feed.accept([alertAt('d', MONDAY_NOON), alertAt('b', MONDAY_NOON - 2000), alertAt('late', MONDAY_NOON - 2500)]).map((a) => a.id)).toEqual(['d', 'late']);
    expect(feed.recent().map((a) => a.id)).toEqual(['d', 'b', 'late']);
    expect(feed.accept([alertAt('d', MONDAY_NOON)])).toEqual([]);
  });

  it('forgets ids no poll can read again (older than the newest less the lateness), so its memory stays bounded', () => {
    const feed = new AlertFeed(LIMITS);
    feed.accept([alertAt('old', MONDAY_NOON - H)]);
    feed.accept([alertAt('new', MONDAY_NOON)]);
    // the next poll starts at MONDAY_NOON - 2 min, so 'old' cannot come back; 'new' can, and is skipped
    expect(feed.next(MONDAY_NOON).since).toBe(MONDAY_NOON - 120_000);
    expect(feed.remembered()).toBe(1);
    expect(feed.accept([alertAt('new', MONDAY_NOON)])).toEqual([]);
    expect(feed.recent().map((a) => a.id)).toEqual(['new', 'old']);
  });
});
