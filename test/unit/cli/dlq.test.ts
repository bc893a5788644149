/**
 * `npm run dlq` in-process against local files (no network): argument and
 * environment handling, exit codes, what goes to stdout and to stderr.
 * Redrive against a real Kinesis emulator and the SQS/S3 mode against moto
 * are in test/integration/cli/dlq.test.ts.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LocalDeadLetterStore } from '../../../cli/dlq-stores';
import { loadDlqCliConfig, main, parseArgs, UsageError } from '../../../cli/dlq';
import { DEAD_LETTERS_REDRIVEN_FILE } from '../../../consumer/dead-letters';
import type { DeadLetter } from '../../../consumer/ports';
import { DEAD_LETTERS_FILE } from '../../../consumer/sinks/local-files';
import { ConfigError } from '../../../shared/runtime/config';
import { deadLetter } from '../consumer/factories';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tickstream-dlq-cli-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const letter = (seq: number, o: Partial<DeadLetter> = {}): DeadLetter => deadLetter({ sequence_number: String(seq), id: `shardId-000000000001/${seq}`, ...o });

async function writeLetters(...ls: DeadLetter[]): Promise<void> {
  await writeFile(path.join(dir, DEAD_LETTERS_FILE), ls.map((l) => `${JSON.stringify(l)}\n`).join(''));
}

async function run(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const sink = (add: (s: string) => void): NodeJS.WritableStream => ({ write: (c: string) => (add(c), true) }) as unknown as NodeJS.WritableStream;
  const code = await main(argv, { TICKSTREAM_DATA_DIR: dir, ...env }, { out: sink((s) => (out += s)), err: sink((s) => (err += s)), columns: 200, cwd: dir });
  return { code, out, err };
}

describe('arguments', () => {
  it.each([
    [[], ''],
    [['purge'], "unknown command 'purge'"],
    [['list', '--bogus'], 'list takes no option --bogus'],
    [['list', 'extra'], 'list takes no arguments'],
    [['list', '--kind', 'poison'], '--kind must be one of record, tick, row, crash'],
    [['list', '--format', 'csv'], '--format must be table or json'],
    [['list', '--symbol'], '--symbol needs a value'],
    [['show'], 'show takes exactly one id'],
    [['show', 'a', 'b'], 'show takes exactly one id'],
    [['show', 'a', '--kind', 'row'], 'show takes no option --kind'],
    [['redrive'], 'redrive takes either ids or --all'],
    [['redrive', 'a', '--all'], 'redrive takes either ids or --all'],
    [['redrive', 'a', '--kind', 'row'], '--kind and --symbol go with --all'],
    [['list', '--visibility', '0'], '--visibility must be a number of seconds'],
    [['list', '--all', '--all'], '--all given twice'],
  ])('%j is a usage error: %s', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(UsageError);
    expect(() => parseArgs(argv)).toThrow(message);
  });

  it('parses each command', () => {
    expect(parseArgs(['list', '--kind', 'row', '--symbol', 'aapl', '--format', 'json'])).toEqual({
      command: 'list',
      filter: { kind: 'row', symbol: 'aapl', includeRedriven: false },
      format: 'json',
      source: {},
    });
    expect(parseArgs(['show', 'x/1', '--format', 'json', '--data', 'd'])).toEqual({ command: 'show', id: 'x/1', format: 'json', source: { data: 'd' } });
    expect(parseArgs(['redrive', '--all', '--kind', 'tick', '--stream', 's', '--kinesis-endpoint', 'http://127.0.0.1:1'])).toEqual({
      command: 'redrive',
      ids: [],
      all: true,
      filter: { kind: 'tick' },
      stream: 's',
      kinesisEndpoint: 'http://127.0.0.1:1',
      source: {},
    });
  });

  it('AWS mode needs the queue and the bucket, named when missing', () => {
    expect(() => loadDlqCliConfig({ TICKSTREAM_MODE: 'aws', TICKSTREAM_DLQ_URL: 'https://sqs/q' })).toThrow(ConfigError);
    expect(() => loadDlqCliConfig({ TICKSTREAM_MODE: 'aws', TICKSTREAM_DLQ_URL: 'https://sqs/q' })).toThrow('TICKSTREAM_DLQ_BUCKET');
    expect(loadDlqCliConfig({}).mode).toBe('local');
  });

  it('bad usage exits 2 with the reason and the usage on stderr, nothing on stdout', async () => {
    const r = await run(['list', '--kind', 'x']);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^--kind must be one of .*\nusage: npm run dlq -- <command> \[options\]/);
    expect((await run(['list', '--endpoint', 'http://127.0.0.1:1'])).err).toContain('--endpoint is for TICKSTREAM_MODE=aws');
  });

  it('a bad variable is a configuration error: exit 78 naming it, no usage text', async () => {
    const aws = await run(['list'], { TICKSTREAM_MODE: 'aws', TICKSTREAM_DLQ_URL: 'https://sqs/q' });
    expect({ code: aws.code, out: aws.out }).toEqual({ code: 78, out: '' });
    expect(aws.err).toBe('dlq: invalid configuration: TICKSTREAM_DLQ_BUCKET: expected a value (required and not set)\n');
  });

  it('a local redrive without a Kinesis endpoint stops before reading anything', async () => {
    const r = await run(['redrive', '--all']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('a local redrive needs --kinesis-endpoint or $TICKSTREAM_KINESIS_ENDPOINT');
    expect(r.err).not.toContain('reading');
  });
});

describe('local dead letters', () => {
  it('no file: says there are no dead letters, exit 0', async () => {
    const r = await run(['list']);
    expect({ code: r.code, out: r.out }).toEqual({ code: 0, out: `no dead letters: ${path.join(dir, DEAD_LETTERS_FILE)} does not exist\n` });
    expect(r.err).toContain('dlq: reading');
    const json = await run(['list', '--format', 'json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out)).toEqual({ letters: [], summary: { total: 0, by_kind: {}, by_reason: {}, redriven_hidden: 0 } });
    expect((await run(['redrive', '--all', '--kinesis-endpoint', 'http://127.0.0.1:9'])).out).toContain('no dead letters');
  });

  it('lists, filters and shows; an unknown id exits 1 naming it', async () => {
    await writeLetters(letter(1), letter(2, { kind: 'tick', partition_key: 'MSFT', reason: 'analysis failed: \x1b]8;;http://evil\x07click\x1b]8;;\x07' }));
    const all = await run(['list']);
    expect(all.code).toBe(0);
    expect(all.out.split('\n').filter((l) => l.startsWith('shardId-'))).toHaveLength(2);
    expect(all.out).toContain('analysis failed: \\x1b]8;;http://evil\\x07click');
    expect(all.out).not.toContain('\x1b');
    const msft = await run(['list', '--symbol', 'msft', '--format', 'json']);
    expect((JSON.parse(msft.out) as { letters: { id: string }[] }).letters.map((l) => l.id)).toEqual(['shardId-000000000001/2']);
    const shown = await run(['show', 'shardId-000000000001/1', '--format', 'json']);
    expect(JSON.parse(shown.out)).toEqual(letter(1));
    const unknown = await run(['show', 'shardId-000000000001/99']);
    expect(unknown.code).toBe(1);
    expect(unknown.out).toBe('');
    expect(unknown.err).toContain('unknown dead letter id shardId-000000000001/99');
  });

  it('skips a torn last line with a warning on stderr', async () => {
    await writeFile(path.join(dir, DEAD_LETTERS_FILE), `${JSON.stringify(letter(1))}\n${JSON.stringify(letter(2)).slice(0, 30)}`);
    const r = await run(['list', '--format', 'json']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as { letters: unknown[] }).letters).toHaveLength(1);
    expect(r.err).toContain('the last line is incomplete');
  });

  it('hides redriven ids unless --all; the redriven file is append-only', async () => {
    await writeLetters(letter(1), letter(2), letter(3));
    const store = new LocalDeadLetterStore(dir, () => new Date('2024-03-05T00:00:00.000Z'));
    await store.markRedriven(['shardId-000000000001/1']);
    await store.markRedriven(['shardId-000000000001/3']);
    expect(await readFile(path.join(dir, DEAD_LETTERS_REDRIVEN_FILE), 'utf8')).toBe(
      '{"id":"shardId-000000000001/1","at":"2024-03-05T00:00:00.000Z"}\n{"id":"shardId-000000000001/3","at":"2024-03-05T00:00:00.000Z"}\n',
    );
    const r = await run(['list', '--format', 'json']);
    const doc = JSON.parse(r.out) as { letters: { id: string }[]; summary: { redriven_hidden: number } };
    expect(doc.letters.map((l) => l.id)).toEqual(['shardId-000000000001/2']);
    expect(doc.summary.redriven_hidden).toBe(2);
    expect((await run(['list'])).out).toContain('1 dead letter (2 redriven not shown; --all shows them)');
    const all = await run(['list', '--all']);
    expect(all.out).toContain('shardId-000000000001/1 *');
    expect(all.out).toContain('3 dead letters');
    // The letters file itself is never written.
    expect((await readFile(path.join(dir, DEAD_LETTERS_FILE), 'utf8')).split('\n')).toHaveLength(4);
  });
});
