/**
 * `npm run dlq` against real local servers: moto (SQS + S3) for AWS mode,
 * kinesis-local for redrive, files for local mode. The dead letters are
 * written by the consumer's own adapters (SqsDeadLetterQueue,
 * LocalDeadLetterQueue), so this is the round trip an operator makes.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { main } from '../../../cli/dlq';
import { DEAD_LETTERS_REDRIVEN_FILE, SQS_MAX_MESSAGE_BYTES, urlSafeId } from '../../../consumer/dead-letters';
import type { DeadLetter } from '../../../consumer/ports';
import { LocalDeadLetterQueue } from '../../../consumer/sinks/local-files';
import { SqsDeadLetterQueue } from '../../../consumer/sinks/sqs-dlq';
import { startKinesisLocal, type Emulator } from '../../../local/emulators';
import { motoClientConfig, startMoto, type MotoServer } from '../../../local/moto';
import { createStream, LOCAL_REGION } from '../../../local/stack';
import { kinesisClient } from '../../../shared/aws';
import { encodeRowRedrive } from '../../../shared/enriched';
import { deadLetter, tick } from '../../unit/consumer/factories';
import { tmpDir } from '../../helpers/wait';

const ROOT = path.resolve(__dirname, '../../..');
const CLI = path.join(ROOT, 'dist', 'cli', 'dlq.js');

let moto: MotoServer;
let kinesisLocal: Emulator;
let kinesis: KinesisClient;
let sqs: SQSClient;
let s3: S3Client;

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (npm run test:integration does)`);
  const logDir = tmpDir('dlq-emulators');
  [moto, kinesisLocal] = await Promise.all([startMoto(), startKinesisLocal({ logDir })]);
  const cfg = motoClientConfig(moto.endpoint);
  sqs = new SQSClient(cfg);
  s3 = new S3Client({ ...cfg, forcePathStyle: true });
  kinesis = kinesisClient({ region: LOCAL_REGION, endpoint: kinesisLocal.endpoint });
}, 120_000);

afterAll(async () => {
  sqs?.destroy();
  s3?.destroy();
  kinesis?.destroy();
  await Promise.all([moto?.stop(), kinesisLocal?.stop()]);
});

interface StreamRecord {
  partitionKey: string;
  data: Buffer;
}

/** Every record on the stream, per partition key, in stream order. */
async function readStream(stream: string): Promise<Map<string, Buffer[]>> {
  const out = new Map<string, Buffer[]>();
  const shards = (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
  for (const shard of shards) {
    let it = (await kinesis.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    for (let empty = 0; it !== undefined && empty < 2; ) {
      const r = await kinesis.send(new GetRecordsCommand({ ShardIterator: it, Limit: 1000 }));
      const records: StreamRecord[] = (r.Records ?? []).map((x) => ({ partitionKey: x.PartitionKey ?? '', data: Buffer.from(x.Data ?? new Uint8Array()) }));
      if (records.length === 0) empty++;
      for (const rec of records) out.set(rec.partitionKey, [...(out.get(rec.partitionKey) ?? []), rec.data]);
      it = r.NextShardIterator;
    }
  }
  return out;
}

async function run(argv: string[], env: Record<string, string>): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const sink = (add: (s: string) => void): NodeJS.WritableStream => ({ write: (c: string) => (add(c), true) }) as unknown as NodeJS.WritableStream;
  const code = await main(argv, env, { out: sink((s) => (out += s)), err: sink((s) => (err += s)), columns: 160, cwd: ROOT });
  return { code, out, err };
}

/** The CLI as an operator runs it: `node dist/cli/dlq.js`, its exit code and its two streams. */
async function runChild(argv: string[], env: Record<string, string>): Promise<{ code: number; out: string; err: string }> {
  try {
    const r = await promisify(execFile)(process.execPath, [CLI, ...argv], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    if (typeof x.code !== 'number') throw e;
    return { code: x.code, out: x.stdout ?? '', err: x.stderr ?? '' };
  }
}

/** Random bytes: not UTF-8, so `show` must give them back as base64. */
function randomBytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

describe('AWS mode: SQS with S3 for oversized letters', () => {
  const bucket = 'tickstream-lake';
  const huge = randomBytes(900 * 1024, 7);
  const hugeLetter = deadLetter({ sequence_number: '900', id: 'shardId-000000000001/900', partition_key: 'NVDA', data_base64: huge.toString('base64'), reason: 'payload too large: 921600 bytes > 16384' });
  const tickJson = Buffer.from(JSON.stringify({ v: 1, symbol: 'AAPL', ts: 1709305200000, price: 101.5 }));
  const tickLetter = deadLetter({ sequence_number: '901', id: 'shardId-000000000001/901/0', kind: 'tick', partition_key: 'AAPL', data_base64: tickJson.toString('base64'), reason: 'analysis failed: RangeError', at: '2024-03-01T15:00:01.000Z' });
  let queueUrl: string;
  let env: Record<string, string>;

  const counts = async (): Promise<{ visible: number; held: number }> => {
    const a = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }))).Attributes ?? {};
    return { visible: Number(a.ApproximateNumberOfMessages), held: Number(a.ApproximateNumberOfMessagesNotVisible) };
  };

  beforeAll(async () => {
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'tickstream-dead-letters' }))).QueueUrl ?? '';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const dlq = new SqsDeadLetterQueue(sqs, s3, { queueUrl, bucket });
    await dlq.put(hugeLetter);
    await dlq.put(tickLetter);
    env = {
      TICKSTREAM_MODE: 'aws',
      AWS_REGION: LOCAL_REGION,
      TICKSTREAM_DLQ_URL: queueUrl,
      TICKSTREAM_DLQ_BUCKET: bucket,
      TICKSTREAM_AWS_ENDPOINT: moto.endpoint,
      TICKSTREAM_KINESIS_ENDPOINT: kinesisLocal.endpoint,
    };
  });

  it('the 900 KB letter is an S3 object and a pointer message; the small one a whole message', async () => {
    const objects = (await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? [];
    const key = `dead-letters/dt=2024-03-01/${urlSafeId(hugeLetter.id)}.json`;
    expect(objects.map((o) => o.Key)).toEqual([key]);
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 0, WaitTimeSeconds: 1 }));
    const bodies = (r.Messages ?? []).map((m) => m.Body ?? '');
    expect(bodies).toHaveLength(2);
    for (const b of bodies) expect(Buffer.byteLength(b)).toBeLessThan(SQS_MAX_MESSAGE_BYTES);
    const pointer = bodies.map((b) => JSON.parse(b) as Record<string, unknown>).find((b) => b.id === hugeLetter.id);
    expect(pointer).toMatchObject({ payload_s3: `s3://${bucket}/${key}`, data_bytes: huge.length, reason: hugeLetter.reason, partition_key: 'NVDA' });
    expect(pointer).not.toHaveProperty('data_base64');
  });

  it('list and show give the letters back whole (the payload byte for byte) and consume nothing', async () => {
    const listed = await run(['list', '--format', 'json'], env);
    expect(listed.code).toBe(0);
    const doc = JSON.parse(listed.out) as { letters: { id: string; kind: string; partition_key: string }[]; summary: { by_kind: Record<string, number> } };
    expect(doc.letters.map((l) => [l.id, l.kind, l.partition_key])).toEqual([
      [hugeLetter.id, 'record', 'NVDA'],
      [tickLetter.id, 'tick', 'AAPL'],
    ]);
    expect(doc.summary.by_kind).toEqual({ record: 1, tick: 1 });
    expect(listed.err).toContain('received 2 message(s)');

    const shown = await run(['show', hugeLetter.id, '--format', 'json'], env);
    expect(shown.code).toBe(0);
    const back = JSON.parse(shown.out) as DeadLetter;
    expect(back).toEqual(hugeLetter);
    expect(Buffer.from(back.data_base64, 'base64').equals(huge)).toBe(true);

    const text = await run(['show', hugeLetter.id], env);
    expect(text.out).toContain(`stored in:     s3://${bucket}/dead-letters/dt=2024-03-01/`);
    expect(text.out).toContain(`payload:       ${huge.length} bytes, base64 (not UTF-8 JSON)\n${huge.toString('base64')}\n`);
    expect((await run(['show', tickLetter.id], env)).out).toContain('"symbol": "AAPL"');

    // Released, not consumed: both messages are visible again at once.
    expect(await counts()).toEqual({ visible: 2, held: 0 });
  });

  it('a redrive Kinesis refuses deletes nothing', async () => {
    const r = await run(['redrive', hugeLetter.id, '--stream', 'no-such-stream'], env);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`FAILED ${hugeLetter.id}: PutRecords to no-such-stream failed: ResourceNotFoundException`);
    expect(r.out).toContain('redriven 0 of 1');
    expect(await counts()).toEqual({ visible: 2, held: 0 });
  });

  it('redrive puts the exact bytes under the partition key, then deletes the message', async () => {
    await createStream(kinesis, 'ticks-aws', 2);
    const r = await runChild(['redrive', hugeLetter.id, tickLetter.id, '--stream', 'ticks-aws'], env);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`^redriven ${hugeLetter.id} \\(record, key NVDA\\) -> shardId-\\d+ \\d+$`, 'm'));
    expect(r.out).toContain('redriven 2 of 2 to ticks-aws');
    const onStream = await readStream('ticks-aws');
    expect([...onStream.keys()].sort()).toEqual(['AAPL', 'NVDA']);
    expect(onStream.get('NVDA')?.map((b) => b.equals(huge))).toEqual([true]);
    expect(onStream.get('AAPL')?.map((b) => b.toString())).toEqual([tickJson.toString()]);
    expect(await counts()).toEqual({ visible: 0, held: 0 });
    const after = await run(['list'], env);
    expect(after.out).toBe('no dead letters\n');
  });
});

describe('local mode: dead-letters.jsonl', () => {
  const dataDir = tmpDir('dlq-local');
  const row = tick({ symbol: 'MSFT', price: 410.25 });
  const letters: DeadLetter[] = [
    deadLetter({ sequence_number: '1', id: 'shardId-000000000000/1', data_base64: Buffer.from([0x7b, 0x00, 0xff]).toString('base64'), partition_key: 'AAPL', at: '2024-03-01T15:00:00.000Z' }),
    deadLetter({ sequence_number: '2', id: 'shardId-000000000000/2/0', kind: 'tick', data_base64: Buffer.from('{"v":1,"symbol":"AAPL"}').toString('base64'), partition_key: 'AAPL', reason: 'analysis failed', at: '2024-03-01T15:00:01.000Z' }),
    deadLetter({ sequence_number: '3', id: 'shardId-000000000000/3/0', kind: 'row', data_base64: Buffer.from('{"v":1,"symbol":"MSFT"}').toString('base64'), partition_key: 'MSFT', row, held_by: ['dynamodb-ticks'], reason: 'lake: value out of range', at: '2024-03-01T15:00:02.000Z' }),
    deadLetter({ sequence_number: '4', id: 'shardId-000000000000/4', data_base64: Buffer.from('not json').toString('base64'), partition_key: 'AAPL', at: '2024-03-01T15:00:03.000Z' }),
  ];
  const env = (): Record<string, string> => ({ TICKSTREAM_DATA_DIR: dataDir });

  beforeAll(async () => {
    const q = new LocalDeadLetterQueue({ dataDir });
    for (const l of letters) await q.put(l);
    await q.close();
    await createStream(kinesis, 'ticks-local', 2);
  });

  it('the CLI as a child process: exit codes, results on stdout, progress on stderr', async () => {
    const listed = await runChild(['list'], env());
    expect(listed.code).toBe(0);
    expect(listed.out).toContain('4 dead letters\nby kind:   record 2, row 1, tick 1\n');
    expect(listed.err).toContain(`dlq: reading ${path.join(dataDir, 'dead-letters.jsonl')}`);
    const unknown = await runChild(['show', 'shardId-000000000000/99'], env());
    expect({ code: unknown.code, out: unknown.out }).toEqual({ code: 1, out: '' });
    expect(unknown.err).toContain('unknown dead letter id shardId-000000000000/99');
    const bad = await runChild(['list', '--kind', 'poison'], env());
    expect(bad.code).toBe(2);
    expect(bad.out).toBe('');
    expect(bad.err).toContain('usage: npm run dlq');
    const none = await runChild(['list', '--data', tmpDir('dlq-empty')], {});
    expect(none.code).toBe(0);
    expect(none.out).toMatch(/^no dead letters: .*dead-letters\.jsonl does not exist\n$/);
  });

  it('a redrive Kinesis refuses records nothing as redriven', async () => {
    const r = await run(['redrive', '--all', '--stream', 'no-such-stream', '--kinesis-endpoint', kinesisLocal.endpoint], env());
    expect(r.code).toBe(1);
    expect(existsSync(path.join(dataDir, DEAD_LETTERS_REDRIVEN_FILE))).toBe(false);
  });

  it('redrive --all puts each key back in order with the exact bytes (the row envelope for a row), records the ids, and list then hides them', async () => {
    const r = await runChild(['redrive', '--all', '--stream', 'ticks-local', '--kinesis-endpoint', kinesisLocal.endpoint], env());
    expect(r.code).toBe(0);
    expect(r.out).toContain('redriven 4 of 4 to ticks-local');
    const onStream = await readStream('ticks-local');
    expect(onStream.get('AAPL')?.map((b) => b.toString('base64'))).toEqual([letters[0], letters[1], letters[3]].map((l) => l?.data_base64));
    expect(onStream.get('MSFT')).toEqual([encodeRowRedrive(row)]);
    const redriven = (await readFile(path.join(dataDir, DEAD_LETTERS_REDRIVEN_FILE), 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id);
    expect(redriven.sort()).toEqual(letters.map((l) => l.id).sort());

    const after = await runChild(['list'], env());
    expect(after.out).toBe('no dead letters (4 redriven not shown; --all shows them)\n');
    expect((await runChild(['redrive', '--all', '--kinesis-endpoint', kinesisLocal.endpoint, '--stream', 'ticks-local'], env())).out).toBe('nothing to redrive\n');
    // An explicit id is put again: redrive is safe to repeat.
    const again = await run(['redrive', letters[2]?.id ?? '', '--stream', 'ticks-local', '--kinesis-endpoint', kinesisLocal.endpoint], env());
    expect(again.code).toBe(0);
    expect((await readStream('ticks-local')).get('MSFT')).toEqual([encodeRowRedrive(row), encodeRowRedrive(row)]);
  });
});
