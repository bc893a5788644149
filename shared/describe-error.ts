/**
 * How an error is described in a log line, a dead letter's reason or a CLI's
 * one-line failure. Here, not in one process's error module, because every
 * process and the lake module describe errors and none may import another's.
 */
/** A short, secret-free description of an error for log lines and error messages. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    return `${err.name}${status ? ` (HTTP ${status})` : ''}: ${err.message.slice(0, 300)}`;
  }
  return String(err).slice(0, 300);
}

/**
 * describeError, plus the innermost cause when the outer message does not
 * already carry it: a dead letter's reason and a stop line must name what
 * the service said (ValidationException: Number overflow…), not only our
 * wrapper around it.
 */
export function describeErrorChain(err: unknown): string {
  const outer = describeError(err);
  let inner: unknown = err;
  for (let i = 0; i < 8 && inner instanceof Error && inner.cause !== undefined; i++) inner = inner.cause;
  if (inner === err || !(inner instanceof Error)) return outer;
  return outer.includes(inner.message.slice(0, 60)) ? outer : `${outer} (${describeError(inner)})`;
}
