import { mapLimit } from '../../../../shared/runtime/concurrency';
import { UNKNOWN_ERROR_ATTEMPTS, backoffDelay, isRetryable, retry, type RetryPolicy } from '../../../../shared/runtime/retry';
import { sleep } from '../../../../shared/runtime/sleep';

/** SDK v3's shape of an error: `name` is the AWS code, `$metadata` the HTTP status. */
function awsError(name: string, status: number): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
}

describe('sleep', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('resolves after the time asked for, not before', async () => {
    let done = false;
    const p = sleep(1_000).then(() => (done = true));
    await jest.advanceTimersByTimeAsync(999);
    expect(done).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    await p;
    expect(done).toBe(true);
  });

  it('resolves at once on abort and leaves no timer behind', async () => {
    const ac = new AbortController();
    let done = false;
    const p = sleep(60_000, ac.signal).then(() => (done = true));
    await jest.advanceTimersByTimeAsync(10);
    expect(done).toBe(false);
    ac.abort();
    await p;
    expect(done).toBe(true);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('does not wait when already aborted or asked for no time', async () => {
    const ac = new AbortController();
    ac.abort();
    await sleep(60_000, ac.signal);
    await sleep(0);
    await sleep(-5);
    expect(jest.getTimerCount()).toBe(0);
  });
});

describe('backoffDelay', () => {
  const policy = { baseMs: 100, maxMs: 1_000 };

  it('is the base at the bottom of the jitter and doubles its ceiling per retry up to the cap', () => {
    expect([0, 1, 2, 3, 4, 10].map((r) => backoffDelay(r, policy, () => 0))).toEqual([100, 100, 100, 100, 100, 100]);
    expect([0, 1, 2, 3, 4, 10].map((r) => backoffDelay(r, policy, () => 1))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('spreads uniformly between the floor and the ceiling (full jitter)', () => {
    expect(backoffDelay(3, policy, () => 0.5)).toBe(450);
    expect(backoffDelay(3, policy, () => 0.25)).toBe(275);
  });

  it('never goes below the base, even for a negative retry index', () => {
    expect(backoffDelay(-3, policy, () => 1)).toBe(100);
  });
});

describe('isRetryable', () => {
  it('retries transient errors, stops on configuration and item errors', () => {
    expect(isRetryable(awsError('ProvisionedThroughputExceededException', 400), 1)).toBe(true);
    expect(isRetryable(Object.assign(new Error('socket'), { code: 'ECONNRESET' }), 50)).toBe(true);
    expect(isRetryable(awsError('AccessDeniedException', 400), 1)).toBe(false);
    expect(isRetryable(awsError('ValidationException', 400), 1)).toBe(false);
  });

  it('gives an unknown error a few attempts only', () => {
    const bug = new TypeError('x is undefined');
    expect(isRetryable(bug, UNKNOWN_ERROR_ATTEMPTS - 1)).toBe(true);
    expect(isRetryable(bug, UNKNOWN_ERROR_ATTEMPTS)).toBe(false);
  });
});

describe('retry', () => {
  const policy: RetryPolicy = { baseMs: 100, maxMs: 1_000, maxAttempts: 5 };
  /** Records the waits asked for and returns at once: no real time passes. */
  const recorder = (): { waits: number[]; sleep: (ms: number) => Promise<void> } => {
    const waits: number[] = [];
    return { waits, sleep: (ms) => (waits.push(ms), Promise.resolve()) };
  };
  const failing = (errors: Error[], value = 'ok') => {
    const calls: number[] = [];
    const op = (attempt: number): Promise<string> => {
      calls.push(attempt);
      const e = errors.shift();
      return e === undefined ? Promise.resolve(value) : Promise.reject(e);
    };
    return { calls, op };
  };

  it('retries a transient error with the backoff and returns the result', async () => {
    const r = recorder();
    const f = failing([awsError('ThrottlingException', 400), awsError('ServiceUnavailable', 503)]);
    await expect(retry(f.op, { policy, sleep: r.sleep, random: () => 1 })).resolves.toBe('ok');
    expect(f.calls).toEqual([1, 2, 3]);
    expect(r.waits).toEqual([100, 200]);
  });

  it('throws a configuration error at once, as it is', async () => {
    const r = recorder();
    const denied = awsError('AccessDeniedException', 400);
    const f = failing([denied]);
    await expect(retry(f.op, { policy, sleep: r.sleep })).rejects.toBe(denied);
    expect(f.calls).toEqual([1]);
    expect(r.waits).toEqual([]);
  });

  it('throws an item error at once', async () => {
    const f = failing([awsError('ValidationException', 400)]);
    await expect(retry(f.op, { policy, sleep: recorder().sleep })).rejects.toThrow('ValidationException');
    expect(f.calls).toEqual([1]);
  });

  it('gives up after maxAttempts with the last error', async () => {
    const errors = [1, 2, 3, 4, 5, 6].map((i) => awsError(`ThrottlingException`, 400 + i));
    const last = errors[4];
    const f = failing([...errors]);
    const r = recorder();
    await expect(retry(f.op, { policy, sleep: r.sleep, random: () => 1 })).rejects.toBe(last);
    expect(f.calls).toEqual([1, 2, 3, 4, 5]);
    expect(r.waits).toEqual([100, 200, 400, 800]);
  });

  it('honours a server-given wait above the backoff, capped at maxMs', async () => {
    const r = recorder();
    const f = failing([awsError('ThrottlingException', 429), awsError('ThrottlingException', 429)]);
    const minDelayMs = jest.fn().mockReturnValueOnce(700).mockReturnValueOnce(5_000);
    await retry(f.op, { policy, sleep: r.sleep, random: () => 0, minDelayMs });
    expect(r.waits).toEqual([700, 1_000]);
  });

  it('reports each retry with its attempt and delay', async () => {
    const onRetry = jest.fn();
    const e = awsError('ThrottlingException', 400);
    await retry(failing([e]).op, { policy, sleep: recorder().sleep, random: () => 0, onRetry });
    expect(onRetry.mock.calls).toEqual([[e, 1, 100]]);
  });

  it('takes a custom rule for what to retry', async () => {
    const f = failing([new Error('busy'), new Error('busy'), new Error('fatal')]);
    await expect(retry(f.op, { policy, sleep: recorder().sleep, shouldRetry: (err) => (err as Error).message === 'busy' })).rejects.toThrow('fatal');
    expect(f.calls).toEqual([1, 2, 3]);
  });

  it('stops when the signal aborts during the wait, throwing the last error', async () => {
    const ac = new AbortController();
    const e = awsError('ThrottlingException', 400);
    const f = failing([e, e, e]);
    const abortingSleep = (): Promise<void> => (ac.abort(), Promise.resolve());
    await expect(retry(f.op, { policy, signal: ac.signal, sleep: abortingSleep })).rejects.toBe(e);
    expect(f.calls).toEqual([1]);
  });

  it('waits with the real sleep under fake timers when none is injected', async () => {
    jest.useFakeTimers();
    try {
      const f = failing([awsError('ThrottlingException', 400)]);
      let result: string | undefined;
      const p = retry(f.op, { policy, random: () => 0 }).then((v) => (result = v));
      await jest.advanceTimersByTimeAsync(99);
      expect(result).toBeUndefined();
      await jest.advanceTimersByTimeAsync(1);
      await p;
      expect(result).toBe('ok');
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('mapLimit', () => {
  /** A call per item that the test settles by hand, to watch how many are in flight. */
  function gated() {
    const pending = new Map<number, { resolve: (v: number) => void; reject: (e: Error) => void }>();
    let inFlight = 0;
    let peak = 0;
    const fn = (_item: number, index: number): Promise<number> =>
      new Promise<number>((resolve, reject) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        pending.set(index, {
          resolve: (v) => (inFlight--, resolve(v)),
          reject: (e) => (inFlight--, reject(e)),
        });
      });
    return { pending, fn, peak: () => peak, inFlight: () => inFlight };
  }
  const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

  it('keeps at most `limit` calls in flight and returns results in input order', async () => {
    const g = gated();
    const p = mapLimit([10, 20, 30, 40, 50], 2, g.fn);
    await tick();
    expect([...g.pending.keys()]).toEqual([0, 1]);
    g.pending.get(1)!.resolve(21);
    await tick();
    expect([...g.pending.keys()]).toEqual([0, 1, 2]);
    for (const i of [0, 2, 3, 4]) {
      await tick();
      g.pending.get(i)!.resolve(i * 10 + 11);
    }
    await expect(p).resolves.toEqual([11, 21, 31, 41, 51]);
    expect(g.peak()).toBe(2);
  });

  it('on a failure starts nothing new and rejects only after the started calls settle', async () => {
    const g = gated();
    let settled = false;
    const p = mapLimit([1, 2, 3, 4], 2, g.fn).finally(() => (settled = true));
    await tick();
    g.pending.get(0)!.reject(new Error('boom'));
    await tick();
    expect(settled).toBe(false);
    expect([...g.pending.keys()]).toEqual([0, 1]);
    g.pending.get(1)!.resolve(2);
    await expect(p).rejects.toThrow('boom');
    expect(g.inFlight()).toBe(0);
  });

  it('handles no items and refuses a limit below 1', async () => {
    await expect(mapLimit([], 3, () => Promise.resolve(1))).resolves.toEqual([]);
    await expect(mapLimit([1], 0, () => Promise.resolve(1))).rejects.toThrow(RangeError);
  });
});
