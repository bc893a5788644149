/**
 * In-process counters and simple distributions for the producer. Kept as
 * plain numbers so tests can assert on them and the writer can emit them
 * periodically as one structured log line (CloudWatch EMF in AWS).
 */
export interface Distribution {
  count: number;
  sum: number;
  max: number;
}

export class ProducerMetrics {
  private readonly counters = new Map<string, number>();
  private readonly distributions = new Map<string, Distribution>();

  private readonly refused = new Map<string, number>();

  /**
   * A tick the producer will not send, because the consumer would refuse it
   * (shared/tick.ts) or the source row cannot be read. `reason` is a category
   * with no value in it (e.g. "price: must be at most 1000000000000"), so the
   * counts stay few however many rows fail. Returns the count for that reason
   * so callers can log the first few of each and let the count say the rest.
   */
  refuse(reason: string): number {
    const n = (this.refused.get(reason) ?? 0) + 1;
    this.refused.set(reason, n);
    this.inc('producer.refused_ticks');
    return n;
  }

  /** Refused ticks so far, total and by reason. */
  refusals(): { total: number; byReason: Record<string, number> } {
    return { total: this.get('producer.refused_ticks'), byReason: Object.fromEntries(this.refused) };
  }

  inc(name: string, by = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + by);
  }

  get(name: string): number {
    return this.counters.get(name) ?? 0;
  }

  observe(name: string, value: number): void {
    const d = this.distributions.get(name) ?? { count: 0, sum: 0, max: 0 };
    d.count += 1;
    d.sum += value;
    d.max = Math.max(d.max, value);
    this.distributions.set(name, d);
  }

  distribution(name: string): Distribution | undefined {
    const d = this.distributions.get(name);
    return d === undefined ? undefined : { ...d };
  }

  snapshot(): { counters: Record<string, number>; distributions: Record<string, Distribution & { avg: number }> } {
    const distributions: Record<string, Distribution & { avg: number }> = {};
    for (const [k, d] of this.distributions) distributions[k] = { ...d, avg: d.count === 0 ? 0 : d.sum / d.count };
    return { counters: Object.fromEntries(this.counters), distributions };
  }
}
