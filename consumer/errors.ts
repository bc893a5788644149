/**
 * The consumer's error hierarchy. Adapters translate vendor errors into these
 * and keep the original as `cause`, so the processor decides on our types
 * (retry the batch, do not checkpoint) instead of on SDK error names.
 *
 * A DynamoDB ConditionalCheckFailedException on an idempotent write is NOT an
 * error here: it means "already applied" and each adapter turns it into a
 * normal result ('duplicate', a stale snapshot, a latest item left alone).
 */
import { describeErrorChain } from '../shared/describe-error';

/** sysexits.h EX_CONFIG: the exit code of every configuration stop. */
export const EXIT_CONFIG = 78;

class ConsumerError extends Error {
  /** The adapter knows this can never be written as it is (shared/error-class.ts: `item`). */
  readonly permanent: boolean;
  constructor(message: string, options?: { cause?: unknown; permanent?: boolean }) {
    super(message, options);
    this.name = new.target.name;
    this.permanent = options?.permanent ?? false;
  }
}

/**
 * A sink did not acknowledge a write (after its own retries). Nothing past
 * these rows may be checkpointed; retrying the same rows is safe because every
 * sink write is idempotent or deduplicated.
 */
export class SinkWriteError extends ConsumerError {
  constructor(
    readonly sink: string,
    message: string,
    options?: { cause?: unknown; permanent?: boolean },
  ) {
    super(`${sink}: ${message}`, options);
  }
}

/** Some items were still unprocessed (DynamoDB UnprocessedItems, Firehose
 *  FailedPutCount) after every retry. */
export class PartialWriteError extends SinkWriteError {
  constructor(
    sink: string,
    readonly failedCount: number,
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(sink, `${failedCount} item(s) still failing after ${attempts} attempt(s)`, options);
  }
}

/** Reading or writing per-symbol state failed. */
export class StateStoreError extends ConsumerError {}

/** A stored snapshot could not be decoded (not JSON, missing last_ts). */
export class CorruptStateError extends StateStoreError {
  constructor(
    readonly symbol: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`corrupt state for ${symbol}: ${detail}`, options);
  }
}

/** Dedup bookkeeping or delivery of an alert failed; the alert may be retried. */
export class AlertPublishError extends ConsumerError {}

/** A dead letter could not be stored. */
export class DeadLetterError extends ConsumerError {}

/** True for DynamoDB's "the condition did not hold", under SDK v3's error shape. */
export function isConditionalCheckFailed(err: unknown): boolean {
  return errorName(err) === 'ConditionalCheckFailedException';
}

function errorName(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'name' in err && typeof err.name === 'string') return err.name;
  return undefined;
}

/**
 * The deployment is wrong (shared/error-class.ts `config`): a table, topic or
 * queue that does not exist, a permission the role lacks. No item and no
 * wait fixes it, so the worker stops with this one line instead of retrying
 * forever; the message names the resource and what to check.
 */
export class ConfigurationStopError extends ConsumerError {
  constructor(
    readonly what: string,
    readonly code: string,
    readonly hint: string,
    cause: unknown,
  ) {
    super(`configuration error during ${what}: ${describeErrorChain(cause)} — ${hint}`, { cause });
  }
}
