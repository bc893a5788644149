/**
 * Time as a dependency. Every wait in the producer goes through a Clock so
 * tests can run backoff and poll loops instantly and assert on the delays
 * that were asked for, instead of sleeping for real.
 */
export interface Clock {
  now(): number;
  /** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted || ms <= 0) {
        resolve();
        return;
      }
      const onAbort = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

export interface BackoffPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
}

/**
 * Exponential backoff with "full jitter" (AWS Architecture Blog): a uniform
 * delay in [base, min(max, base * 2^attempt)]. Full jitter spreads the retries
 * of many batches that failed together (typically one 429 burst) instead of
 * making them hit Yahoo again in lock-step. The floor of `base` keeps a
 * minimum pause so a 429 is never retried immediately.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt));
  return Math.round(policy.baseMs + random() * Math.max(0, ceiling - policy.baseMs));
}
