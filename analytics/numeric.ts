/**
 * Neumaier (improved Kahan) summation. A rolling window adds each value once
 * and subtracts it once; over millions of updates a plain running sum
 * accumulates rounding error without bound, while `sum + comp` stays within a
 * couple of ulps of the exact sum of the values still in the window.
 *
 * Both fields are part of every snapshot: restoring only `sum` would make a
 * restored run differ in the last bits from an uninterrupted one.
 */
export class CompensatedSum {
  sum = 0;
  comp = 0;

  add(x: number): void {
    const s = this.sum;
    const t = s + x;
    // Comparisons instead of Math.abs: a global lookup per call is measurable
    // here, and inside Jest's vm context it costs ~100 ns.
    if ((s < 0 ? -s : s) >= (x < 0 ? -x : x)) this.comp += s - t + x;
    else this.comp += x - t + s;
    this.sum = t;
  }

  get value(): number {
    return this.sum + this.comp;
  }

  reset(): void {
    this.sum = 0;
    this.comp = 0;
  }
}
