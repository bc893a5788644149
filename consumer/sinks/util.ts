/** Small helpers shared by the adapters (sleep, backoff and mapLimit live in shared/runtime/). */
import type { RetryPolicy } from '../../shared/runtime/retry';

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 8, baseMs: 50, maxMs: 5_000 };

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Runs tasks for the same key one after another (per-symbol ordering) while
 *  different keys proceed concurrently. */
export class KeyedSerializer {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const result = prev.then(task, task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}

/** File-name-safe token: shard ids and worker ids end up in lake file names. */
export function safeToken(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 80) || '_';
}
