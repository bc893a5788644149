import { classifyError } from '../error-class';
import { sleep as realSleep } from './sleep';

export interface BackoffPolicy {
  /** The first retry's delay, and the floor of every later one. */
  readonly baseMs: number;
  /** The cap of the exponential growth. */
  readonly maxMs: number;
}

export interface RetryPolicy extends BackoffPolicy {
  /** Total attempts, the first included. */
  readonly maxAttempts: number;
}

/**
 * The one backoff formula: exponential with "full jitter" (AWS Architecture
 * Blog), a uniform delay in [base, min(max, base * 2^retry)], where `retry`
 * counts from 0 for the first retry. The jitter spreads the retries of many
 * callers that failed together (one throttling burst hits every shard and
 * every batch at once) instead of sending them back in lock-step. The floor
 * of `base` keeps a minimum pause, so a throttle is never answered at once.
 */
export function backoffDelay(retry: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, retry));
  return Math.round(policy.baseMs + random() * Math.max(0, ceiling - policy.baseMs));
}

/** Attempts an unclassified error gets by default: a bug of ours is not retried for ever. */
export const UNKNOWN_ERROR_ATTEMPTS = 3;

/**
 * The classifier's answer to "try again?": transient errors yes (waiting
 * helps), configuration and item errors no (no amount of waiting fixes them),
 * unknown ones for a few attempts.
 */
export function isRetryable(err: unknown, attempt: number, unknownAttempts = UNKNOWN_ERROR_ATTEMPTS): boolean {
  const c = classifyError(err).class;
  return c === 'transient' || (c === 'unknown' && attempt < unknownAttempts);
}

export interface RetryOptions {
  /** `maxAttempts` may be Infinity: retry while `shouldRetry` says so. */
  readonly policy: RetryPolicy;
  /** Stops the retries: the wait ends early and the last error is thrown. */
  readonly signal?: AbortSignal;
  /** Default: {@link isRetryable}. `attempt` is the number of attempts made so far. */
  readonly shouldRetry?: (err: unknown, attempt: number) => boolean;
  /** A server's own wait (Retry-After), honoured when longer than the backoff, up to `maxMs`. */
  readonly minDelayMs?: (err: unknown) => number | undefined;
  /** Before each wait; for logs and metrics. */
  readonly onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /** Injected by tests so no real time decides an outcome. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly random?: () => number;
}

/**
 * Runs `op` until it succeeds, an error is not worth retrying, the attempts
 * run out or `signal` aborts; then throws the last error as it is (callers
 * translate it, and the classifier reads its cause chain unchanged).
 */
export async function retry<T>(op: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const shouldRetry = opts.shouldRetry ?? isRetryable;
  const wait = opts.sleep ?? realSleep;
  // A function, not a narrowed property: the signal changes during the wait.
  const aborted = (): boolean => opts.signal?.aborted === true;
  for (let attempt = 1; ; attempt++) {
    try {
      return await op(attempt);
    } catch (err) {
      if (attempt >= opts.policy.maxAttempts || aborted() || !shouldRetry(err, attempt)) throw err;
      const floor = opts.minDelayMs?.(err) ?? 0;
      const delay = Math.min(opts.policy.maxMs, Math.max(backoffDelay(attempt - 1, opts.policy, opts.random), floor));
      opts.onRetry?.(err, attempt, delay);
      await wait(delay, opts.signal);
      if (aborted()) throw err;
    }
  }
}
