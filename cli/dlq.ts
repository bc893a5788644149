/**
 * Dead letters, for the people who have to deal with them:
 *
 *   npm run dlq -- list | show <id> | redrive <id…> | redrive --all
 *
 * Arguments and environment in, text out: the reading, filtering and
 * formatting are consumer/dead-letters.ts, the I/O cli/dlq-stores.ts.
 * Results go to stdout, progress and warnings to stderr; exit 0 on success,
 * 1 on failure (an unknown id, a letter not redriven), 2 on bad usage.
 */
import path from 'node:path';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DEAD_LETTER_KINDS, formatList, formatShow, inert, isDeadLetterKind, redriveLetters, selectLetters, type LetterFilter, type ListFormat, type ShowFormat } from '../consumer/dead-letters';
import { describeError } from '../shared/describe-error';
import type { DeadLetter } from '../consumer/ports';
import { clientOptions, kinesisClient } from '../shared/aws';
import { ConfigError, EXIT_CONFIG, EXIT_USAGE, httpUrl, oneOf, optional, readSettings, text, withDefault, type Env, type Setting } from '../shared/runtime/config';
import { ENV } from '../shared/env-names';
import { s3Client } from '../shared/s3';
import { kinesisPut, LocalDeadLetterStore, SqsDeadLetterStore, type DeadLetterStore, type Loaded } from './dlq-stores';

/** The stream `npm start` creates (local/pipeline.ts). */
const LOCAL_STREAM = 'tickstream';
const DEFAULT_VISIBILITY_SECONDS = 300;

export const USAGE = `usage: npm run dlq -- <command> [options]
  list [--kind K] [--symbol S] [--all] [--format table|json]
      one line per dead letter (id, kind, partition key, at, reason), then counts by kind
      and by reason; --all also lists the letters already redriven (local mode)
  show <id> [--format text|json]
      the whole letter; its payload pretty-printed when it is UTF-8 JSON, else base64
  redrive <id>... | redrive --all [--kind K] [--symbol S]   [--stream <name>] [--kinesis-endpoint <url>]
      put letters back on the stream under their partition keys, in the order they were
      dead-lettered; then delete their SQS messages (aws) or record their ids in
      <dir>/dead-letters.redriven.jsonl (local). Safe to repeat.
where the letters are:
  local (default)      <dir>/dead-letters.jsonl, --data <dir> (default $${ENV.dataDir} or data)
  ${ENV.mode}=aws  the SQS queue $${ENV.deadLetterQueueUrl}, letters too large for a message in
                       s3://$${ENV.deadLetterBucket}/dead-letters/; --endpoint <url> (default
                       $${ENV.awsEndpoint}) for an emulator. Messages are received, held for
                       --visibility <s> (${DEFAULT_VISIBILITY_SECONDS}) and released again: list and show consume nothing.
kinds: ${DEAD_LETTER_KINDS.join(', ')}
--stream defaults to $${ENV.streamName} (local: ${LOCAL_STREAM}); --kinesis-endpoint to
$${ENV.kinesisEndpoint}; a local redrive needs one (npm start prints it).`;

export class UsageError extends Error {}

export interface DlqCliConfig {
  mode: 'local' | 'aws';
  dataDir: string;
  region: string;
  awsEndpoint: string | undefined;
  kinesisEndpoint: string | undefined;
  queueUrl: string | undefined;
  bucket: string | undefined;
  streamName: string | undefined;
}

const DLQ_SETTINGS = {
  mode: { env: ENV.mode, schema: withDefault(oneOf(['local', 'aws']), 'local') },
  dataDir: { env: ENV.dataDir, schema: withDefault(text(), 'data') },
  region: { env: ENV.region, schema: withDefault(text(), 'us-east-1') },
  awsEndpoint: { env: ENV.awsEndpoint, schema: optional(httpUrl()) },
  kinesisEndpoint: { env: ENV.kinesisEndpoint, schema: optional(httpUrl()) },
  streamName: { env: ENV.streamName, schema: optional(text()) },
} as const satisfies Record<string, Setting<unknown>>;

/** Required in AWS mode only; read once the mode is known to need them. */
const DLQ_AWS_SETTINGS = {
  queueUrl: { env: ENV.deadLetterQueueUrl, schema: text() },
  bucket: { env: ENV.deadLetterBucket, schema: text() },
} as const satisfies Record<string, Setting<unknown>>;

/** The only place this CLI reads the environment. */
export function loadDlqCliConfig(env: Env): Readonly<DlqCliConfig> {
  const s = readSettings(DLQ_SETTINGS, { env });
  const aws = s.mode === 'aws' ? readSettings(DLQ_AWS_SETTINGS, { env }) : { queueUrl: undefined, bucket: undefined };
  return Object.freeze({ ...s, ...aws });
}

export type DlqArgs =
  | { command: 'list'; filter: LetterFilter; format: ListFormat; source: SourceArgs }
  | { command: 'show'; id: string; format: ShowFormat; source: SourceArgs }
  | { command: 'redrive'; ids: string[]; all: boolean; filter: LetterFilter; stream?: string; kinesisEndpoint?: string; source: SourceArgs };

export interface SourceArgs {
  data?: string;
  endpoint?: string;
  visibilitySeconds?: number;
}

/** Which options each command takes (beyond the source options). */
const OPTIONS: Record<DlqArgs['command'], readonly string[]> = {
  list: ['--kind', '--symbol', '--all', '--format'],
  show: ['--format'],
  redrive: ['--kind', '--symbol', '--all', '--stream', '--kinesis-endpoint'],
};
const SOURCE_OPTIONS = ['--data', '--endpoint', '--visibility'];
const FLAGS = new Set(['--all']);

export function parseArgs(argv: readonly string[]): DlqArgs {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') throw new UsageError('');
  if (command !== 'list' && command !== 'show' && command !== 'redrive') throw new UsageError(`unknown command '${inert(command)}'`);
  const positional: string[] = [];
  const opts = new Map<string, string>();
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i] as string;
    if (a === '--help' || a === '-h') throw new UsageError('');
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    if (!OPTIONS[command].includes(a) && !SOURCE_OPTIONS.includes(a)) throw new UsageError(`${command} takes no option ${inert(a)}`);
    if (opts.has(a)) throw new UsageError(`${a} given twice`);
    if (FLAGS.has(a)) {
      opts.set(a, '');
      continue;
    }
    const v = rest[++i];
    if (v === undefined) throw new UsageError(`${a} needs a value`);
    opts.set(a, v);
  }
  const kind = opts.get('--kind');
  if (kind !== undefined && !isDeadLetterKind(kind)) throw new UsageError(`--kind must be one of ${DEAD_LETTER_KINDS.join(', ')}, got '${inert(kind)}'`);
  const filter: LetterFilter = {
    ...(kind !== undefined ? { kind } : {}),
    ...(opts.get('--symbol') !== undefined ? { symbol: opts.get('--symbol') } : {}),
  };
  const visibility = opts.get('--visibility');
  if (visibility !== undefined && (!/^\d+$/.test(visibility) || Number(visibility) < 1 || Number(visibility) > 43_200)) {
    throw new UsageError(`--visibility must be a number of seconds in [1, 43200], got '${inert(visibility)}'`);
  }
  const source: SourceArgs = {
    ...(opts.has('--data') ? { data: opts.get('--data') } : {}),
    ...(opts.has('--endpoint') ? { endpoint: opts.get('--endpoint') } : {}),
    ...(visibility !== undefined ? { visibilitySeconds: Number(visibility) } : {}),
  };
  const format = opts.get('--format');
  switch (command) {
    case 'list': {
      if (positional.length > 0) throw new UsageError(`list takes no arguments, got '${inert(positional[0] ?? '')}'`);
      if (format !== undefined && format !== 'table' && format !== 'json') throw new UsageError(`--format must be table or json, got '${inert(format)}'`);
      return { command, filter: { ...filter, includeRedriven: opts.has('--all') }, format: format ?? 'table', source };
    }
    case 'show': {
      if (positional.length !== 1) throw new UsageError('show takes exactly one id');
      if (format !== undefined && format !== 'text' && format !== 'json') throw new UsageError(`--format must be text or json, got '${inert(format)}'`);
      return { command, id: positional[0] as string, format: format ?? 'text', source };
    }
    case 'redrive': {
      const all = opts.has('--all');
      if (all === positional.length > 0) throw new UsageError('redrive takes either ids or --all');
      if (!all && (filter.kind !== undefined || filter.symbol !== undefined)) throw new UsageError('--kind and --symbol go with --all');
      return {
        command,
        ids: positional,
        all,
        filter,
        ...(opts.has('--stream') ? { stream: opts.get('--stream') } : {}),
        ...(opts.has('--kinesis-endpoint') ? { kinesisEndpoint: opts.get('--kinesis-endpoint') } : {}),
        source,
      };
    }
  }
}

export interface Io {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  /** Terminal width for the table. */
  columns: number;
  cwd: string;
}

function checkUrl(flag: string, v: string): string {
  try {
    const u = new URL(v);
    if (u.protocol === 'http:' || u.protocol === 'https:') return v;
  } catch {
    // fall through
  }
  throw new UsageError(`${flag} must be an http(s) URL, got '${inert(v)}'`);
}

interface Opened {
  store: DeadLetterStore;
  close(): Promise<void>;
}

function openStore(cfg: DlqCliConfig, src: SourceArgs, io: Io): Opened {
  const progress = (line: string): void => void io.err.write(`dlq: ${line}\n`);
  if (cfg.mode === 'local') {
    if (src.endpoint !== undefined) throw new UsageError(`--endpoint is for ${ENV.mode}=aws; locally the letters are a file`);
    if (src.visibilitySeconds !== undefined) throw new UsageError(`--visibility is for ${ENV.mode}=aws`);
    const store = new LocalDeadLetterStore(path.resolve(io.cwd, src.data ?? cfg.dataDir));
    return { store, close: () => store.close() };
  }
  if (src.data !== undefined) throw new UsageError(`--data is for local mode; ${ENV.mode}=aws reads $${ENV.deadLetterQueueUrl}`);
  const endpoint = src.endpoint !== undefined ? checkUrl('--endpoint', src.endpoint) : cfg.awsEndpoint;
  const o = { region: cfg.region, ...(endpoint !== undefined ? { endpoint } : {}) };
  const sqs = new SQSClient(clientOptions(o));
  const s3: S3Client = s3Client(o);
  const store = new SqsDeadLetterStore(sqs, s3, {
    queueUrl: cfg.queueUrl ?? '',
    bucket: cfg.bucket ?? '',
    visibilitySeconds: src.visibilitySeconds ?? DEFAULT_VISIBILITY_SECONDS,
    progress,
  });
  return {
    store,
    async close() {
      try {
        await store.close();
      } finally {
        sqs.destroy();
        s3.destroy();
      }
    },
  };
}

function reportProblems(loaded: Loaded, io: Io): void {
  for (const p of loaded.problems) io.err.write(`dlq: ${inert(p)}\n`);
}

function noLetters(store: DeadLetterStore): string {
  return `no dead letters: ${store.where} does not exist`;
}

function list(args: Extract<DlqArgs, { command: 'list' }>, loaded: Loaded, store: DeadLetterStore, io: Io): number {
  if (!loaded.exists) {
    // json: still a document a script can read, the words on stderr.
    if (args.format === 'json') {
      io.out.write(formatList([], { format: 'json', columns: io.columns }));
      io.err.write(`dlq: ${noLetters(store)}\n`);
    } else {
      io.out.write(`${noLetters(store)}\n`);
    }
    return 0;
  }
  const shown = selectLetters(loaded.letters, args.filter, loaded.redriven);
  const hidden = args.filter.includeRedriven === true ? 0 : selectLetters(loaded.letters, { ...args.filter, includeRedriven: true }, loaded.redriven).length - shown.length;
  io.out.write(formatList(shown, { format: args.format, columns: io.columns, redriven: loaded.redriven, redrivenHidden: hidden }));
  return 0;
}

function unknownIds(ids: readonly string[], loaded: Loaded, store: DeadLetterStore, io: Io): boolean {
  const known = new Set(loaded.letters.map((l) => l.id));
  const unknown = ids.filter((id) => !known.has(id));
  if (unknown.length === 0) return false;
  const why = loaded.exists ? `not in ${store.where}` : `${noLetters(store)}`;
  io.err.write(`dlq: unknown dead letter id${unknown.length === 1 ? '' : 's'} ${unknown.map(inert).join(', ')} (${why})\n`);
  return true;
}

function show(args: Extract<DlqArgs, { command: 'show' }>, loaded: Loaded, store: DeadLetterStore, io: Io): number {
  if (unknownIds([args.id], loaded, store, io)) return 1;
  const letter = loaded.letters.find((l) => l.id === args.id) as DeadLetter;
  const payloadS3 = loaded.payloadS3.get(letter.id);
  io.out.write(formatShow(letter, { format: args.format, redriven: loaded.redriven.has(letter.id), ...(payloadS3 !== undefined ? { payloadS3 } : {}) }));
  return 0;
}

interface RedriveTarget {
  stream: string;
  endpoint: string | undefined;
}

/** Checked before anything is read or received. */
function redriveTarget(args: Extract<DlqArgs, { command: 'redrive' }>, cfg: DlqCliConfig): RedriveTarget {
  const stream = args.stream ?? cfg.streamName ?? (cfg.mode === 'local' ? LOCAL_STREAM : undefined);
  if (stream === undefined) throw new UsageError(`redrive needs --stream or $${ENV.streamName}`);
  const endpoint = args.kinesisEndpoint !== undefined ? checkUrl('--kinesis-endpoint', args.kinesisEndpoint) : cfg.kinesisEndpoint;
  // Locally there is no stream but the emulator's: never fall through to AWS by accident.
  if (cfg.mode === 'local' && endpoint === undefined) throw new UsageError(`a local redrive needs --kinesis-endpoint or $${ENV.kinesisEndpoint} (npm start prints it)`);
  return { stream, endpoint };
}

async function redrive(args: Extract<DlqArgs, { command: 'redrive' }>, cfg: DlqCliConfig, target: RedriveTarget, loaded: Loaded, store: DeadLetterStore, io: Io): Promise<number> {
  const { stream, endpoint } = target;
  if (!loaded.exists && args.all) {
    io.out.write(`${noLetters(store)}\n`);
    return 0;
  }
  if (unknownIds(args.ids, loaded, store, io)) return 1;
  let letters: DeadLetter[];
  if (args.all) {
    letters = selectLetters(loaded.letters, args.filter, loaded.redriven);
  } else {
    // Explicit ids: each once, in dead-letter order (loaded.letters is in it), even if redriven before.
    const wanted = new Set(args.ids);
    letters = loaded.letters.filter((l) => wanted.has(l.id));
  }
  if (letters.length === 0) {
    io.out.write('nothing to redrive\n');
    return 0;
  }
  io.err.write(`dlq: redriving ${letters.length} letter(s) to stream ${inert(stream)}${endpoint !== undefined ? ` at ${endpoint}` : ''}\n`);
  const kinesis: KinesisClient = kinesisClient({ region: cfg.region, ...(endpoint !== undefined ? { endpoint } : {}) });
  try {
    const report = await redriveLetters(letters, kinesisPut(kinesis, stream), async (acked) => {
      await store.markRedriven(acked.map((a) => a.letter.id));
      for (const a of acked) io.out.write(`redriven ${inert(a.letter.id)} (${a.letter.kind}, key ${inert(a.letter.partition_key)}) -> ${a.shardId} ${a.sequenceNumber}\n`);
    });
    for (const f of report.failed) io.out.write(`FAILED ${inert(f.id)}: ${inert(f.error)}\n`);
    for (const h of report.held) io.out.write(`not redriven ${inert(h.id)}: an earlier letter of key ${inert(h.partition_key)} failed, and putting this one would reorder the key\n`);
    for (const u of report.unmarked) io.out.write(`redriven but not marked ${inert(u.id)}: ${inert(u.error)} (a repeat redrive puts it again; that is safe)\n`);
    const parts = [`redriven ${report.redriven.length} of ${letters.length} to ${inert(stream)}`];
    if (report.failed.length > 0) parts.push(`failed ${report.failed.length}`);
    if (report.held.length > 0) parts.push(`held back ${report.held.length}`);
    if (report.unmarked.length > 0) parts.push(`not marked ${report.unmarked.length}`);
    io.out.write(`${parts.join(', ')}\n`);
    return report.failed.length + report.held.length + report.unmarked.length === 0 ? 0 : 1;
  } finally {
    kinesis.destroy();
  }
}

export async function main(argv: readonly string[], env: Env, io: Io): Promise<number> {
  const usage = (message: string): number => {
    io.err.write(`${message ? `${message}\n` : ''}${USAGE}\n`);
    return EXIT_USAGE;
  };
  let args: DlqArgs;
  let cfg: Readonly<DlqCliConfig>;
  try {
    args = parseArgs(argv);
    cfg = loadDlqCliConfig(env);
  } catch (err) {
    if (err instanceof UsageError) return usage(err.message);
    if (err instanceof ConfigError) {
      // A bad variable is not a misuse of the command line: no usage text, the config exit code.
      io.err.write(`dlq: invalid configuration: ${err.message}\n`);
      return EXIT_CONFIG;
    }
    throw err;
  }
  let opened: Opened;
  let target: RedriveTarget | undefined;
  try {
    if (args.command === 'redrive') target = redriveTarget(args, cfg);
    opened = openStore(cfg, args.source, io);
  } catch (err) {
    if (err instanceof UsageError) return usage(err.message);
    throw err;
  }
  try {
    if (cfg.mode === 'local') io.err.write(`dlq: reading ${opened.store.where}\n`);
    const loaded = await opened.store.load();
    reportProblems(loaded, io);
    switch (args.command) {
      case 'list':
        return list(args, loaded, opened.store, io);
      case 'show':
        return show(args, loaded, opened.store, io);
      case 'redrive':
        return await redrive(args, cfg, target as RedriveTarget, loaded, opened.store, io);
    }
  } catch (err) {
    if (err instanceof UsageError) return usage(err.message);
    io.err.write(`dlq: ${inert(describeError(err))}\n`);
    return 1;
  } finally {
    await opened.close();
  }
}

if (require.main === module) {
  // `npm run dlq -- list | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  main(process.argv.slice(2), process.env, { out: process.stdout, err: process.stderr, columns: process.stdout.isTTY ? process.stdout.columns : 120, cwd: process.cwd() }).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`dlq: ${inert(describeError(err))}\n`);
      process.exitCode = 1;
    },
  );
}

