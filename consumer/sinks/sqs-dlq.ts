/**
 * AWS dead letters: one SQS message per bad record, the DeadLetter JSON as
 * the body, and `shard_id`/`reason` as message attributes for triage.
 *
 * A replay dead-letters the same record again: SQS standard queues are
 * at-least-once anyway, so a reader dedups on (shard_id, sequence_number).
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { DeadLetterError, describeError } from '../errors';
import type { DeadLetter, DeadLetterQueue } from '../ports';

/** SQS's message size limit is 256 KiB; a record can be up to 1 MiB. */
export const SQS_MAX_BODY_BYTES = 256 * 1024;

export interface SqsDeadLetterQueueOptions {
  queueUrl: string;
}

export class SqsDeadLetterQueue implements DeadLetterQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly opts: SqsDeadLetterQueueOptions,
  ) {}

  async put(letter: DeadLetter): Promise<void> {
    try {
      await this.client.send(
        new SendMessageCommand({
          QueueUrl: this.opts.queueUrl,
          MessageBody: bodyOf(letter),
          MessageAttributes: {
            shard_id: { DataType: 'String', StringValue: letter.shard_id },
            // Attribute values count toward the size limit too: keep it short.
            reason: { DataType: 'String', StringValue: letter.reason.slice(0, 256) || '(none)' },
          },
        }),
      );
    } catch (err) {
      throw new DeadLetterError(`SendMessage to the dead-letter queue failed: ${describeError(err)}`, { cause: err });
    }
  }
}

/**
 * The letter as JSON, with the raw data cut to fit SQS's limit (a 900 KB
 * poison record is exactly what ends up here). `data_truncated` and
 * `data_bytes` say so; the reason and the coordinates are always kept, and
 * the full record stays in the stream for its retention period.
 */
export function bodyOf(letter: DeadLetter): string {
  const full = JSON.stringify(letter);
  if (Buffer.byteLength(full) <= SQS_MAX_BODY_BYTES) return full;
  const dataBytes = Buffer.from(letter.data_base64, 'base64').length;
  const overhead = Buffer.byteLength(JSON.stringify({ ...letter, data_base64: '', data_truncated: true, data_bytes: dataBytes }));
  // base64 is ASCII: one byte per character; keep whole 4-char groups.
  const room = Math.max(0, SQS_MAX_BODY_BYTES - overhead - 64);
  const data = letter.data_base64.slice(0, room - (room % 4));
  return JSON.stringify({ ...letter, data_base64: data, data_truncated: true, data_bytes: dataBytes });
}
