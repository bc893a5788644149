/**
 * Dedup + per-symbol cooldown for alerts, shared by the SNS, local and
 * in-memory publishers, which differ only in their AlertLedger.
 *
 * Why the outcome is the same on replay as in an uninterrupted run:
 * - The cooldown is measured in tick time (`alert.ts`), never wall-clock
 *   time, against L = the ts of the symbol's last *published* alert, which
 *   the ledger stores durably (not in memory, which a restart would lose).
 * - Per symbol, alerts are decided in ts order (a symbol's ticks arrive in
 *   order, and `publish` calls for one symbol are serialised here), so L only
 *   grows and, when an alert at ts t is decided, L is exactly what it was
 *   in the original run, unless the run had already gone past t:
 *   - t <= L and its id is in the ledger as published: a 'duplicate'.
 *   - t < L and not published: the original run suppressed it, so it is
 *     'cooldown' again (it cannot be "never seen": a later alert of the same
 *     symbol was published, so processing went past t).
 *   - t = L and not published: another alert of the same tick was
 *     published; the cooldown rule below decides, as it did originally.
 *   - L < t < L + cooldown: 'cooldown', as in the original run.
 *   - otherwise: claim the id (conditional write), deliver, mark it
 *     published and advance L.
 * - A crash after the claim but before delivery leaves the claim PENDING; the
 *   replay may claim it again and deliver it (at-least-once at that point). A
 *   crash after delivery but before "published" is recorded re-delivers once:
 *   the one window no ledger can close without a transactional transport.
 *
 * The cooldown is per symbol across alert types. Two alerts of one symbol at
 * the same tick ts: the first is published, the second is in cooldown
 * (t - L = 0), and the core emits them in a fixed order, so that too replays
 * the same way. A cooldown of 0 disables it.
 */
import type { Alert, AlertPublisher, PublishResult } from '../ports';
import { KeyedSerializer } from './util';

export interface AlertLedger {
  /** ts of the symbol's last published alert, or undefined if it never alerted. */
  lastPublishedTs(symbol: string): Promise<number | undefined>;
  /** Whether this alert id was published. */
  wasPublished(id: string): Promise<boolean>;
  /** Reserve the id before delivery: 'duplicate' when it is already published.
   *  A PENDING claim left by a crash may be claimed again. */
  claim(alert: Alert): Promise<'claimed' | 'duplicate'>;
  /** Deliver the alert (SNS Publish, terminal line); resolves to the
   *  transport's message id when it has one. */
  deliver(alert: Alert): Promise<string | undefined>;
  /** Record the id as published. */
  markPublished(alert: Alert, messageId: string | undefined): Promise<void>;
  /** Advance the symbol's last-published ts to `ts` if it is greater. */
  advance(symbol: string, ts: number): Promise<void>;
}

export class DedupCooldownPublisher implements AlertPublisher {
  private readonly serial = new KeyedSerializer();
  /** Cache of L per symbol: a symbol is owned by one processor at a time, so
   *  after the first durable read only this process moves it. */
  private readonly last = new Map<string, number | undefined>();

  constructor(
    private readonly ledger: AlertLedger,
    private readonly cooldownMs: number,
  ) {
    if (!(cooldownMs >= 0)) throw new RangeError(`cooldownMs must be >= 0, got ${cooldownMs}`);
  }

  publish(alert: Alert): Promise<PublishResult> {
    return this.serial.run(alert.symbol, () => this.decide(alert));
  }

  private async lastTs(symbol: string): Promise<number | undefined> {
    if (!this.last.has(symbol)) this.last.set(symbol, await this.ledger.lastPublishedTs(symbol));
    return this.last.get(symbol);
  }

  private async advance(symbol: string, ts: number): Promise<void> {
    await this.ledger.advance(symbol, ts);
    const cur = this.last.get(symbol);
    if (cur === undefined || ts > cur) this.last.set(symbol, ts);
  }

  private async decide(alert: Alert): Promise<PublishResult> {
    const last = await this.lastTs(alert.symbol);
    if (last !== undefined) {
      if (alert.ts <= last && (await this.ledger.wasPublished(alert.id))) return 'duplicate';
      // Before L and not published: the original run suppressed it.
      if (alert.ts < last) return 'cooldown';
      // At L (another alert of the same tick) or after it: the cooldown rule
      // itself, so a cooldown of 0 publishes every alert of one tick.
      if (alert.ts - last < this.cooldownMs) return 'cooldown';
    }
    if ((await this.ledger.claim(alert)) === 'duplicate') {
      // Published before a crash that came before L was advanced: repair L.
      await this.advance(alert.symbol, alert.ts);
      return 'duplicate';
    }
    const messageId = await this.ledger.deliver(alert);
    await this.ledger.markPublished(alert, messageId);
    await this.advance(alert.symbol, alert.ts);
    return 'published';
  }
}
