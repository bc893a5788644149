/**
 * Time as a dependency. Every wait in the producer goes through a Clock so
 * tests can run backoff and poll loops instantly and assert on the delays
 * that were asked for, instead of sleeping for real.
 */
import { sleep } from '../shared/runtime/sleep';

export interface Clock {
  now(): number;
  /** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep,
};
