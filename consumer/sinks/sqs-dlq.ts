/**
 * AWS dead letters: one SQS message per letter, the DeadLetter JSON as the
 * body, and `shard_id`/`kind`/`reason` as message attributes for triage.
 *
 * Nothing is cut. A letter larger than a message may be (a 900 KB poison
 * record) is written whole to S3 first, under `dead-letters/` of the lake
 * bucket, and the message carries a pointer to it (consumer/dead-letters.ts
 * `planSqsMessage`). The object goes first, so a message never points at
 * nothing; its key depends only on the letter, so a retry rewrites the same
 * object.
 *
 * A replay dead-letters the same record again, and SQS standard queues are
 * at-least-once anyway: readers dedup on the letter's `id`.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { planSqsMessage } from '../dead-letters';
import { DeadLetterError } from '../errors';
import { describeError } from '../../shared/describe-error';
import type { DeadLetter, DeadLetterQueue } from '../ports';

export interface SqsDeadLetterQueueOptions {
  queueUrl: string;
  /** The lake bucket: letters too large for a message go under its `dead-letters/` prefix. */
  bucket: string;
}

export class SqsDeadLetterQueue implements DeadLetterQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly s3: S3Client,
    private readonly opts: SqsDeadLetterQueueOptions,
  ) {}

  async put(letter: DeadLetter): Promise<void> {
    const plan = planSqsMessage(letter, this.opts.bucket);
    if (plan.object !== undefined) {
      try {
        await this.s3.send(
          new PutObjectCommand({ Bucket: plan.object.bucket, Key: plan.object.key, Body: plan.object.body, ContentType: 'application/json' }),
        );
      } catch (err) {
        throw new DeadLetterError(`PutObject s3://${plan.object.bucket}/${plan.object.key} for an oversized dead letter failed: ${describeError(err)}`, {
          cause: err,
        });
      }
    }
    try {
      await this.sqs.send(new SendMessageCommand({ QueueUrl: this.opts.queueUrl, MessageBody: plan.body, MessageAttributes: plan.attributes }));
    } catch (err) {
      throw new DeadLetterError(`SendMessage to the dead-letter queue failed: ${describeError(err)}`, { cause: err });
    }
  }
}
