import { OVERVIEW_POINTS, afterAppend, POINTS_PER_VIEW, RAW_LIMIT, detailFor, needsReplan, overviewBucket, selectPoints, spanMax, toLogical, toStore } from '../../../dashboard/web/lod';

/** A deterministic wiggly price series with one spike and one dip far from the view. */
function series(n: number): number[] {
  const p = Array.from({ length: n }, (_, i) => 100 + Math.sin(i / 37) * 3 + Math.sin(i / 5) * 0.5);
  p[1234] = 180; // spike
  p[5678] = 20; // dip
  return p;
}

describe('chart level of detail', () => {
  const n = 100_000;
  const price = series(n);

  it('draws a 100,000-point history as every point of the latest view and a min/max overview of the rest', () => {
    const d = detailFor(n - 3000, n - 1, n);
    expect(d).toEqual({ from: n - 6000, to: n, bucket: 2 });
    const sel = selectPoints(price, n, [], d, overviewBucket(n));
    // the detail region whole, the rest at two points a bucket
    expect(sel.slice(-6000)).toEqual(Array.from({ length: 6000 }, (_, i) => n - 6000 + i));
    expect(sel.length).toBeLessThanOrEqual(6000 + OVERVIEW_POINTS + 2);
    expect(sel.length).toBeGreaterThan(6000 + OVERVIEW_POINTS / 2);
    // strictly ascending: the chart's times must be
    for (let k = 1; k < sel.length; k++) expect(sel[k]).toBeGreaterThan(sel[k - 1]!);
    // the spike and the dip far outside the view are still drawn
    expect(sel).toContain(1234);
    expect(sel).toContain(5678);
  });

  it("keeps each bucket's lowest and highest price, so the drawn envelope is the data's", () => {
    const d = { from: 0, to: 0, bucket: 1 };
    const b = overviewBucket(n);
    const sel = selectPoints(price, n, [], d, b);
    for (let s = 0; s < n; s += b) {
      const bucket = price.slice(s, s + b);
      const drawn = sel.filter((i) => i >= s && i < s + b).map((i) => price[i]!);
      expect(Math.min(...drawn)).toBe(Math.min(...bucket));
      expect(Math.max(...drawn)).toBe(Math.max(...bucket));
      expect(drawn.length).toBeLessThanOrEqual(2);
    }
  });

  it('draws every marked point (BUY/SELL, anomalies) even where the rest is decimated', () => {
    const marked = [10, 11, 12, 4999, 50_001, 77_777];
    const sel = selectPoints(price, n, marked, detailFor(n - 3000, n - 1, n), overviewBucket(n));
    for (const m of marked) expect(sel).toContain(m);
    expect(new Set(sel).size).toBe(sel.length);
  });

  it('plans a zoom into old history at full resolution there, and leaves the rest decimated', () => {
    const a = 40_000;
    const b = 41_000;
    const d = detailFor(a, b, n);
    expect(d.bucket).toBe(1);
    expect(d.from).toBeLessThanOrEqual(a - 1000);
    expect(d.to).toBeGreaterThan(b + 1000);
    const sel = selectPoints(price, n, [], d, overviewBucket(n));
    for (let i = a; i <= b; i++) expect(sel).toContain(i);
    // and not the latest points, which are now off screen
    expect(sel.filter((i) => i >= n - 3000).length).toBeLessThan(3000 / 10);
  });

  it('zoomed out to everything, draws about POINTS_PER_VIEW points', () => {
    const d = detailFor(0, n - 1, n);
    const sel = selectPoints(price, n, [], d, overviewBucket(n));
    expect(sel.length).toBeLessThanOrEqual(POINTS_PER_VIEW + 2);
    expect(sel[0]).toBeLessThan(d.bucket);
    expect(sel[sel.length - 1]).toBeGreaterThanOrEqual(n - d.bucket);
  });

  it('re-plans only when the view leaves the region or its resolution no longer fits', () => {
    const d = detailFor(n - 3000, n - 1, n);
    expect(needsReplan(d, n - 3000, n - 1, n)).toBe(false);
    // a short scroll left stays inside
    expect(needsReplan(d, n - 4000, n - 1000, n)).toBe(false);
    // a scroll past the region
    expect(needsReplan(d, n - 7000, n - 4000, n)).toBe(true);
    // zoom out to 20,000 points: the region no longer holds the view
    expect(needsReplan(d, n - 20_000, n - 1, n)).toBe(true);
    // a plan for a wide view, then zoomed in to 500 points: finer needed
    const wide = detailFor(0, n - 1, n);
    expect(needsReplan(wide, 50_000, 50_500, n)).toBe(true);
    // the plan a view gets is one it keeps (no re-plan loop)
    for (const [a, b] of [
      [0, n - 1],
      [50_000, 50_500],
      [10, 9000],
    ] as const)
      expect(needsReplan(detailFor(a, b, n), a, b, n)).toBe(false);
  });

  it('draws a short history whole and never re-plans it', () => {
    const m = RAW_LIMIT;
    const d = detailFor(m - 100, m - 1, m);
    expect(d).toEqual({ from: 0, to: m, bucket: 1 });
    expect(selectPoints(price, m, [], d, overviewBucket(m))).toHaveLength(m);
    expect(needsReplan(d, 0, 10, m)).toBe(false);
    // one live point later it is longer than RAW_LIMIT: the region grows with it, so no re-plan at the live edge
    expect(needsReplan(afterAppend(d, m, m + 1), m - 100, m, m + 1)).toBe(false);
    expect(needsReplan(d, m - 100, m, m + 1)).toBe(true);
  });

  it('grows a region that reached the end with the live points, and leaves one that did not', () => {
    const d = detailFor(n - 3000, n - 1, n);
    expect(afterAppend(d, n, n + 5)).toEqual({ ...d, to: n + 5 });
    const old = detailFor(40_000, 41_000, n);
    expect(afterAppend(old, n, n + 5)).toBe(old);
  });

  it("gives a drawn volume bar the largest volume of the points it stands for", () => {
    const vol = [1, 9, 2, 3, 50, 4, 5, 6, 7, 8];
    const sel = [2, 5, 8];
    expect([0, 1, 2].map((k) => spanMax(vol, sel, k, vol.length))).toEqual([50, 6, 8]);
    expect(spanMax(vol, [0], 0, vol.length)).toBe(50);
  });

  it('maps chart positions to store positions and back, margins included', () => {
    const sel = [0, 1, 2, 50, 100, 101];
    for (const x of [-3, 0, 0.5, 2, 2.5, 3.25, 4, 5, 7.5]) expect(toLogical(sel, toStore(sel, x))).toBeCloseTo(x, 9);
    expect(toStore(sel, 2.5)).toBe(26);
    expect(toStore(sel, 7)).toBe(103);
    expect(toLogical(sel, 75)).toBe(3.5);
  });
});
