import { loadConsumerConfig } from '../../../consumer/config';
import { ConfigError } from '../../../shared/runtime/config';

const aws = { TICKSTREAM_MODE: 'aws', TICKSTREAM_ALERT_TOPIC_ARN: 'arn:aws:sns:us-east-1:1:t', TICKSTREAM_DLQ_URL: 'https://sqs/x', TICKSTREAM_DLQ_BUCKET: 'lake', TICKSTREAM_FIREHOSE_STREAM: 'f' };

describe('loadConsumerConfig', () => {
  it('defaults to a frozen AWS-mode config', () => {
    const c = loadConsumerConfig(aws);
    expect(c.mode).toBe('aws');
    expect(Object.isFrozen(c)).toBe(true);
    expect(c.checkpointEveryRecords).toBe(5000);
    expect(c.aws).toEqual({ alertTopicArn: aws.TICKSTREAM_ALERT_TOPIC_ARN, deadLetterQueueUrl: 'https://sqs/x', deadLetterBucket: 'lake', firehoseStream: 'f', firehoseRecordBytes: 0 });
    expect(c.ticksHistory).toBe(true);
  });

  it('reads the stack\'s levers: Firehose packing and no ticks history', () => {
    const c = loadConsumerConfig({ ...aws, TICKSTREAM_FIREHOSE_RECORD_BYTES: '5000', TICKSTREAM_TICKS_HISTORY: 'false' });
    expect(c.aws?.firehoseRecordBytes).toBe(5000);
    expect(c.ticksHistory).toBe(false);
  });

  it.each([
    [{ TICKSTREAM_CHECKPOINT_EVERY_RECORDS: 'ten' }, 'TICKSTREAM_CHECKPOINT_EVERY_RECORDS'],
    [{ TICKSTREAM_CHECKPOINT_EVERY_MS: '5' }, 'TICKSTREAM_CHECKPOINT_EVERY_MS'],
    [{ TICKSTREAM_MODE: 'cloud' }, 'TICKSTREAM_MODE'],
    [{ TICKSTREAM_DYNAMODB_ENDPOINT: 'localhost:8000' }, 'TICKSTREAM_DYNAMODB_ENDPOINT'],
    [{ TICKSTREAM_FIREHOSE_STREAM: '' }, 'TICKSTREAM_FIREHOSE_STREAM'],
    [{ TICKSTREAM_DLQ_BUCKET: undefined }, 'TICKSTREAM_DLQ_BUCKET'],
    [{ TICKSTREAM_DLQ_BUCKET: ' ' }, 'TICKSTREAM_DLQ_BUCKET'],
    [{ TICKSTREAM_TICKS_TTL_DAYS: '-1' }, 'TICKSTREAM_TICKS_TTL_DAYS'],
    [{ TICKSTREAM_FIREHOSE_RECORD_BYTES: '2000000' }, 'TICKSTREAM_FIREHOSE_RECORD_BYTES'],
    [{ TICKSTREAM_TICKS_HISTORY: 'sometimes' }, 'TICKSTREAM_TICKS_HISTORY'],
  ])('rejects %j naming the variable', (bad, variable) => {
    let err: unknown;
    try {
      loadConsumerConfig({ ...aws, ...bad });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe(variable);
    expect((err as Error).message).toContain(variable);
  });

  it('local mode needs no AWS resources', () => {
    const c = loadConsumerConfig({ TICKSTREAM_MODE: 'local', TICKSTREAM_DATA_DIR: '/tmp/x', TICKSTREAM_STATUS_PORT: '4000' });
    expect(c.local).toEqual({ dataDir: '/tmp/x', statusPort: 4000, lakeFlushMs: 5000 });
    expect(c.aws).toBeUndefined();
  });
});
