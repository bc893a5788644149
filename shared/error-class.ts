/**
 * One classifier for every error a sink, the state store, the alert and
 * dead-letter adapters or the producer's Kinesis writer can meet. What to do
 * next depends only on the class, never on which adapter said it:
 *
 * - `transient`: throttling, 5xx, timeouts, connection resets. Waiting helps:
 *   retry with backoff for as long as it takes (nothing is checkpointed past
 *   the work meanwhile, so nothing is lost).
 * - `item`: this item can never be written as it is (validation, a value the
 *   store refuses, serialisation, a record too large). Retrying cannot help
 *   and waiting stalls the shard: isolate the item, dead-letter it with the
 *   reason, go on.
 * - `config`: the deployment is wrong (permission denied, a table, topic,
 *   queue or key that does not exist, no credentials). No item and no amount
 *   of waiting fixes it: stop with one line naming the resource and what to
 *   check.
 * - `unknown`: none of the above (a bug of ours, an error no adapter
 *   translated). Retried a few times like a transient error, then treated as
 *   an item error, so an unforeseen poison value can stall nothing for long.
 *
 * Adapters wrap SDK errors in their own (keeping `cause`); the classifier
 * walks the cause chain and decides on the innermost error that carries an
 * AWS or network identity. SDK v3 errors carry `name` (the AWS error code)
 * and `$metadata.httpStatusCode`; Node network errors carry `code`.
 */
export type ErrorClass = 'transient' | 'item' | 'config' | 'unknown';

export interface Classified {
  readonly class: ErrorClass;
  /** The AWS error code, Node error code or error name that decided it. */
  readonly code: string;
  /** config only: what an operator should check. */
  readonly hint?: string;
}

const TRANSIENT_CODES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'LimitExceededException',
  'SlowDown',
  'RequestThrottled',
  'RequestThrottledException',
  'KMSThrottlingException',
  'InternalServerError',
  'InternalServerErrorException',
  'InternalFailure',
  'InternalFailureException',
  'InternalErrorException',
  'ConcurrentModificationException',
  'InternalError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TransactionConflictException',
  'TransactionInProgressException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'PriorRequestNotComplete',
  'ResourceInUseException',
  'EC2ThrottledException',
  'BandwidthLimitExceeded',
]);

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'ERR_HTTP2_ERROR',
  'ERR_HTTP2_STREAM_ERROR',
  'ERR_HTTP2_GOAWAY_SESSION',
  'ERR_HTTP2_SESSION_ERROR',
  'ERR_HTTP2_STREAM_CANCEL',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

const NETWORK_IN_TEXT = new RegExp(`\\b(${[...NETWORK_CODES].join('|')})\\b`);

const ITEM_CODES = new Set([
  'ValidationException',
  'ValidationError',
  'SerializationException',
  'InvalidParameterException',
  'InvalidParameter',
  'InvalidParameterValue',
  'InvalidParameterValueException',
  'InvalidArgumentException',
  'InvalidMessageContents',
  'InvalidAttributeValue',
  'ItemCollectionSizeLimitExceededException',
  'MessageTooLong',
  'EntityTooLarge',
]);

const PERMISSION = 'the task role lacks permission for this call on this resource, or a key policy or SCP denies it';
const MISSING = 'the resource does not exist: check the name the configuration gives (environment) and that the stack created it';
const CREDENTIALS = 'no valid AWS credentials: check the task role (ECS) or the credentials of the shell';
const KEY = 'the KMS key is disabled, pending deletion, or its policy denies this role';

const CONFIG_HINTS: Readonly<Record<string, string>> = {
  AccessDeniedException: PERMISSION,
  AccessDenied: PERMISSION,
  AuthorizationError: PERMISSION,
  AuthorizationErrorException: PERMISSION,
  UnauthorizedOperation: PERMISSION,
  Forbidden: PERMISSION,
  InvalidSecurity: PERMISSION,
  InvalidSecurityException: PERMISSION,
  ResourceNotFoundException: MISSING,
  NotFound: MISSING,
  NotFoundException: MISSING,
  NoSuchBucket: MISSING,
  QueueDoesNotExist: MISSING,
  'AWS.SimpleQueueService.NonExistentQueue': MISSING,
  TableNotFoundException: MISSING,
  UnrecognizedClientException: CREDENTIALS,
  InvalidClientTokenId: CREDENTIALS,
  InvalidSignatureException: CREDENTIALS,
  SignatureDoesNotMatch: CREDENTIALS,
  MissingAuthenticationToken: CREDENTIALS,
  MissingAuthenticationTokenException: CREDENTIALS,
  ExpiredToken: CREDENTIALS,
  ExpiredTokenException: CREDENTIALS,
  CredentialsProviderError: CREDENTIALS,
  KMSAccessDeniedException: KEY,
  KMSDisabledException: KEY,
  KMSInvalidStateException: KEY,
  KMSNotFoundException: KEY,
  KMSOptInRequired: KEY,
  KMS_AccessDenied: KEY,
  InvalidKMSResourceException: KEY,
  OptInRequired: 'the account is not subscribed to this service in this region',
};

interface ErrorShape {
  name?: unknown;
  code?: unknown;
  cause?: unknown;
  permanent?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

/** Walks err → cause → cause… (at most 8 deep: causes may be cyclic). */
function chain(err: unknown): ErrorShape[] {
  const out: ErrorShape[] = [];
  let e: unknown = err;
  for (let i = 0; i < 8 && typeof e === 'object' && e !== null && !out.includes(e); i++) {
    out.push(e);
    e = (e as ErrorShape).cause;
  }
  return out;
}

function byCode(code: string): Classified | undefined {
  if (TRANSIENT_CODES.has(code) || NETWORK_CODES.has(code)) return { class: 'transient', code };
  const hint = CONFIG_HINTS[code];
  if (hint !== undefined) return { class: 'config', code, hint };
  if (ITEM_CODES.has(code)) return { class: 'item', code };
  return undefined;
}

export function classifyError(err: unknown): Classified {
  const links = chain(err);
  // Innermost first: the SDK's own error decides, not our wrapper around it.
  for (let i = links.length - 1; i >= 0; i--) {
    const e = links[i]!;
    if (typeof e.code === 'string') {
      const c = byCode(e.code);
      if (c !== undefined) return c;
    }
    if (typeof e.name === 'string') {
      const c = byCode(e.name);
      if (c !== undefined) return c;
    }
    const status = e.$metadata?.httpStatusCode;
    if (typeof status === 'number') {
      const code = typeof e.name === 'string' ? e.name : `HTTP ${status}`;
      if (status === 429 || status >= 500) return { class: 'transient', code };
      if (status === 403) return { class: 'config', code, hint: PERMISSION };
      if (status === 404) return { class: 'config', code, hint: MISSING };
    }
    if (e.$fault === 'server') return { class: 'transient', code: typeof e.name === 'string' ? e.name : 'ServerFault' };
    // Our own adapters mark what they know can never be written (a record
    // over a service's size limit, a value that is not serialisable).
    if (e.permanent === true) return { class: 'item', code: typeof e.name === 'string' ? e.name : 'PermanentError' };
  }
  // The SDK's retry layer turns an error it does not recognise as an Error
  // (one from another realm, as under jest's vm) into "AWS SDK error wrapper
  // for Error: connect ECONNREFUSED …", keeping only the text.
  for (const e of links) {
    const m = typeof (e as { message?: unknown }).message === 'string' ? NETWORK_IN_TEXT.exec((e as { message: string }).message) : null;
    if (m !== null) return { class: 'transient', code: m[1]! };
  }
  const top = links[0];
  return { class: 'unknown', code: top !== undefined && typeof top.name === 'string' ? top.name : typeof err };
}
