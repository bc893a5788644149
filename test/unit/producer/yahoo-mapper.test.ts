/**
 * The pure quote → tick mapper against quotes in the shapes Yahoo really
 * sends (hand-written after the recorded responses: OTC, first trading day,
 * funds, London pence, Jakarta, Oslo, crypto, currencies, futures, delisted
 * symbols). Prices are the odd decimals real quotes carry, compared exactly:
 * a mapping that rounded them would fail here.
 */
import { mapMarketState, parseQuote, quoteToTick, type QuoteMapping, type QuoteMemory, type VolumeMode } from '../../../producer/sources/yahoo-mapper';
import type { Tick } from '../../../shared/tick';

const PRODUCED_AT = 1_739_790_000_123;

/** A quote entry as Yahoo's v7 endpoint sends it (a representative subset of its keys). */
function quote(symbol: string, o: Record<string, unknown>): Record<string, unknown> {
  return {
    language: 'en-US',
    region: 'US',
    quoteType: 'EQUITY',
    typeDisp: 'Equity',
    quoteSourceName: 'Delayed Quote',
    triggerable: false,
    customPriceAlertConfidence: 'LOW',
    currency: 'USD',
    exchange: 'NMS',
    exchangeTimezoneName: 'America/New_York',
    exchangeTimezoneShortName: 'EST',
    gmtOffSetMilliseconds: -18_000_000,
    market: 'us_market',
    esgPopulated: false,
    marketState: 'REGULAR',
    corporateActions: [],
    priceHint: 2,
    sourceInterval: 15,
    exchangeDataDelayedBy: 0,
    tradeable: false,
    cryptoTradeable: false,
    hasPrePostMarketData: true,
    symbol,
    ...o,
  };
}

/** Parse and map one entry; a refusal at either step is returned as one. */
function map(entry: unknown, previous?: QuoteMemory, mode?: VolumeMode): QuoteMapping {
  const parsed = parseQuote(entry);
  if (!parsed.ok) return { kind: 'refused', reason: parsed.reason };
  return quoteToTick(parsed.quote, previous, PRODUCED_AT, mode);
}

function tickOf(m: QuoteMapping): Tick {
  if (m.kind !== 'tick') throw new Error(`expected a tick, got ${JSON.stringify(m)}`);
  return m.tick;
}

/** Map a sequence of one symbol's quotes as the source does, keeping the memory. */
function run(entries: readonly unknown[], mode?: VolumeMode): QuoteMapping[] {
  let memory: QuoteMemory | undefined;
  return entries.map((e) => {
    const m = map(e, memory, mode);
    if (m.kind === 'tick') memory = m.memory;
    return m;
  });
}

const volumes = (ms: readonly QuoteMapping[]): (number | string)[] => ms.map((m) => (m.kind === 'tick' ? m.tick.volume : m.kind));

describe('quote → tick mapping', () => {
  it('keeps non-integer prices exactly as quoted (no rounding to cents or ticks)', () => {
    const cases: [string, Record<string, unknown>, number, number][] = [
      ['SPOT', { regularMarketPrice: 355.8408, regularMarketPreviousClose: 355.19, regularMarketTime: 1_613_677_435, exchange: 'NYQ' }, 355.8408, 355.19],
      ['AAPL', { regularMarketPrice: 128.725, regularMarketPreviousClose: 130.84, regularMarketTime: 1_613_677_461 }, 128.725, 130.84],
      ['SOHO', { regularMarketPrice: 0.8401, regularMarketPreviousClose: 0.8363, regularMarketTime: 1_739_566_800 }, 0.8401, 0.8363],
      ['EURUSD=X', { quoteType: 'CURRENCY', regularMarketPrice: 1.0489877, regularMarketPreviousClose: 1.0495383, regularMarketTime: 1_739_789_683, exchangeTimezoneName: 'Europe/London', regularMarketVolume: 0 }, 1.0489877, 1.0495383],
      ['ZRC-USD', { quoteType: 'CRYPTOCURRENCY', regularMarketPrice: 0.076522574, regularMarketPreviousClose: 0.024663875, regularMarketTime: 1_644_085_740, exchangeTimezoneName: 'UTC' }, 0.076522574, 0.024663875],
    ];
    for (const [symbol, o, price, previousClose] of cases) {
      const t = tickOf(map(quote(symbol, o)));
      expect({ symbol: t.symbol, price: t.price, previousClose: t.previousClose }).toEqual({ symbol, price, previousClose });
    }
  });

  it('maps a full quote: ms timestamps, the exchange time zone, producedAt passed in', () => {
    const m = map(quote('QQQ', { quoteType: 'ETF', regularMarketPrice: 331.62, regularMarketPreviousClose: 330.82, regularMarketTime: 1_617_825_602, regularMarketVolume: 31_043_830, marketState: 'POST', exchange: 'NGM' }));
    expect(m).toEqual({
      kind: 'tick',
      tick: { v: 2, symbol: 'QQQ', ts: 1_617_825_602_000, price: 331.62, volume: 0, previousClose: 330.82, source: 'yahoo', producedAt: PRODUCED_AT, marketState: 'POST', tz: 'America/New_York' },
      memory: { ts: 1_617_825_602_000, cumVolume: 31_043_830, day: Math.floor(Date.UTC(2021, 3, 7) / 86_400_000) },
      unknownMarketState: false,
      unknownTimeZone: false,
    });
    // yahoo-finance2 may hand over regularMarketTime as a Date
    expect(tickOf(map(quote('QQQ', { regularMarketPrice: 331.62, regularMarketTime: new Date(1_617_825_602_000) }))).ts).toBe(1_617_825_602_000);
  });

  it('makes a tick without a previous close when Yahoo has none (OTC reports 0, a first trading day none)', () => {
    const otc = tickOf(map(quote('AFRAF', { regularMarketPrice: 8.46, regularMarketPreviousClose: 0, regularMarketTime: 1_739_563_200, regularMarketVolume: 1, exchange: 'PNK', marketState: 'CLOSED' })));
    expect(otc).toMatchObject({ symbol: 'AFRAF', price: 8.46, v: 2 });
    expect(otc).not.toHaveProperty('previousClose');
    const firstDay = tickOf(
      map(quote('APS.AX', { regularMarketPrice: 0.17, regularMarketTime: 1_651_471_826, regularMarketVolume: 2_195_190, exchange: 'ASX', currency: 'AUD', exchangeTimezoneName: 'Australia/Sydney', marketState: 'POSTPOST', newListingDate: '2022-05-02' })),
    );
    expect(firstDay).toMatchObject({ symbol: 'APS.AX', price: 0.17, tz: 'Australia/Sydney', marketState: 'POST' });
    expect(firstDay).not.toHaveProperty('previousClose');
  });

  it('refuses what carries no price: a fund without a quote, a delisted or unknown symbol', () => {
    const fund = map(quote('ADH', { quoteType: 'MUTUALFUND', exchange: 'YHD', regularMarketTime: 1_561_759_658, currency: undefined }));
    expect(fund).toMatchObject({ kind: 'refused', reason: expect.stringContaining('regularMarketPrice') as unknown });
    const delisted = { language: 'en-US', region: 'US', quoteType: 'NONE', triggerable: false, customPriceAlertConfidence: 'NONE', esgPopulated: false, tradeable: false, symbol: 'BRKS' };
    expect(map(delisted)).toMatchObject({ kind: 'refused' });
    expect(parseQuote(delisted)).toMatchObject({ ok: false, symbol: 'BRKS' });
  });

  it('passes prices of odd exchanges as quoted: London in pence (GBp), Jakarta, Oslo, Copenhagen', () => {
    const cases: [string, Record<string, unknown>][] = [
      // GBp: pence. Not converted: a tick has no currency, and a symbol's history keeps one unit.
      ['OCDO.L', { regularMarketPrice: 2621.46, regularMarketPreviousClose: 2651, regularMarketTime: 1_613_471_205, currency: 'GBp', exchange: 'LSE', exchangeTimezoneName: 'Europe/London', gmtOffSetMilliseconds: 0 }],
      ['WSKT.JK', { regularMarketPrice: 1490, regularMarketPreviousClose: 1515, regularMarketTime: 1_613_636_074, currency: 'IDR', exchange: 'JKT', exchangeTimezoneName: 'Asia/Jakarta', marketState: 'PREPRE' }],
      ['AZT.OL', { regularMarketPrice: 19.54, regularMarketPreviousClose: 19, regularMarketTime: 1_739_788_690, currency: 'NOK', exchange: 'OSL', exchangeTimezoneName: 'Europe/Oslo' }],
      ['ORSTED.CO', { regularMarketPrice: 299.7, regularMarketPreviousClose: 300.8, regularMarketTime: 1_739_789_655, currency: 'DKK', exchange: 'CPH', exchangeTimezoneName: 'Europe/Copenhagen' }],
    ];
    for (const [symbol, o] of cases) {
      const t = tickOf(map(quote(symbol, o)));
      expect({ price: t.price, previousClose: t.previousClose, tz: t.tz }).toEqual({ price: o.regularMarketPrice, previousClose: o.regularMarketPreviousClose, tz: o.exchangeTimezoneName });
    }
  });

  it.each([
    ['PREPRE', 'PRE'],
    ['PRE', 'PRE'],
    ['REGULAR', 'REGULAR'],
    ['POST', 'POST'],
    ['POSTPOST', 'POST'],
    ['CLOSED', 'CLOSED'],
  ])('carries market state %s as %s on the tick', (yahoo, ours) => {
    expect(mapMarketState(yahoo)).toBe(ours);
    const m = map(quote('BABA', { regularMarketPrice: 264.93, regularMarketPreviousClose: 270.83, regularMarketTime: 1_613_677_455, marketState: yahoo }));
    expect(m).toMatchObject({ kind: 'tick', tick: { marketState: ours }, unknownMarketState: false });
  });

  it('keeps a quote with a market state it does not know, without one, and says so', () => {
    expect(mapMarketState('SOMETHING_NEW')).toBeUndefined();
    const m = map(quote('BABA', { regularMarketPrice: 264.93, regularMarketPreviousClose: 270.83, regularMarketTime: 1_613_677_455, marketState: 'SOMETHING_NEW' }));
    expect(m).toMatchObject({ kind: 'tick', unknownMarketState: true });
    expect(tickOf(m)).not.toHaveProperty('marketState');
  });

  it('drops a time zone the runtime does not know: the tick falls back to UTC days, and says so', () => {
    const m = map(quote('AAPL', { regularMarketPrice: 244.6, regularMarketPreviousClose: 241.53, regularMarketTime: 1_739_566_800, exchangeTimezoneName: 'Mars/Olympus_Mons' }));
    expect(m).toMatchObject({ kind: 'tick', unknownTimeZone: true });
    expect(tickOf(m)).not.toHaveProperty('tz');
  });

  it('does not re-send a quote whose regularMarketTime has not moved', () => {
    const q = quote('AAPL', { regularMarketPrice: 136.01, regularMarketPreviousClose: 136.91, regularMarketTime: 1_612_904_402, marketState: 'PRE' });
    const [first, again] = run([q, { ...q, marketState: 'REGULAR' }]);
    expect(first?.kind).toBe('tick');
    expect(again).toEqual({ kind: 'unchanged' });
  });
});

describe('interval volume', () => {
  // 2021-02-18 in New York; the next trading day's first quote already has a larger total.
  const day1 = (t: number, v: number): Record<string, unknown> => quote('AMZN', { regularMarketPrice: 3324.15, regularMarketPreviousClose: 3308.64, regularMarketTime: t, regularMarketVolume: v });

  it("resets on the exchange's new trading day even when the new total is already larger", () => {
    const ms = run([
      day1(1_613_677_436, 2_228_095), // Thu 14:43 New York
      day1(1_613_677_466, 2_228_116),
      day1(1_613_682_000, 3_100_000), // 16:00 close
      day1(1_613_761_200, 3_450_000), // Fri 14:00 New York: the day's total already passed Thursday's
      day1(1_613_761_230, 3_450_400),
    ]);
    // the old rule (reset only when the total shrinks) gave 350,000 for the fourth
    expect(volumes(ms)).toEqual([0, 21, 871_884, 3_450_000, 400]);
  });

  it("takes the trading day from the exchange's zone, not the UTC date", () => {
    // Jakarta is UTC+7: 16:30 and 18:00 UTC on one UTC date are two Jakarta dates.
    const jk = (t: number, v: number): Record<string, unknown> =>
      quote('WSKT.JK', { regularMarketPrice: 840, regularMarketPreviousClose: 895, regularMarketTime: t, regularMarketVolume: v, exchange: 'JKT', currency: 'IDR', exchangeTimezoneName: 'Asia/Jakarta' });
    const t0 = Date.UTC(2021, 10, 12, 8, 0) / 1000; // 15:00 Jakarta, Nov 12
    const ms = run([jk(t0, 176_041_600), jk(t0 + 10 * 3600, 1_200_000), jk(t0 + 10 * 3600 + 60, 1_250_000)]);
    expect(volumes(ms)).toEqual([0, 1_200_000, 50_000]);
    // The same quotes without a zone are one UTC day: the total shrank, so 0.
    const utc = run([jk(t0, 176_041_600), jk(t0 + 10 * 3600, 1_200_000)].map((q) => ({ ...q, exchangeTimezoneName: undefined })));
    expect(volumes(utc)).toEqual([0, 0]);
  });

  it('a total Yahoo revises down within the day is no volume, and the next increase counts from the revised total', () => {
    // recorded: two AMZN readings of one minute, 1,135,723 then 1,135,659
    const ms = run([day1(1_613_492_000, 1_135_000), day1(1_613_492_043, 1_135_723), day1(1_613_492_050, 1_135_659), day1(1_613_492_080, 1_136_000)]);
    expect(volumes(ms)).toEqual([0, 723, 0, 341]);
  });

  it('24-hour markets carry no volume: crypto (rolling 24 h), currencies, futures', () => {
    const btc = (t: number, v: number): Record<string, unknown> =>
      quote('BTC-USD', { quoteType: 'CRYPTOCURRENCY', exchange: 'CCC', exchangeTimezoneName: 'UTC', regularMarketPrice: 96077.45, regularMarketPreviousClose: 96137.88, regularMarketTime: t, regularMarketVolume: v, volume24Hr: v, volumeAllCurrencies: v });
    // a rolling total rises and falls with what leaves the window; none of it is this interval's volume
    expect(volumes(run([btc(1_739_789_580, 21_228_961_792), btc(1_739_789_640, 21_229_500_000), btc(1_739_789_700, 21_100_000_000), btc(1_739_876_000, 35_000_000_000)]))).toEqual([0, 0, 0, 0]);
    const gc = (t: number, v: number): Record<string, unknown> => quote('GC=F', { quoteType: 'FUTURE', exchange: 'CMX', regularMarketPrice: 2910.3, regularMarketPreviousClose: 2900.7, regularMarketTime: t, regularMarketVolume: v });
    expect(volumes(run([gc(1_739_789_091, 54_706), gc(1_739_789_151, 54_900)]))).toEqual([0, 0]);
    const fx = (t: number): Record<string, unknown> => quote('EURUSD=X', { quoteType: 'CURRENCY', exchange: 'CCY', exchangeTimezoneName: 'Europe/London', regularMarketPrice: 1.0489877, regularMarketPreviousClose: 1.0495383, regularMarketTime: t, regularMarketVolume: 0 });
    expect(volumes(run([fx(1_739_789_683), fx(1_739_789_743)]))).toEqual([0, 0]);
  });

  it("funds without a volume carry 0; cumulative mode passes Yahoo's number as is", () => {
    const fund = (t: number): Record<string, unknown> =>
      quote('0P000071W8.TO', { quoteType: 'MUTUALFUND', exchange: 'TOR', currency: 'CAD', exchangeTimezoneName: 'America/Toronto', regularMarketPrice: 152.63, regularMarketPreviousClose: 152.74, regularMarketTime: t });
    expect(volumes(run([fund(1_739_476_800), fund(1_739_563_200)]))).toEqual([0, 0]);
    expect(volumes(run([day1(1_613_677_436, 2_228_095), day1(1_613_677_466, 2_228_116)], 'cumulative'))).toEqual([2_228_095, 2_228_116]);
  });
});
