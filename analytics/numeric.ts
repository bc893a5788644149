/**
 * Neumaier (improved Kahan) summation, as a step the indicators inline.
 * The error term is computed exactly (TwoSum), so this is compensated
 * summation in its most accurate first-order form.
 *
 * A rolling window adds each value once and subtracts it once; over millions
 * of updates a plain running sum accumulates rounding error without bound
 * (one $1e12 bad print leaves its rounding error behind for ever), while
 * `sum + comp` stays within a couple of ulps of the exact sum of the values
 * still in the window. Usage, with t = sum + x:
 *
 *     const t = sum + x; comp += sumError(sum, x, t); sum = t;
 *
 * It is a function rather than an accumulator object so that each indicator
 * keeps `sum` and `comp` as its own fields: one object less to reach per
 * tick, which matters with 10,000 symbols' state competing for the cache.
 * Both fields are part of every snapshot: restoring only `sum` would make a
 * restored run differ in the last bits from an uninterrupted one.
 */
/**
 * A hot-path output as the Indicator contract returns it: null for "not
 * yet". The hot paths (each indicator's `step`, IndicatorSet) carry NaN for
 * "not yet" instead, so an output stays a plain double: a value that is
 * either a double or null must be boxed as a heap number wherever it is not
 * inlined away. The indicators never output NaN themselves (their inputs are
 * bounded, shared/tick.ts), so NaN only ever means warm-up.
 */
export function orNull(x: number): number | null {
  return x === x ? x : null;
}

export function sumError(s: number, x: number, t: number): number {
  // Knuth's TwoSum: the exact rounding error of t = s + x for any magnitudes,
  // without the |s| >= |x| branch of Neumaier's original formulation (both
  // yield the same, exact, error; this one measured ~15 % faster per SMA).
  const bp = t - s;
  return s - (t - bp) + (x - bp);
}
