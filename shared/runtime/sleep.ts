/**
 * The one sleep. It resolves (never rejects) after `ms`, or at once when
 * `signal` aborts: every caller that passes a signal checks `signal.aborted`
 * afterwards anyway, and a rejection would force a try/catch on each of them
 * for what is the normal way to stop. The timer is cleared on abort, so an
 * aborted wait keeps nothing alive.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted === true || !(ms > 0)) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
