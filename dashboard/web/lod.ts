/**
 * Level of detail for a long price chart: which points of a history the
 * chart draws. Pure (no DOM), so jest tests it directly.
 *
 * Why: lightweight-charts' setData costs about the same per point whether a
 * point is on screen or not (bench:dashboard: 7 series x 100,000 points took
 * 1.3 s on a quiet machine, 2.4-3.5 s on a loaded one), and a screen 1,400
 * pixels wide cannot show more than a few thousand points anyway. So the
 * chart draws every point only around what is on screen (the detail region),
 * and elsewhere a min/max decimation: per bucket of B points, the lowest and
 * the highest price (in their order), so no spike or dip disappears, plus
 * every point that carries a marker (a BUY/SELL or an anomaly), so no marker
 * loses its bar. Zooming or scrolling re-plans the detail region around the
 * new view (the page does it, once the view stops moving).
 */

/** The region drawn at finer resolution: store indexes [from, to), `bucket` points per bucket (1 = every point). */
export interface Detail {
  from: number;
  to: number;
  bucket: number;
}

/**
 * Points the chart may hold for what is on screen: two or three a pixel on a
 * wide screen, past which finer detail cannot show. (A bucket of 2 draws both
 * its points, so a view of up to this many points is drawn whole.)
 */
export const POINTS_PER_VIEW = 4000;
/** Points for the whole history outside the detail region. */
export const OVERVIEW_POINTS = 4000;
/** A history this short is drawn whole: re-planning would cost more than it saves. */
export const RAW_LIMIT = 3 * POINTS_PER_VIEW;

/** Points per bucket so that `width` points fit in `budget` drawn points (min/max: two per bucket). */
export function bucketFor(width: number, budget: number): number {
  return Math.max(1, Math.ceil((2 * width) / budget));
}

/** Bucket of the overview (everything outside the detail region) for a history of `n` points. */
export function overviewBucket(n: number): number {
  return n <= RAW_LIMIT ? 1 : bucketFor(n, OVERVIEW_POINTS);
}

/**
 * The detail region for store indexes [a, b] on screen: the view plus one
 * view's width on either side (so a short scroll stays inside it), with
 * bucket bounds on multiples of the bucket so the same view always plans the
 * same points. A history of at most RAW_LIMIT points is all detail.
 */
export function detailFor(a: number, b: number, n: number): Detail {
  if (n <= RAW_LIMIT) return { from: 0, to: n, bucket: 1 };
  const width = Math.max(1, b - a + 1);
  const bucket = bucketFor(width, POINTS_PER_VIEW);
  const from = Math.floor(Math.max(0, a - width) / bucket) * bucket;
  const to = Math.min(n, Math.ceil((b + 1 + width) / bucket) * bucket);
  return { from, to, bucket };
}

/**
 * Whether the view [a, b] needs a new plan: it left the detail region, or it
 * is zoomed in past the region's resolution, or zoomed out so far that the
 * region would draw several times the points the view needs.
 */
export function needsReplan(cur: Detail, a: number, b: number, n: number): boolean {
  if (n <= RAW_LIMIT) return cur.from !== 0 || cur.to < n || cur.bucket !== 1;
  const want = bucketFor(Math.max(1, b - a + 1), POINTS_PER_VIEW);
  return a < cur.from || b >= cur.to || want < cur.bucket || want > 4 * cur.bucket;
}

/**
 * The plan after live points took the history from `oldN` to `n` points: the
 * page draws them as they come, every one, so a region that reached the end
 * now reaches the new end (otherwise a view at the live edge would re-plan
 * on every tick).
 */
export function afterAppend(cur: Detail, oldN: number, n: number): Detail {
  return cur.to >= oldN ? { ...cur, to: n } : cur;
}

/**
 * The store indexes to draw, ascending: every point in buckets of 1 or 2;
 * otherwise per bucket the lowest and highest `price` and every `marked`
 * index (sorted ascending) in it. Buckets start on multiples of their size,
 * clipped to the segment: [0, from) and [to, n) use `outer`, the detail
 * region its own bucket.
 */
export function selectPoints(price: ArrayLike<number>, n: number, marked: readonly number[], detail: Detail, outer: number): number[] {
  const out: number[] = [];
  let m = 0;
  const segment = (start: number, end: number, bucket: number): void => {
    for (let s = start; s < end; ) {
      const e = Math.min(end, (Math.floor(s / bucket) + 1) * bucket);
      if (bucket <= 2 || e - s <= 2) {
        for (let i = s; i < e; i++) out.push(i);
      } else {
        let lo = s;
        let hi = s;
        for (let i = s + 1; i < e; i++) {
          const p = price[i]!;
          if (p < price[lo]!) lo = i;
          if (p > price[hi]!) hi = i;
        }
        while (m < marked.length && marked[m]! < s) m++;
        // the bucket's picks in index order, without repeats: two extremes and its marked points
        const picks = [Math.min(lo, hi), Math.max(lo, hi)];
        for (let k = m; k < marked.length && marked[k]! < e; k++) picks.push(marked[k]!);
        picks.sort((x, y) => x - y);
        for (const i of picks) if (out.length === 0 || out[out.length - 1]! < i) out.push(i);
      }
      s = e;
    }
  };
  const from = Math.max(0, Math.min(n, detail.from));
  const to = Math.max(from, Math.min(n, detail.to));
  segment(0, from, outer);
  segment(from, to, detail.bucket);
  segment(to, n, outer);
  return out;
}

/**
 * The largest value of `values` over the points drawn point `k` stands for:
 * from its index up to the next drawn point's (the first also stands for
 * any points before it, the last for any after it). A volume bar then shows
 * the biggest volume it hides, so a spike stays visible when decimated.
 */
export function spanMax(values: ArrayLike<number>, sel: readonly number[], k: number, n: number): number {
  const start = k === 0 ? 0 : sel[k]!;
  const end = k + 1 < sel.length ? sel[k + 1]! : n;
  let max = values[sel[k]!]!;
  for (let i = start; i < end; i++) if (values[i]! > max) max = values[i]!;
  return max;
}

/**
 * The store position (fractional) of chart logical index `x` under the plan
 * `sel`: interpolated between drawn points, extrapolated one point per index
 * beyond either end (the chart's blank margins).
 */
export function toStore(sel: readonly number[], x: number): number {
  const last = sel.length - 1;
  if (last < 0) return x;
  if (x <= 0) return sel[0]! + x;
  if (x >= last) return sel[last]! + (x - last);
  const k = Math.floor(x);
  return sel[k]! + (x - k) * (sel[k + 1]! - sel[k]!);
}

/** The inverse of toStore: the logical index (fractional) of store position `p` under the plan `sel`. */
export function toLogical(sel: readonly number[], p: number): number {
  const last = sel.length - 1;
  if (last < 0) return p;
  if (p <= sel[0]!) return p - sel[0]!;
  if (p >= sel[last]!) return last + (p - sel[last]!);
  // the last drawn point at or before p
  let lo = 0;
  let hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (sel[mid]! <= p) lo = mid;
    else hi = mid;
  }
  return lo + (p - sel[lo]!) / (sel[lo + 1]! - sel[lo]!);
}
