/**
 * Neumaier (improved Kahan) summation, as a step the indicators inline.
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
export function sumError(s: number, x: number, t: number): number {
  // Comparisons instead of Math.abs: a global lookup per call is measurable
  // here, and inside Jest's vm context it costs ~100 ns.
  return (s < 0 ? -s : s) >= (x < 0 ? -x : x) ? s - t + x : x - t + s;
}
