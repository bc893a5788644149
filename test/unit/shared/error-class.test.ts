import * as ddb from '@aws-sdk/client-dynamodb';
import * as firehose from '@aws-sdk/client-firehose';
import * as kinesis from '@aws-sdk/client-kinesis';
import * as sns from '@aws-sdk/client-sns';
import * as sqs from '@aws-sdk/client-sqs';
import { SinkWriteError, StateStoreError } from '../../../consumer/errors';
import { classifyError, type ErrorClass } from '../../../shared/error-class';

/** The SDK's own exception classes, built as its deserialisers build them. */
const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode, requestId: 'r-1', attempts: 1, totalRetryDelay: 0 } });

/** An error the SDK has no class for: a generic ServiceException carrying the
 *  AWS error code as its name (DynamoDB's ValidationException arrives so). */
function unmodelled(name: string, httpStatusCode: number, message: string): Error {
  return new ddb.DynamoDBServiceException({ name, $fault: httpStatusCode >= 500 ? 'server' : 'client', message, ...meta(httpStatusCode) });
}

function networkError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

const cases: [string, unknown, ErrorClass, string][] = [
  // transient
  ['DynamoDB throttling', new ddb.ProvisionedThroughputExceededException({ message: 'rate', ...meta(400) }), 'transient', 'ProvisionedThroughputExceededException'],
  ['DynamoDB ThrottlingException', new ddb.ThrottlingException({ message: 'slow down', ...meta(400) }), 'transient', 'ThrottlingException'],
  ['Kinesis InternalFailure', new kinesis.InternalFailureException({ message: 'x', ...meta(500) }), 'transient', 'InternalFailureException'],
  ['Firehose ServiceUnavailable', new firehose.ServiceUnavailableException({ message: 'x', ...meta(503) }), 'transient', 'ServiceUnavailableException'],
  ['SNS throttled', new sns.ThrottledException({ message: 'x', ...meta(400) }), 'transient', 'ThrottledException'],
  ['an unmodelled 503', unmodelled('SomethingNew', 503, 'x'), 'transient', 'SomethingNew'],
  ['a 429 without a known code', unmodelled('TooFast', 429, 'x'), 'transient', 'TooFast'],
  ['connection reset', networkError('ECONNRESET', 'socket hang up'), 'transient', 'ECONNRESET'],
  ['connection refused', networkError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'), 'transient', 'ECONNREFUSED'],
  ['an SDK timeout', Object.assign(new Error('Connection timed out after 1000 ms'), { name: 'TimeoutError' }), 'transient', 'TimeoutError'],
  // item
  ['DynamoDB number overflow', unmodelled('ValidationException', 400, 'Number overflow. Attempting to store a number with magnitude larger than supported range'), 'item', 'ValidationException'],
  ['Kinesis InvalidArgument', new kinesis.InvalidArgumentException({ message: 'x', ...meta(400) }), 'item', 'InvalidArgumentException'],
  ['SNS InvalidParameter', new sns.InvalidParameterException({ message: 'Message too long', ...meta(400) }), 'item', 'InvalidParameterException'],
  ['SerializationException', unmodelled('SerializationException', 400, 'x'), 'item', 'SerializationException'],
  ['our own permanent error', new SinkWriteError('firehose', 'record of 2000000 bytes exceeds 1024000', { permanent: true }), 'item', 'SinkWriteError'],
  // config
  ['DynamoDB table missing', new ddb.ResourceNotFoundException({ message: 'Requested resource not found', ...meta(400) }), 'config', 'ResourceNotFoundException'],
  ['AccessDenied', unmodelled('AccessDeniedException', 400, 'User: arn:aws:sts::1:assumed-role/x is not authorized to perform: dynamodb:BatchWriteItem'), 'config', 'AccessDeniedException'],
  ['SNS topic missing', new sns.NotFoundException({ message: 'Topic does not exist', ...meta(404) }), 'config', 'NotFoundException'],
  ['SNS not authorized', new sns.AuthorizationErrorException({ message: 'x', ...meta(403) }), 'config', 'AuthorizationErrorException'],
  ['SQS queue missing', new sqs.QueueDoesNotExist({ message: 'x', ...meta(400) }), 'config', 'QueueDoesNotExist'],
  ['a KMS key disabled', new kinesis.KMSDisabledException({ message: 'x', ...meta(400) }), 'config', 'KMSDisabledException'],
  ['bad credentials', unmodelled('UnrecognizedClientException', 400, 'The security token included in the request is invalid.'), 'config', 'UnrecognizedClientException'],
  ['an unmodelled 403', unmodelled('SomethingForbidden', 403, 'x'), 'config', 'SomethingForbidden'],
  // unknown
  ['a bug of ours', new TypeError("Cannot read properties of undefined (reading 'x')"), 'unknown', 'TypeError'],
  ['a thrown string', 'boom', 'unknown', 'string'],
];

describe('classifyError', () => {
  it.each(cases)('%s is %s', (_what, err, cls, code) => {
    expect(classifyError(err)).toMatchObject({ class: cls, code });
  });

  it('decides on the SDK error inside our wrappers, however deep', () => {
    const sdk = new ddb.ResourceNotFoundException({ message: 'Requested resource not found', ...meta(400) });
    const wrapped = new StateStoreError('BatchGetItem on tickstream-state failed', { cause: new SinkWriteError('x', 'y', { cause: sdk }) });
    expect(classifyError(wrapped)).toMatchObject({ class: 'config', code: 'ResourceNotFoundException' });
    expect(classifyError(wrapped).hint).toMatch(/does not exist/);
  });

  it('prefers the innermost identity: a throttled call wrapped as a permanent error is still transient', () => {
    const err = new SinkWriteError('ddb', 'x', { permanent: true, cause: new ddb.ProvisionedThroughputExceededException({ message: 'rate', ...meta(400) }) });
    expect(classifyError(err).class).toBe('transient');
  });

  it('survives a cyclic cause chain', () => {
    const a = new Error('a') as Error & { cause?: unknown };
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(classifyError(a)).toMatchObject({ class: 'unknown' });
  });

  it('classifies what a real client throws when nothing listens on the port', async () => {
    const client = new ddb.DynamoDBClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', maxAttempts: 1, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
    const err = await client.send(new ddb.ListTablesCommand({})).then(
      () => undefined,
      (e: unknown) => e,
    );
    client.destroy();
    expect(classifyError(err)).toMatchObject({ class: 'transient', code: 'ECONNREFUSED' });
  });
});
