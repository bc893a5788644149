/**
 * The producer's error hierarchy. Vendor errors (yahoo-finance2, AWS SDK,
 * DuckDB) are translated here at the adapter edge so the rest of the
 * producer reasons about what went wrong, not about which library said it.
 * The original error always travels as `cause`.
 */
class ProducerError extends Error {
  override readonly name: string = 'ProducerError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** What an HTTP failure is reduced to before it may be logged: no cookies,
 *  no crumb, no headers, at most a short body excerpt. */
export interface SafeHttpDetails {
  readonly status?: number;
  readonly url: string;
  readonly bodyExcerpt?: string;
}

/** Base for everything the Yahoo adapter throws. `retryable` drives backoff. */
export class YahooError extends ProducerError {
  override readonly name: string = 'YahooError';
  constructor(
    message: string,
    readonly details: SafeHttpDetails,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  /** The only view of this error that goes into a log line. */
  toLog(): Record<string, unknown> {
    return { error: this.name, errorMessage: this.message, ...this.details };
  }
}

/** Non-2xx from Yahoo. 429 and 5xx are retryable; other 4xx are not. */
export class YahooHttpError extends YahooError {
  override readonly name = 'YahooHttpError';
  /** From a Retry-After header, when Yahoo sent one. */
  readonly retryAfterMs: number | undefined;
  constructor(details: SafeHttpDetails & { status: number }, options?: { cause?: unknown; retryAfterMs?: number }) {
    super(`Yahoo answered HTTP ${details.status}`, details, details.status === 429 || details.status >= 500, options);
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/** The request did not complete within the timeout (or the socket failed). */
export class YahooTimeoutError extends YahooError {
  override readonly name = 'YahooTimeoutError';
  constructor(details: SafeHttpDetails, options?: { cause?: unknown }) {
    super('Yahoo request timed out or failed at the network level', details, true, options);
  }
}

/** The cookie/crumb handshake failed, or Yahoo rejected the crumb (401/403).
 *  Recovered by clearing the jar and handshaking again. */
export class YahooCrumbError extends YahooError {
  override readonly name = 'YahooCrumbError';
  constructor(message: string, details: SafeHttpDetails, options?: { cause?: unknown }) {
    super(message, details, true, options);
  }
}

/** A 2xx whose body is not the quote JSON we expect. Not retried inside a
 *  poll: an HTML error page or a format change does not fix itself in 500 ms. */
export class YahooMalformedResponseError extends YahooError {
  override readonly name = 'YahooMalformedResponseError';
  constructor(message: string, details: SafeHttpDetails, options?: { cause?: unknown }) {
    super(message, details, false, options);
  }
}

/** The Yahoo client tried to reach a host we do not allow. */
export class UnexpectedHostError extends ProducerError {
  override readonly name = 'UnexpectedHostError';
  constructor(readonly host: string) {
    super(`refusing request to unexpected host ${host}`);
  }
}

/** A replay input file cannot be read or parsed. */
export class ReplayFormatError extends ProducerError {
  override readonly name = 'ReplayFormatError';
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}${line === undefined ? '' : `:${line}`}: ${reason}`, options);
  }
}

/** Records could not be written to Kinesis after every retry. */
export class KinesisWriteError extends ProducerError {
  override readonly name = 'KinesisWriteError';
  constructor(
    message: string,
    readonly failedRecords: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A single record is larger than Kinesis accepts (1 MiB incl. key). */
export class RecordTooLargeError extends ProducerError {
  override readonly name = 'RecordTooLargeError';
  constructor(
    readonly partitionKey: string,
    readonly bytes: number,
  ) {
    super(`record for ${partitionKey} is ${bytes} bytes, above the 1 MiB Kinesis limit`);
  }
}

/** The symbol-group lease table could not be read or written. */
export class LeaseError extends ProducerError {
  override readonly name = 'LeaseError';
}

/** Reduce anything thrown to a loggable object without secrets. The text is
 *  `errorMessage`, not `message`: winston would merge it into the log line's
 *  own message. */
export function errorForLog(err: unknown): Record<string, unknown> {
  if (err instanceof YahooError) return err.toLog();
  if (err instanceof Error) return { error: err.name, errorMessage: redactSecrets(err.message) };
  return { error: 'NonError', errorMessage: redactSecrets(String(err)) };
}

/** Strip crumb query parameters and cookie values from free text. */
export function redactSecrets(text: string): string {
  return text
    .replace(/([?&]crumb=)[^&\s"']*/gi, '$1[redacted]')
    .replace(/(cookie:?\s*)[^\n]*/gi, '$1[redacted]')
    .replace(/(crumb:?\s*)[A-Za-z0-9._/\\-]+/gi, '$1[redacted]');
}
