/**
 * The one contract every indicator follows (after trading-signals'
 * `Indicator`): feed it with `update`, read `null` until it has seen
 * `requiredInputs` values, and save/restore it as plain data.
 *
 * `getState()` returns JSON-safe plain data holding everything the next
 * update depends on (ring buffer contents and position, running sums and
 * their compensation terms), so `fromState(getState())` continues
 * bit-identically. Every indicator class also has a static
 * `fromState(state: unknown)` that validates and throws
 * `CorruptSnapshotError` (TypeScript cannot put statics in an interface; the
 * snapshot tests hold every class to it).
 */
export interface IndicatorBase<TResult, TState> {
  /** Inputs needed before the result is non-null. */
  readonly requiredInputs: number;
  readonly isStable: boolean;
  /** The latest result; null during warm-up. */
  getResult(): TResult | null;
  getState(): TState;
}

/** Indicators over a single numeric series. */
export interface Indicator<TResult, TState> extends IndicatorBase<TResult, TState> {
  update(x: number): TResult | null;
}

export function assertPeriod(period: number, name: string): void {
  if (!Number.isInteger(period) || period < 1 || period > 10_000) throw new RangeError(`${name} period must be an integer in [1, 10000], got ${period}`);
}
