import { mulberry32 } from '../../../producer/sources/synthetic';
/** Factories for sink, lake and query tests. Deterministic: a seed gives the same rows. */
import type { Alert, AlertType, DeadLetter } from '../../../consumer/ports';
import type { EnrichedTick, Signal } from '../../../shared/enriched';
import { dtOf } from '../../../shared/enriched';

export function tick(overrides: Partial<EnrichedTick> = {}): EnrichedTick {
  const ts = overrides.ts ?? Date.UTC(2024, 2, 1, 15, 0, 0);
  return {
    symbol: 'AAPL',
    ts,
    dt: dtOf(ts),
    price: 101.5,
    volume: 1200,
    previous_close: 100,
    change_pct: 1.5,
    tick_change_pct: 0.1,
    sma5: 101.2,
    sma20: null,
    ema12: 100.9,
    rsi14: 55.5,
    bb_upper: null,
    bb_lower: null,
    vwap: 100.7,
    volume_avg: 1000,
    volume_ratio: 1.2,
    signal: null,
    anomaly: false,
    volume_spike: false,
    market_state: 'REGULAR',
    source: 'synthetic',
    produced_at: ts + 25,
    ...overrides,
  };
}

export function alert(overrides: Partial<Alert> = {}): Alert {
  const a = { symbol: 'AAPL', type: 'BUY' as AlertType, ts: Date.UTC(2024, 2, 1, 15, 0, 0), price: 101.5, ...overrides };
  return { id: overrides.id ?? `${a.symbol}|${a.type}|${a.ts}`, message: `${a.symbol} is in an Uptrend! Consider a buy opportunity.`, ...a };
}

export function deadLetter(overrides: Partial<DeadLetter> = {}): DeadLetter {
  const shard = overrides.shard_id ?? 'shardId-000000000001';
  const seq = overrides.sequence_number ?? '49590338271490256608559692538361571095921575989136588898';
  return {
    id: `${shard}/${seq}`,
    kind: 'record',
    data_base64: Buffer.from('{"v":1,"symbol":').toString('base64'),
    partition_key: 'AAPL',
    shard_id: shard,
    sequence_number: seq,
    reason: 'invalid JSON: Unexpected end of JSON input',
    at: '2024-03-01T15:00:00.000Z',
    ...overrides,
  };
}

/** mulberry32 (the synthetic market's generator): tiny, seedable, good enough for test data. */
const prng = mulberry32;

export interface KnownInputOptions {
  seed?: number;
  symbols?: string[];
  /** Ticks per symbol. */
  perSymbol?: number;
  /** Spacing between a symbol's ticks. */
  stepMs?: number;
  /** First tick; the default lands 3 hours before a UTC midnight so the data spans two dt partitions. */
  startTs?: number;
  /** Every n-th tick of each symbol (i % n === 0) has no previous close, as a tick v2 may. */
  noPreviousCloseEvery?: number;
}

/**
 * Rows in stream order (round-robin over symbols, ascending ts per symbol),
 * with |change_pct| > 5 on a few percent of ticks, crossover signals now and
 * then, and prices with binary fractions so sums are exact in doubles.
 */
export function knownInput(opts: KnownInputOptions = {}): EnrichedTick[] {
  const rnd = prng(opts.seed ?? 42);
  const symbols = opts.symbols ?? ['AAPL', 'MSFT', 'NVDA', 'BRK.B', 'TSLA'];
  const perSymbol = opts.perSymbol ?? 400;
  const step = opts.stepMs ?? 60_000;
  const start = opts.startTs ?? Date.UTC(2024, 2, 1, 21, 0, 0);
  const rows: EnrichedTick[] = [];
  for (let i = 0; i < perSymbol; i++) {
    symbols.forEach((symbol, k) => {
      const ts = start + i * step + k * 1000;
      const prev = 100 + k * 10;
      // Multiples of 1/64 % keep change_pct exactly representable.
      const changePct = Math.round((rnd() * 16 - 8) * 64) / 64;
      const price = prev * (1 + changePct / 100);
      const r = rnd();
      const signal: Signal | null = r < 0.02 ? 'BUY' : r < 0.04 ? 'SELL' : null;
      const known = opts.noPreviousCloseEvery === undefined || i % opts.noPreviousCloseEvery !== 0;
      rows.push(
        tick({
          symbol,
          ts,
          dt: dtOf(ts),
          price,
          previous_close: known ? prev : null,
          change_pct: known ? changePct : null,
          volume: Math.floor(rnd() * 10_000),
          signal,
          sma5: i >= 4 ? price : null,
          sma20: i >= 19 ? price : null,
          anomaly: known && Math.abs(changePct) > 5,
          volume_spike: rnd() < 0.05,
          produced_at: ts + 17,
        }),
      );
    });
  }
  return rows;
}
