/**
 * AWS alerts: dedup ledger in the DynamoDB `alerts` table (pk `alert_id`),
 * delivery by SNS Publish with message attributes `symbol` and `type` (String)
 * so subscriptions can filter.
 *
 * Items in the alerts table:
 * - `alert_id` = the alert's deterministic id: symbol, type, ts, price,
 *   message, `status` PENDING | PUBLISHED, `message_id` and `day` (the UTC
 *   date of ts, the key of the dashboard's index ALERTS_BY_DAY in
 *   shared/tables.ts) once published;
 * - `alert_id` = `cooldown#<symbol>`: `last_ts` of the symbol's last published
 *   alert (alert ids are hashes, so the prefix cannot collide).
 * See alert-gate.ts for why this replays deterministically.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import { PublishCommand } from '@aws-sdk/client-sns';
import { AlertPublishError, isConditionalCheckFailed } from '../errors';
import { describeError } from '../../shared/describe-error';
import { ALERTS_BY_DAY, alertDay } from '../../shared/tables';
import type { Alert, AlertPublisher, PublishResult } from '../ports';
import type { AlertLedger } from './alert-gate';
import { DedupCooldownPublisher } from './alert-gate';

export interface SnsAlertPublisherOptions {
  topicArn: string;
  alertsTableName: string;
  /** Per-symbol cooldown in tick time (ms). 0 disables it. */
  cooldownMs: number;
}

const COOLDOWN_PREFIX = 'cooldown#';

/** SNS subjects are limited to 100 printable ASCII characters. */
function subjectOf(alert: Alert): string {
  return `tickstream ${alert.type} ${alert.symbol}`.replace(/[^\x20-\x7e]/g, '?').slice(0, 100);
}

class DynamoSnsLedger implements AlertLedger {
  constructor(
    private readonly ddb: DynamoDBClient,
    private readonly sns: SNSClient,
    private readonly opts: SnsAlertPublisherOptions,
  ) {}

  private fail(what: string, err: unknown): never {
    throw new AlertPublishError(`${what}: ${describeError(err)}`, { cause: err });
  }

  async lastPublishedTs(symbol: string): Promise<number | undefined> {
    try {
      const res = await this.ddb.send(
        new GetItemCommand({ TableName: this.opts.alertsTableName, Key: { alert_id: { S: COOLDOWN_PREFIX + symbol } }, ConsistentRead: true }),
      );
      const n = res.Item?.last_ts?.N;
      return n === undefined ? undefined : Number(n);
    } catch (err) {
      return this.fail(`reading the cooldown of ${symbol}`, err);
    }
  }

  async wasPublished(id: string): Promise<boolean> {
    try {
      const res = await this.ddb.send(new GetItemCommand({ TableName: this.opts.alertsTableName, Key: { alert_id: { S: id } }, ConsistentRead: true }));
      return res.Item?.status?.S === 'PUBLISHED';
    } catch (err) {
      return this.fail(`reading alert ${id}`, err);
    }
  }

  async claim(alert: Alert): Promise<'claimed' | 'duplicate'> {
    try {
      await this.ddb.send(
        new PutItemCommand({
          TableName: this.opts.alertsTableName,
          Item: {
            alert_id: { S: alert.id },
            symbol: { S: alert.symbol },
            type: { S: alert.type },
            ts: { N: String(alert.ts) },
            price: { N: String(alert.price) },
            message: { S: alert.message },
            status: { S: 'PENDING' },
          },
          // The id is the dedup key; a PENDING item is a claim whose delivery
          // never completed (crash), so it may be claimed again.
          ConditionExpression: 'attribute_not_exists(alert_id) OR #status = :pending',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':pending': { S: 'PENDING' } },
        }),
      );
      return 'claimed';
    } catch (err) {
      if (isConditionalCheckFailed(err)) return 'duplicate';
      return this.fail(`claiming alert ${alert.id}`, err);
    }
  }

  async deliver(alert: Alert): Promise<string | undefined> {
    try {
      const res = await this.sns.send(
        new PublishCommand({
          TopicArn: this.opts.topicArn,
          Subject: subjectOf(alert),
          Message: alert.message,
          MessageAttributes: {
            symbol: { DataType: 'String', StringValue: alert.symbol },
            type: { DataType: 'String', StringValue: alert.type },
          },
        }),
      );
      return res.MessageId;
    } catch (err) {
      return this.fail(`publishing alert ${alert.id} to SNS`, err);
    }
  }

  async markPublished(alert: Alert, messageId: string | undefined): Promise<void> {
    try {
      // `day` here and not in claim: the index then lists what SNS carried,
      // never a claim whose delivery is under way or was cut by a crash.
      await this.ddb.send(
        new UpdateItemCommand({
          TableName: this.opts.alertsTableName,
          Key: { alert_id: { S: alert.id } },
          UpdateExpression: `SET #status = :published, #day = :day${messageId ? ', message_id = :mid' : ''}`,
          ExpressionAttributeNames: { '#status': 'status', '#day': ALERTS_BY_DAY.partitionKey.name },
          ExpressionAttributeValues: { ':published': { S: 'PUBLISHED' }, ':day': { S: alertDay(alert.ts) }, ...(messageId ? { ':mid': { S: messageId } } : {}) },
        }),
      );
    } catch (err) {
      this.fail(`marking alert ${alert.id} published`, err);
    }
  }

  async advance(symbol: string, ts: number): Promise<void> {
    try {
      await this.ddb.send(
        new PutItemCommand({
          TableName: this.opts.alertsTableName,
          Item: { alert_id: { S: COOLDOWN_PREFIX + symbol }, symbol: { S: symbol }, last_ts: { N: String(ts) } },
          ConditionExpression: 'attribute_not_exists(last_ts) OR last_ts < :ts',
          ExpressionAttributeValues: { ':ts': { N: String(ts) } },
        }),
      );
    } catch (err) {
      if (isConditionalCheckFailed(err)) return; // already at or past ts
      this.fail(`advancing the cooldown of ${symbol}`, err);
    }
  }
}

/** SNS publisher with dedup (conditional put before publish) and per-symbol cooldown. */
export class SnsAlertPublisher implements AlertPublisher {
  private readonly gate: DedupCooldownPublisher;

  constructor(ddb: DynamoDBClient, sns: SNSClient, opts: SnsAlertPublisherOptions) {
    this.gate = new DedupCooldownPublisher(new DynamoSnsLedger(ddb, sns, opts), opts.cooldownMs);
  }

  publish(alert: Alert): Promise<PublishResult> {
    return this.gate.publish(alert);
  }
}
