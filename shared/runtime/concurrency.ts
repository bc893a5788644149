/**
 * Runs `fn` over `items` with at most `limit` calls in flight and returns the
 * results in input order. On failure it starts nothing new, waits until every
 * call already started has settled, then rejects with the first error: a
 * caller that retries the whole set never races an orphaned write of the
 * previous attempt.
 *
 * Ours rather than p-limit/p-map: those are ESM-only in every maintained
 * version and our build is CommonJS; this is the whole of what we need.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  if (!(limit >= 1)) throw new RangeError(`mapLimit: limit must be >= 1, got ${limit}`);
  const results = new Array<R>(items.length);
  let next = 0;
  let firstError: { err: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && firstError === undefined) {
      const i = next++;
      try {
        results[i] = await fn(items[i] as T, i);
      } catch (err) {
        firstError ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (firstError !== undefined) throw firstError.err;
  return results;
}
