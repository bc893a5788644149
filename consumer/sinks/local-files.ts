/**
 * Local-mode alerts and dead letters: JSON lines under the data directory.
 *
 * Each file is also its own dedup index, reloaded lazily on the first call of
 * a process: the KCL MultiLangDaemon starts one processor process per shard
 * lease, and a symbol (or a shard's records) belongs to one lease at a time,
 * so the file read by a new owner holds everything its predecessor wrote.
 * Lines are appended with one write() each on an O_APPEND descriptor, so two
 * processes appending to the same file do not interleave within a line.
 */
import { mkdir, open, readFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../shared/logger';
import { AlertPublishError, DeadLetterError } from '../errors';
import { describeError } from '../../shared/describe-error';
import type { Alert, AlertPublisher, DeadLetter, DeadLetterQueue, PublishResult } from '../ports';
import type { AlertLedger } from './alert-gate';
import { DedupCooldownPublisher } from './alert-gate';

export const ALERTS_FILE = 'alerts.jsonl';
export const DEAD_LETTERS_FILE = 'dead-letters.jsonl';

/** Parse a JSON-lines file; a torn last line (crash mid-write) is skipped. */
export async function readJsonLines(file: string, logger?: Logger): Promise<unknown[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: unknown[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      logger?.warn('skipping an unreadable line', { file, line: line.slice(0, 200) });
    }
  }
  return out;
}

/**
 * A file's lines read into an in-memory index once, on first use: `load()`
 * feeds each parsed line to `take`; a failed read is forgotten, so the next
 * call tries again, and is thrown as `fail` makes it (each sink's own error
 * class, which the shard processor classifies).
 */
class JsonLinesIndex {
  private loaded: Promise<void> | undefined;

  constructor(
    private readonly file: string,
    private readonly logger: Logger | undefined,
    private readonly take: (line: unknown) => void,
    private readonly fail: (message: string, cause: unknown) => Error,
  ) {}

  load(): Promise<void> {
    this.loaded ??= readJsonLines(this.file, this.logger).then(
      (lines) => {
        for (const line of lines) this.take(line);
      },
      (err: unknown) => {
        this.loaded = undefined;
        throw this.fail(`reading ${path.basename(this.file)} failed: ${describeError(err)}`, err);
      },
    );
    return this.loaded;
  }
}

/** Appends lines durably (fdatasync per append: alerts and dead letters are rare). */
class LineAppender {
  private handle: Promise<FileHandle> | undefined;

  constructor(private readonly file: string) {}

  async append(line: string): Promise<void> {
    this.handle ??= mkdir(path.dirname(this.file), { recursive: true }).then(() => open(this.file, 'a'));
    const fh = await this.handle;
    await fh.write(`${line}\n`);
    await fh.datasync();
  }

  async close(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    if (h) await (await h).close();
  }
}

function isAlert(x: unknown): x is Alert {
  if (typeof x !== 'object' || x === null) return false;
  const a = x as Record<string, unknown>;
  return typeof a.id === 'string' && typeof a.symbol === 'string' && typeof a.ts === 'number' && typeof a.type === 'string';
}

export interface LocalAlertPublisherOptions {
  dataDir: string;
  /** Where the readable line goes: stderr or a status channel, never the
   *  consumer's stdout (the MultiLangDaemon protocol). */
  out: NodeJS.WritableStream;
  /** Per-symbol cooldown in tick time (ms). 0 disables it. */
  cooldownMs: number;
  logger?: Logger;
}

/** One readable terminal line per alert. */
export function formatAlertLine(a: Alert): string {
  return `[ALERT ${a.type}] ${new Date(a.ts).toISOString()} ${a.symbol} @ ${a.price}: ${a.message}`;
}

/**
 * `<dataDir>/alerts.jsonl` is the ledger: a line there means "published".
 * Each line is exactly the Alert (no wall-clock field), so a replayed run
 * produces a byte-identical file.
 */
class FileAlertLedger implements AlertLedger {
  private readonly published = new Set<string>();
  private readonly last = new Map<string, number>();
  readonly appender: LineAppender;
  private readonly index: JsonLinesIndex;

  constructor(private readonly opts: LocalAlertPublisherOptions) {
    const file = path.join(opts.dataDir, ALERTS_FILE);
    this.appender = new LineAppender(file);
    this.index = new JsonLinesIndex(
      file,
      opts.logger,
      (a) => {
        if (!isAlert(a)) return;
        this.published.add(a.id);
        this.last.set(a.symbol, Math.max(this.last.get(a.symbol) ?? -Infinity, a.ts));
      },
      (message, cause) => new AlertPublishError(message, { cause }),
    );
  }

  private load(): Promise<void> {
    return this.index.load();
  }

  async lastPublishedTs(symbol: string): Promise<number | undefined> {
    await this.load();
    return this.last.get(symbol);
  }

  async wasPublished(id: string): Promise<boolean> {
    await this.load();
    return this.published.has(id);
  }

  async claim(alert: Alert): Promise<'claimed' | 'duplicate'> {
    await this.load();
    return this.published.has(alert.id) ? 'duplicate' : 'claimed';
  }

  /** The append is the durable record; the terminal line comes after it. */
  async deliver(alert: Alert): Promise<string | undefined> {
    const line: Alert = { id: alert.id, symbol: alert.symbol, type: alert.type, ts: alert.ts, price: alert.price, message: alert.message };
    try {
      await this.appender.append(JSON.stringify(line));
    } catch (err) {
      throw new AlertPublishError(`appending to ${ALERTS_FILE} failed: ${describeError(err)}`, { cause: err });
    }
    this.published.add(alert.id);
    this.opts.out.write(`${formatAlertLine(alert)}\n`);
    return undefined;
  }

  markPublished(): Promise<void> {
    return Promise.resolve();
  }

  advance(symbol: string, ts: number): Promise<void> {
    if (ts > (this.last.get(symbol) ?? -Infinity)) this.last.set(symbol, ts);
    return Promise.resolve();
  }
}

export class LocalAlertPublisher implements AlertPublisher {
  private readonly ledger: FileAlertLedger;
  private readonly gate: DedupCooldownPublisher;

  constructor(opts: LocalAlertPublisherOptions) {
    this.ledger = new FileAlertLedger(opts);
    this.gate = new DedupCooldownPublisher(this.ledger, opts.cooldownMs);
  }

  publish(alert: Alert): Promise<PublishResult> {
    return this.gate.publish(alert);
  }

  close(): Promise<void> {
    return this.ledger.appender.close();
  }
}

export interface LocalDeadLetterQueueOptions {
  dataDir: string;
  logger?: Logger;
}

/**
 * `<dataDir>/dead-letters.jsonl`, one DeadLetter per line. A replay meets
 * the same poison records again: a letter whose `id` is already in the file
 * is not appended twice. (The id, not the record's coordinates: several
 * ticks of one record can each be dead-lettered, under `<shard>/<seq>/<i>`.)
 * `npm run dlq` reads this file and never writes it.
 */
export class LocalDeadLetterQueue implements DeadLetterQueue {
  private readonly appender: LineAppender;
  private readonly seen = new Set<string>();
  private readonly index: JsonLinesIndex;

  constructor(opts: LocalDeadLetterQueueOptions) {
    const file = path.join(opts.dataDir, DEAD_LETTERS_FILE);
    this.appender = new LineAppender(file);
    this.index = new JsonLinesIndex(
      file,
      opts.logger,
      (l) => {
        const id = (l as Partial<DeadLetter> | null)?.id;
        if (typeof id === 'string') this.seen.add(id);
      },
      (message, cause) => new DeadLetterError(message, { cause }),
    );
  }

  private load(): Promise<void> {
    return this.index.load();
  }

  async put(letter: DeadLetter): Promise<void> {
    await this.load();
    const key = letter.id;
    if (this.seen.has(key)) return;
    // Claimed before the await so two concurrent puts of one record append once.
    this.seen.add(key);
    try {
      await this.appender.append(JSON.stringify(letter));
    } catch (err) {
      this.seen.delete(key);
      throw new DeadLetterError(`appending to ${DEAD_LETTERS_FILE} failed: ${describeError(err)}`, { cause: err });
    }
  }

  close(): Promise<void> {
    return this.appender.close();
  }
}
