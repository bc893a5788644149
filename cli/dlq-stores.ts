/**
 * Where `npm run dlq` finds dead letters, and the Kinesis put it redrives
 * them with: the I/O behind the pure functions of consumer/dead-letters.ts.
 *
 * These live here rather than in consumer/ on purpose: everything under
 * consumer/ runs under the consumer's task role, which may send dead letters
 * but not receive, delete or redrive them (test/unit/infra/sdk-calls.test.ts
 * checks the role against the SDK calls consumer/ makes). Receiving,
 * deleting and redriving are an operator's actions, with the operator's
 * credentials.
 */
import { open, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import type { S3Client } from '@aws-sdk/client-s3';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { ChangeMessageVisibilityBatchCommand, DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import {
  DEAD_LETTERS_REDRIVEN_FILE,
  inDeadLetterOrder,
  inert,
  parseDeadLetterLines,
  parseRedrivenLines,
  parseSqsBody,
  pointerLocation,
  redrivenLine,
  resolvePointer,
  uniqueById,
  type PutRecordsFn,
} from '../consumer/dead-letters';
import { describeError } from '../shared/describe-error';
import type { DeadLetter } from '../consumer/ports';
import { DEAD_LETTERS_FILE } from '../consumer/sinks/local-files';

export interface Loaded {
  /** False when there is nothing to read at all (local: no dead-letters.jsonl). */
  exists: boolean;
  /** In dead-letter order, one per id. */
  letters: DeadLetter[];
  /** Ids already redriven (local mode; in SQS a redriven letter's message is gone). */
  redriven: ReadonlySet<string>;
  /** id → the S3 object the whole letter was read from (SQS pointers). */
  payloadS3: ReadonlyMap<string, string>;
  /** Entries that could not be read, as sentences for stderr (where and why, never their content). */
  problems: string[];
}

export interface DeadLetterStore {
  /** For messages: the file or the queue. */
  readonly where: string;
  load(): Promise<Loaded>;
  /** Called only for letters Kinesis acknowledged: local: record the ids; SQS: delete their messages. */
  markRedriven(ids: readonly string[]): Promise<void>;
  /** SQS: make every message load() received and markRedriven() did not delete visible again. */
  close(): Promise<void>;
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * `<dataDir>/dead-letters.jsonl`, read only. Redriven ids are appended to
 * `dead-letters.redriven.jsonl` instead, so the consumer appending to the
 * letters file at the same time never races with this tool.
 */
export class LocalDeadLetterStore implements DeadLetterStore {
  readonly where: string;
  private readonly redrivenFile: string;

  constructor(
    dataDir: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.where = path.join(dataDir, DEAD_LETTERS_FILE);
    this.redrivenFile = path.join(dataDir, DEAD_LETTERS_REDRIVEN_FILE);
  }

  async load(): Promise<Loaded> {
    const text = await readIfExists(this.where);
    if (text === undefined) return { exists: false, letters: [], redriven: new Set(), payloadS3: new Map(), problems: [] };
    const parsed = parseDeadLetterLines(text);
    const problems = parsed.problems.map((p) => `skipped ${this.where} ${p}`);
    if (parsed.tornTail) problems.push(`${this.where}: the last line is incomplete (being written?), skipped`);
    return {
      exists: true,
      letters: uniqueById(inDeadLetterOrder(parsed.items)),
      redriven: parseRedrivenLines((await readIfExists(this.redrivenFile)) ?? ''),
      payloadS3: new Map(),
      problems,
    };
  }

  async markRedriven(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const at = this.now();
    // One write on an O_APPEND descriptor, then fdatasync: a crash leaves at most a torn last line, which readers skip.
    const fh = await open(this.redrivenFile, 'a');
    try {
      await fh.write(ids.map((id) => `${redrivenLine(id, at)}\n`).join(''));
      await fh.datasync();
    } finally {
      await fh.close();
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

export interface SqsDeadLetterStoreOptions {
  queueUrl: string;
  /** The only bucket a pointer may send us to (see pointerLocation). */
  bucket: string;
  /** How long received messages stay hidden from other readers while we hold them. */
  visibilitySeconds: number;
  /** Long-poll wait; an empty answer after it means the queue has nothing more for us. Default 1. */
  waitSeconds?: number;
  /** Stop receiving after this many messages. Default 10,000. */
  maxMessages?: number;
  progress?: (line: string) => void;
}

/**
 * The dead-letter queue, received without consuming it: every message is
 * received with a visibility timeout, held while the command runs, and made
 * visible again by close() (ChangeMessageVisibility 0), except those whose
 * letters were redriven, which are deleted after Kinesis acknowledged them.
 */
export class SqsDeadLetterStore implements DeadLetterStore {
  readonly where: string;
  /** MessageId → the receipt handle we hold it by. */
  private readonly held = new Map<string, string>();
  /** Letter id → the MessageIds carrying it (at-least-once: maybe several). */
  private readonly messagesOf = new Map<string, string[]>();

  constructor(
    private readonly sqs: SQSClient,
    private readonly s3: S3Client,
    private readonly opts: SqsDeadLetterStoreOptions,
  ) {
    this.where = opts.queueUrl;
  }

  async load(): Promise<Loaded> {
    const progress = this.opts.progress ?? (() => undefined);
    const max = this.opts.maxMessages ?? 10_000;
    const bodies = new Map<string, string>();
    progress(`receiving from ${this.opts.queueUrl} (held for ${this.opts.visibilitySeconds} s, released when done)`);
    for (;;) {
      const r = await this.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.opts.queueUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: this.opts.visibilitySeconds,
          WaitTimeSeconds: this.opts.waitSeconds ?? 1,
        }),
      );
      const got = r.Messages ?? [];
      if (got.length === 0) break;
      for (const m of got) {
        if (m.MessageId === undefined || m.ReceiptHandle === undefined) continue;
        this.held.set(m.MessageId, m.ReceiptHandle);
        bodies.set(m.MessageId, m.Body ?? '');
      }
      if (bodies.size >= max) {
        progress(`stopped receiving at ${bodies.size} messages; the rest stay in the queue`);
        break;
      }
    }
    progress(`received ${bodies.size} message(s)`);
    const letters: DeadLetter[] = [];
    const payloadS3 = new Map<string, string>();
    const problems: string[] = [];
    for (const [messageId, body] of bodies) {
      const parsed = parseSqsBody(body);
      let letter: DeadLetter;
      if (parsed.kind === 'invalid') {
        problems.push(`skipped message ${messageId}: ${parsed.reason}`);
        continue;
      } else if (parsed.kind === 'pointer') {
        const loc = pointerLocation(parsed.pointer, this.opts.bucket);
        if (!loc.ok) {
          problems.push(`skipped message ${messageId}: ${loc.reason}`);
          continue;
        }
        let text: string;
        try {
          const obj = await this.s3.send(new GetObjectCommand({ Bucket: loc.value.bucket, Key: loc.value.key }));
          text = (await obj.Body?.transformToString('utf8')) ?? '';
        } catch (err) {
          problems.push(`skipped message ${messageId}: reading ${inert(parsed.pointer.payload_s3)} failed: ${describeError(err)}`);
          continue;
        }
        const resolved = resolvePointer(parsed.pointer, text);
        if (!resolved.ok) {
          problems.push(`skipped message ${messageId}: ${resolved.reason}`);
          continue;
        }
        letter = resolved.value;
        payloadS3.set(letter.id, parsed.pointer.payload_s3);
      } else {
        letter = parsed.letter;
      }
      letters.push(letter);
      this.messagesOf.set(letter.id, [...(this.messagesOf.get(letter.id) ?? []), messageId]);
    }
    return { exists: true, letters: uniqueById(inDeadLetterOrder(letters)), redriven: new Set(), payloadS3, problems };
  }

  async markRedriven(ids: readonly string[]): Promise<void> {
    const messages = ids.flatMap((id) => this.messagesOf.get(id) ?? []).filter((m) => this.held.has(m));
    const failed: string[] = [];
    for (let i = 0; i < messages.length; i += 10) {
      const chunk = messages.slice(i, i + 10);
      const r = await this.sqs.send(
        new DeleteMessageBatchCommand({ QueueUrl: this.opts.queueUrl, Entries: chunk.map((m, j) => ({ Id: String(j), ReceiptHandle: this.held.get(m) })) }),
      );
      const bad = new Set((r.Failed ?? []).map((f) => Number(f.Id)));
      chunk.forEach((m, j) => {
        if (!bad.has(j)) this.held.delete(m);
      });
      for (const f of r.Failed ?? []) failed.push(`${chunk[Number(f.Id)] ?? '?'} (${f.Code ?? 'error'}: ${f.Message ?? ''})`);
    }
    if (failed.length > 0) throw new Error(`could not delete message(s) ${failed.join(', ')}`);
  }

  async close(): Promise<void> {
    const handles = [...this.held.entries()];
    this.held.clear();
    const failed: string[] = [];
    for (let i = 0; i < handles.length; i += 10) {
      const chunk = handles.slice(i, i + 10);
      try {
        const r = await this.sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: this.opts.queueUrl,
            Entries: chunk.map(([, handle], j) => ({ Id: String(j), ReceiptHandle: handle, VisibilityTimeout: 0 })),
          }),
        );
        for (const f of r.Failed ?? []) failed.push(chunk[Number(f.Id)]?.[0] ?? '?');
      } catch (err) {
        failed.push(`${chunk.map(([m]) => m).join(', ')} (${describeError(err)})`);
      }
    }
    if (failed.length > 0) {
      (this.opts.progress ?? (() => undefined))(
        `could not release message(s) ${failed.join(', ')}: they become visible again after ${this.opts.visibilitySeconds} s`,
      );
    }
  }
}

/** PutRecords on the stream, one outcome per record; a failed call rejects with a secret-free message. */
export function kinesisPut(kinesis: KinesisClient, streamName: string): PutRecordsFn {
  return async (records) => {
    let r;
    try {
      r = await kinesis.send(new PutRecordsCommand({ StreamName: streamName, Records: records.map((x) => ({ PartitionKey: x.partitionKey, Data: x.data })) }));
    } catch (err) {
      throw new Error(`PutRecords to ${streamName} failed: ${describeError(err)}`, { cause: err });
    }
    return records.map((_, i) => {
      const e = r.Records?.[i];
      if (e !== undefined && e.ErrorCode === undefined && e.ShardId !== undefined && e.SequenceNumber !== undefined) {
        return { ok: true as const, shardId: e.ShardId, sequenceNumber: e.SequenceNumber };
      }
      return { ok: false as const, error: e?.ErrorCode !== undefined ? `${e.ErrorCode}: ${e.ErrorMessage ?? ''}` : 'no result for this record' };
    });
  };
}
