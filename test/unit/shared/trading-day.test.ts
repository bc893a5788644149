import { DEFAULT_TRADING_TIME_ZONE, isTimeZone, tradingDate, tradingDay } from '../../../shared/trading-day';

const H = 3_600_000;

const formats = new Map<string, Intl.DateTimeFormat>();
/** The exchange-local date, read from Intl for every instant (no day cache): the reference. */
function referenceDate(ts: number, timeZone: string): string {
  let f = formats.get(timeZone);
  if (f === undefined) formats.set(timeZone, (f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })));
  const p = f.formatToParts(ts);
  const get = (t: string): string => p.find((x) => x.type === t)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
}

describe('tradingDay', () => {
  it('is the UTC day number without a time zone, as for every v1 tick', () => {
    expect(DEFAULT_TRADING_TIME_ZONE).toBe('UTC');
    for (const ts of [0, Date.UTC(2024, 0, 2, 23, 59, 59, 999), Date.UTC(2024, 0, 3)]) {
      expect(tradingDay(ts)).toBe(Math.floor(ts / 86_400_000));
      expect(tradingDay(ts, 'UTC')).toBe(Math.floor(ts / 86_400_000));
    }
  });

  it("is the exchange's local date", () => {
    // 21:00 UTC Friday: still Friday in New York, already Saturday in Jakarta and Sydney
    const ts = Date.UTC(2025, 1, 14, 21);
    expect(tradingDate(ts, 'America/New_York')).toBe('2025-02-14');
    expect(tradingDate(ts, 'Asia/Jakarta')).toBe('2025-02-15');
    expect(tradingDate(ts, 'Australia/Sydney')).toBe('2025-02-15');
    // 02:00 UTC Saturday: still Friday in New York
    expect(tradingDate(Date.UTC(2025, 1, 15, 2), 'America/New_York')).toBe('2025-02-14');
  });

  it.each(['America/New_York', 'Europe/London', 'Australia/Sydney', 'America/Santiago', 'Asia/Tehran'])(
    'agrees with a fresh Intl reading hour by hour through DST changes in %s',
    (zone) => {
      // A year in 20-minute steps covers both DST changes of every zone above.
      const start = Date.UTC(2024, 0, 1);
      for (let ts = start; ts < start + 366 * 24 * H; ts += H / 3) {
        const got = tradingDate(ts, zone);
        if (got !== referenceDate(ts, zone)) throw new Error(`${zone} at ${new Date(ts).toISOString()}: ${got} != ${referenceDate(ts, zone)}`);
      }
    },
  );

  it('knows time zones by what Intl knows, and falls back to UTC days for one it does not', () => {
    expect(isTimeZone('America/New_York')).toBe(true);
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Mars/Olympus_Mons')).toBe(false);
    expect(isTimeZone('')).toBe(false);
    expect(isTimeZone(`Europe/${'X'.repeat(70)}`)).toBe(false);
    const ts = Date.UTC(2025, 1, 14, 21);
    expect(tradingDay(ts, 'Mars/Olympus_Mons')).toBe(tradingDay(ts));
  });
});
