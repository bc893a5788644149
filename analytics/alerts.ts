import * as crypto from 'node:crypto';

export const ALERT_TYPES = ['BUY', 'SELL', 'ANOMALY', 'VOLUME_SPIKE'] as const;
export type AlertType = (typeof ALERT_TYPES)[number];

export interface Alert {
  /** alertId(symbol, type, ts): a replay yields the same id, so a conditional write drops it. */
  readonly id: string;
  readonly symbol: string;
  readonly type: AlertType;
  /** The triggering tick's own ts, epoch ms. */
  readonly ts: number;
  readonly price: number;
  readonly message: string;
  readonly changePct: number;
  readonly sma5: number | null;
  readonly sma20: number | null;
  readonly volumeRatio: number | null;
}

/**
 * sha256 of "symbol|type|ts", hex, first 32 chars (128 bits). The separator
 * cannot occur in a symbol (the tick schema allows A-Z 0-9 . ^ = -), so
 * distinct triples never hash the same input.
 */
export function alertId(symbol: string, type: AlertType, ts: number): string {
  return sha256Hex(`${symbol}|${type}|${ts}`).slice(0, 32);
}

// One-shot crypto.hash (Node >= 20.12) is ~2x faster than createHash, and a
// busy market alerts on a few percent of ticks; engines allows 20.11.
const sha256Hex: (s: string) => string =
  typeof crypto.hash === 'function'
    ? (s) => crypto.hash('sha256', s, 'hex')
    : (s) => crypto.createHash('sha256').update(s).digest('hex');

export function alertMessage(type: AlertType, symbol: string, changePct: number, volumeRatio: number | null): string {
  switch (type) {
    case 'BUY':
      return `${symbol} is in an Uptrend! Consider a buy opportunity.`;
    case 'SELL':
      return `${symbol} is in a Downtrend! Consider a sell opportunity.`;
    case 'ANOMALY':
      return `${symbol} moved ${changePct > 0 ? '+' : ''}${changePct.toFixed(2)}% against the previous close! Unusual price movement.`;
    case 'VOLUME_SPIKE':
      return `${symbol} volume spike! ${(volumeRatio ?? 0).toFixed(1)}x its recent average volume.`;
  }
}
