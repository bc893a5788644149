import { murmur3x86128Hex } from './murmur3';

export type AlertType = 'BUY' | 'SELL' | 'ANOMALY' | 'VOLUME_SPIKE';

export interface Alert {
  /** alertId(symbol, type, ts): a replay yields the same id, so a conditional write drops it. */
  readonly id: string;
  readonly symbol: string;
  readonly type: AlertType;
  /** The triggering tick's own ts, epoch ms. */
  readonly ts: number;
  readonly price: number;
  readonly message: string;
  /** Null when the tick had no previous close. */
  readonly changePct: number | null;
  readonly sma5: number | null;
  readonly sma20: number | null;
  readonly volumeRatio: number | null;
}

/**
 * MurmurHash3 x86_128 of "symbol|type|ts", 32 hex chars. The separator
 * cannot occur in a symbol (the tick schema allows A-Z 0-9 . ^ = -), so
 * distinct triples never hash the same input.
 *
 * Not sha256, which an earlier version used: node:crypto costs ~0.5-1.5 µs a
 * call across the native boundary, and a busy market alerts on a few percent
 * of ticks, which made hashing a fifth of the whole analysis time in
 * bench:core. The id must be deterministic and collision-free among our own
 * alerts, not unforgeable: 128 well-mixed bits give a collision chance of
 * about 1e-21 even at a billion alerts.
 */
export function alertId(symbol: string, type: AlertType, ts: number): string {
  return murmur3x86128Hex(`${symbol}|${type}|${ts}`);
}

export function alertMessage(type: AlertType, symbol: string, changePct: number | null, volumeRatio: number | null): string {
  switch (type) {
    case 'BUY':
      return `${symbol} is in an Uptrend! Consider a buy opportunity.`;
    case 'SELL':
      return `${symbol} is in a Downtrend! Consider a sell opportunity.`;
    case 'ANOMALY':
      // An ANOMALY is only raised on a change against a previous close, so
      // changePct is a number here; the fallback only satisfies the type.
      return `${symbol} moved ${(changePct ?? 0) > 0 ? '+' : ''}${(changePct ?? 0).toFixed(2)}% against the previous close! Unusual price movement.`;
    case 'VOLUME_SPIKE':
      return `${symbol} volume spike! ${(volumeRatio ?? 0).toFixed(1)}x its recent average volume.`;
  }
}
