/**
 * Dead letters as data: the wire format the DeadLetterQueue adapters write
 * (one JSON line locally; an SQS message, or a pointer to an S3 object when
 * the letter is larger than a message may be) and everything `npm run dlq`
 * does with them that needs no I/O: parsing and validating, ordering,
 * filtering, summaries, terminal-safe formatting, the bytes a redrive puts
 * back and the order it puts them in.
 *
 * No SDK and no file system here: the adapters (consumer/sinks/sqs-dlq.ts,
 * consumer/sinks/local-files.ts) and the CLI's stores (cli/dlq-stores.ts)
 * do the I/O and call these functions, so all of it is unit-tested without a
 * network.
 */
import { z } from 'zod';
import { encodeRowRedrive, type EnrichedTick } from '../shared/enriched';
import { backoffDelay, type BackoffPolicy } from '../shared/runtime/retry';
import { sleep as realSleep } from '../shared/runtime/sleep';
import { DEAD_LETTER_OBJECT_PREFIX } from '../shared/lake-layout';
import type { DeadLetter, DeadLetterKind } from './ports';

export const DEAD_LETTER_KINDS = ['record', 'tick', 'row', 'crash'] as const satisfies readonly DeadLetterKind[];
// Compile-time proof that the list names every kind of the port.
type _MissingKind = Exclude<DeadLetterKind, (typeof DEAD_LETTER_KINDS)[number]>;
/** @public: exported only because tsc's noUnusedLocals would refuse an unread local; knip skips @public. */
export const _kindsComplete: [_MissingKind] extends [never] ? true : never = true;

export function isDeadLetterKind(s: string): s is DeadLetterKind {
  return (DEAD_LETTER_KINDS as readonly string[]).includes(s);
}

/** Local mode: ids redriven from `dead-letters.jsonl`, one `{"id","at"}` per line. A file of its own,
 *  append-only, so the CLI never writes the file the consumer appends to. */
export const DEAD_LETTERS_REDRIVEN_FILE = 'dead-letters.redriven.jsonl';

/* ------------------------------------------------------------- validation */

const rowSchema = z.custom<EnrichedTick>(
  (v) => typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as { symbol?: unknown }).symbol === 'string',
  'expected an enriched row (an object with a symbol)',
);

const common = {
  id: z.string().min(1),
  kind: z.enum(DEAD_LETTER_KINDS),
  partition_key: z.string(),
  shard_id: z.string(),
  sequence_number: z.string(),
  reason: z.string(),
  held_by: z.array(z.string()).optional(),
  stack: z.string().optional(),
  at: z.string(),
};

const DeadLetterSchema = z.object({ ...common, data_base64: z.base64(), row: rowSchema.optional() });

/**
 * The SQS body of a letter too large for a message: the letter without its
 * payload (`data_base64`, `row`), the S3 object that holds the whole letter,
 * and the payload's size.
 */
export interface DeadLetterPointer extends Omit<DeadLetter, 'data_base64' | 'row'> {
  payload_s3: string;
  data_bytes: number;
}

const DeadLetterPointerSchema = z.object({ ...common, payload_s3: z.string().regex(/^s3:\/\/[^/]+\/.+$/, 'expected s3://bucket/key'), data_bytes: z.number().int().nonnegative() });

// Both directions, so the schemas and the port cannot drift apart.
type Parsed = z.infer<typeof DeadLetterSchema>;
/** @public: exported only because tsc's noUnusedLocals would refuse an unread local; knip skips @public. */
export const _schemaMatchesPort: [Parsed extends DeadLetter ? true : false, DeadLetter extends Parsed ? true : false] = [true, true];
type ParsedPointer = z.infer<typeof DeadLetterPointerSchema>;
/** @public: exported only because tsc's noUnusedLocals would refuse an unread local; knip skips @public. */
export const _pointerSchemaMatches: [ParsedPointer extends DeadLetterPointer ? true : false, DeadLetterPointer extends ParsedPointer ? true : false] = [true, true];

function firstIssue(err: z.ZodError): string {
  const i = err.issues[0];
  if (i === undefined) return 'invalid';
  return i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: string };

function parseDeadLetter(value: unknown): ParseResult<DeadLetter> {
  const r = DeadLetterSchema.safeParse(value);
  return r.success ? { ok: true, value: r.data } : { ok: false, reason: `not a dead letter: ${firstIssue(r.error)}` };
}

/* ------------------------------------------------------------- JSON lines */

export interface LinesResult<T> {
  items: T[];
  /** Lines that are not what they should be, as `line N: why` (never the line itself: it is data). */
  problems: string[];
  /** The last line had no newline and did not parse: a write in progress, or a crash mid-write. */
  tornTail: boolean;
}

/**
 * JSON lines. Every complete line ends with '\n' (the writers append
 * `line\n` in one write), so an unterminated last line that does not parse is
 * a torn write and is skipped without complaint; a bad line anywhere else is
 * reported. An unterminated last line that does parse is complete.
 */
function parseJsonLines<T>(text: string, parse: (v: unknown) => ParseResult<T>): LinesResult<T> {
  const lines = text.split('\n');
  const items: T[] = [];
  const problems: string[] = [];
  let tornTail = false;
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const last = i === lines.length - 1;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      if (last) tornTail = true;
      else problems.push(`line ${i + 1}: not JSON`);
      return;
    }
    const r = parse(value);
    if (r.ok) items.push(r.value);
    else if (last) tornTail = true;
    else problems.push(`line ${i + 1}: ${r.reason}`);
  });
  return { items, problems, tornTail };
}

/** The content of `dead-letters.jsonl`, in file (append) order. */
export function parseDeadLetterLines(text: string): LinesResult<DeadLetter> {
  return parseJsonLines(text, parseDeadLetter);
}

/** The ids in `dead-letters.redriven.jsonl`. */
export function parseRedrivenLines(text: string): Set<string> {
  const r = parseJsonLines<string>(text, (v) => {
    const id = (v as { id?: unknown } | null)?.id;
    return typeof id === 'string' && id !== '' ? { ok: true, value: id } : { ok: false, reason: 'no id' };
  });
  return new Set(r.items);
}

export function redrivenLine(id: string, at: Date): string {
  return JSON.stringify({ id, at: at.toISOString() });
}

/* --------------------------------------------------- SQS messages and S3 */

/**
 * SQS refuses a message above 256 KiB, and counts the message attributes
 * (name, type and value of each) toward it, not only the body. Queues may
 * allow more today; 256 KiB works on every queue.
 */
export const SQS_MAX_MESSAGE_BYTES = 256 * 1024;
/** Attribute values are for triage in the console; the body holds the whole reason. */
const ATTRIBUTE_REASON_CHARS = 256;
/** A pointer that is still too large (a pathological reason or stack) keeps this much reason and no stack: the object has both whole. */
const POINTER_REASON_CHARS = 1024;

export interface SqsStringAttribute {
  DataType: 'String';
  StringValue: string;
}

export interface SqsMessagePlan {
  body: string;
  attributes: Record<string, SqsStringAttribute>;
  /** Set for a letter too large for one message: this object must be written before the message is sent. */
  object?: { bucket: string; key: string; body: string };
}

/** The size SQS checks against its limit: the body plus every attribute's name, data type and value. */
export function sqsMessageBytes(body: string, attributes: Record<string, SqsStringAttribute>): number {
  let n = Buffer.byteLength(body);
  for (const [name, a] of Object.entries(attributes)) n += Buffer.byteLength(name) + Buffer.byteLength(a.DataType) + Buffer.byteLength(a.StringValue);
  return n;
}

/**
 * An id as one S3 key segment: `/` becomes `_`, the characters of
 * `[A-Za-z0-9.-]` stay, anything else (including `_` and `~`) becomes `~XX`
 * per UTF-8 byte. Injective, so two ids never share an object.
 */
export function urlSafeId(id: string): string {
  let out = '';
  for (const ch of id) {
    if (ch === '/') out += '_';
    else if (/^[A-Za-z0-9.-]$/.test(ch)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `~${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** `dead-letters/dt=YYYY-MM-DD/<url-safe id>.json`, dt being the UTC date the letter was written. */
export function deadLetterObjectKey(letter: Pick<DeadLetter, 'id' | 'at'>): string {
  const t = Date.parse(letter.at);
  const dt = Number.isNaN(t) ? 'unknown' : new Date(t).toISOString().slice(0, 10);
  return `${DEAD_LETTER_OBJECT_PREFIX}dt=${dt}/${urlSafeId(letter.id)}.json`;
}

function parseS3Uri(uri: string): { bucket: string; key: string } | undefined {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  return m ? { bucket: m[1] ?? '', key: m[2] ?? '' } : undefined;
}

/** Decoded size of a base64 string, without decoding it. */
function base64ByteLength(b64: string): number {
  const pad = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0;
  return Math.floor((b64.length * 3) / 4) - pad;
}

function attributesOf(letter: DeadLetter): Record<string, SqsStringAttribute> {
  // Attribute values may only hold XML characters: escape the reason, and cut it on a code point.
  const reason = cutChars(inert(letter.reason), ATTRIBUTE_REASON_CHARS) || '(none)';
  return {
    shard_id: { DataType: 'String', StringValue: letter.shard_id || '(none)' },
    kind: { DataType: 'String', StringValue: letter.kind },
    reason: { DataType: 'String', StringValue: reason },
  };
}

/**
 * The message for one letter. Up to the limit (inclusive) the message body
 * is the whole letter; above it, the whole letter goes to
 * `s3://<bucket>/dead-letters/dt=…/<id>.json` and the body is a pointer to
 * it. Nothing is cut: a dead letter must be redrivable byte for byte.
 */
export function planSqsMessage(letter: DeadLetter, bucket: string): SqsMessagePlan {
  const attributes = attributesOf(letter);
  const full = inertJson(JSON.stringify(letter));
  if (sqsMessageBytes(full, attributes) <= SQS_MAX_MESSAGE_BYTES) return { body: full, attributes };
  const key = deadLetterObjectKey(letter);
  const { data_base64: data, row: _row, ...rest } = letter;
  const pointer: DeadLetterPointer = { ...rest, payload_s3: `s3://${bucket}/${key}`, data_bytes: base64ByteLength(data) };
  let body = inertJson(JSON.stringify(pointer));
  if (sqsMessageBytes(body, attributes) > SQS_MAX_MESSAGE_BYTES) {
    const { stack: _stack, ...noStack } = pointer;
    body = inertJson(JSON.stringify({ ...noStack, reason: cutChars(letter.reason, POINTER_REASON_CHARS) }));
  }
  return { body, attributes, object: { bucket, key, body: JSON.stringify(letter) } };
}

export type SqsBody = { kind: 'letter'; letter: DeadLetter } | { kind: 'pointer'; pointer: DeadLetterPointer } | { kind: 'invalid'; reason: string };

export function parseSqsBody(body: string): SqsBody {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    return { kind: 'invalid', reason: 'body is not JSON' };
  }
  if (typeof v === 'object' && v !== null && 'payload_s3' in v) {
    const p = DeadLetterPointerSchema.safeParse(v);
    return p.success ? { kind: 'pointer', pointer: p.data } : { kind: 'invalid', reason: `not a dead-letter pointer: ${firstIssue(p.error)}` };
  }
  const r = parseDeadLetter(v);
  return r.ok ? { kind: 'letter', letter: r.value } : { kind: 'invalid', reason: r.reason };
}

/**
 * Where a pointer may send a reader: only under `dead-letters/` of the
 * bucket the reader was configured with. A message body is data; without
 * this check anyone able to send to the queue could make a redrive copy
 * any object the operator can read onto the stream.
 */
export function pointerLocation(pointer: DeadLetterPointer, bucket: string): ParseResult<{ bucket: string; key: string }> {
  const loc = parseS3Uri(pointer.payload_s3);
  if (loc === undefined) return { ok: false, reason: `payload_s3 is not an s3:// URI` };
  if (loc.bucket !== bucket) return { ok: false, reason: `payload_s3 names bucket ${inert(loc.bucket)}, not the configured ${bucket}` };
  if (!loc.key.startsWith(DEAD_LETTER_OBJECT_PREFIX) || loc.key.split('/').includes('..')) return { ok: false, reason: `payload_s3 is outside ${DEAD_LETTER_OBJECT_PREFIX}` };
  return { ok: true, value: loc };
}

/** The whole letter from the S3 object a pointer names; it must be the letter the pointer stands for. */
export function resolvePointer(pointer: DeadLetterPointer, objectText: string): ParseResult<DeadLetter> {
  let v: unknown;
  try {
    v = JSON.parse(objectText);
  } catch {
    return { ok: false, reason: `${pointer.payload_s3} is not JSON` };
  }
  const r = parseDeadLetter(v);
  if (!r.ok) return { ok: false, reason: `${pointer.payload_s3}: ${r.reason}` };
  if (r.value.id !== pointer.id) return { ok: false, reason: `${pointer.payload_s3} holds letter ${inert(r.value.id)}, not ${inert(pointer.id)}` };
  if (base64ByteLength(r.value.data_base64) !== pointer.data_bytes) return { ok: false, reason: `${pointer.payload_s3} holds ${base64ByteLength(r.value.data_base64)} payload bytes, the pointer says ${pointer.data_bytes}` };
  return r;
}

/* ---------------------------------------------------- order and selection */

function idTail(letter: DeadLetter): number {
  // `<shard>/<seq>/<tick index>`: the ticks of one record in record order.
  const prefix = `${letter.shard_id}/${letter.sequence_number}/`;
  return letter.id.startsWith(prefix) ? Number(letter.id.slice(prefix.length)) || 0 : -1;
}

function compareSeq(a: string, b: string): number {
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The order the letters were dead-lettered in: by `at`, then by position in
 * the stream (shard, sequence number, tick index), so that letters of one
 * symbol go back onto the stream in the order they first came; then source
 * order (the sort is stable). Letters with an unreadable `at` go last.
 */
export function inDeadLetterOrder(letters: readonly DeadLetter[]): DeadLetter[] {
  const time = (l: DeadLetter): number => {
    const t = Date.parse(l.at);
    return Number.isNaN(t) ? Infinity : t;
  };
  return [...letters].sort((a, b) => {
    const ta = time(a);
    const tb = time(b);
    if (ta !== tb) return ta < tb ? -1 : 1;
    if (a.shard_id !== b.shard_id) return a.shard_id < b.shard_id ? -1 : 1;
    return compareSeq(a.sequence_number, b.sequence_number) || idTail(a) - idTail(b);
  });
}

/** One letter per id, the first in the given order (a replay or SQS's at-least-once delivery can repeat one). */
export function uniqueById(letters: readonly DeadLetter[]): DeadLetter[] {
  const seen = new Set<string>();
  return letters.filter((l) => (seen.has(l.id) ? false : (seen.add(l.id), true)));
}

export interface LetterFilter {
  kind?: DeadLetterKind;
  /** Matched against the partition key (the symbol), ignoring case. */
  symbol?: string;
  /** Keep letters already redriven (local mode). */
  includeRedriven?: boolean;
}

export function selectLetters(letters: readonly DeadLetter[], filter: LetterFilter, redriven: ReadonlySet<string> = new Set()): DeadLetter[] {
  const symbol = filter.symbol?.toUpperCase();
  return letters.filter(
    (l) =>
      (filter.kind === undefined || l.kind === filter.kind) &&
      (symbol === undefined || l.partition_key.toUpperCase() === symbol) &&
      (filter.includeRedriven === true || !redriven.has(l.id)),
  );
}

/** The part of a reason before its first ':' ("invalid JSON", "invalid tick", …): what letters are grouped by. */
export function reasonPrefix(reason: string): string {
  const head = reason.split(':', 1)[0]?.trim() ?? '';
  return cutChars(inert(head), 60) || '(none)';
}

export interface Summary {
  total: number;
  by_kind: Record<string, number>;
  by_reason: Record<string, number>;
  /** Redriven letters left out of the list (local mode, without --all). */
  redriven_hidden: number;
}

export function summarize(letters: readonly DeadLetter[], redrivenHidden = 0): Summary {
  const count = (key: (l: DeadLetter) => string): Record<string, number> => {
    const m = new Map<string, number>();
    for (const l of letters) m.set(key(l), (m.get(key(l)) ?? 0) + 1);
    // Most frequent first; ties by name, so the output is stable.
    return Object.fromEntries([...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
  };
  return { total: letters.length, by_kind: count((l) => l.kind), by_reason: count((l) => reasonPrefix(l.reason)), redriven_hidden: redrivenHidden };
}

/* ------------------------------------------------------- safe text output */

/**
 * Characters that must not reach a terminal raw from data: controls (C0:
 * ESC starts escape sequences, BEL ends OSC ones; DEL; C1: U+009B is a
 * one-character CSI on some terminals), format characters (invisible ones,
 * bidirectional overrides that make text read differently from what it is,
 * tag characters), the line and paragraph separators, lone surrogates and
 * non-characters (which SQS refuses, too).
 */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Noncharacter_Code_Point}]/gu;
/** The same minus C0 and lone surrogates, which JSON.stringify already escapes (and whose '\n' is layout in pretty JSON). */
const UNSAFE_IN_JSON = /[\u007f-\u009f\p{Cf}\p{Zl}\p{Zp}\p{Noncharacter_Code_Point}]/gu;

function u16(c: string): string {
  let out = '';
  for (let i = 0; i < c.length; i++) out += `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return out;
}

/**
 * Text from a dead letter made safe to print: every unsafe character
 * becomes a visible escape (`\n`, `\t`, `\r`, `\x1b`, `\u202e`,
 * `\u{e0041}`). Markup is left as it is: printed to a terminal, `<b>` is
 * three characters and a tag no more. Backslashes are not doubled, so an
 * escape in the output may also have been written literally; the JSON
 * formats are exact.
 */
export function inert(s: string): string {
  return s.replace(UNSAFE, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    const cp = c.codePointAt(0) ?? 0;
    if (cp < 0x100) return `\\x${cp.toString(16).padStart(2, '0')}`;
    return cp > 0xffff ? `\\u{${cp.toString(16)}}` : `\\u${cp.toString(16).padStart(4, '0')}`;
  });
}

/** JSON text (from JSON.stringify) with the remaining unsafe characters as \u escapes: the same JSON value, safe to print. */
export function inertJson(json: string): string {
  return json.replace(UNSAFE_IN_JSON, u16);
}

/** At most `n` code points, the last one '…' when cut. */
export function cutChars(s: string, n: number): string {
  const cps = Array.from(s);
  if (cps.length <= n) return s;
  return n <= 0 ? '' : `${cps.slice(0, n - 1).join('')}…`;
}

function width(s: string): number {
  return Array.from(s).length;
}

/* ------------------------------------------------------------------ list */

export type ListFormat = 'table' | 'json';

export interface ListOptions {
  format: ListFormat;
  /** Terminal width the table's lines are cut to. */
  columns: number;
  /** Letters shown although redriven (`list --all`): marked. */
  redriven?: ReadonlySet<string>;
  /** Redriven letters left out. */
  redrivenHidden?: number;
}

/** The narrowest the reason column gets, even if the line then overflows a very narrow terminal. */
const MIN_REASON = 16;

export function formatList(letters: readonly DeadLetter[], opts: ListOptions): string {
  const summary = summarize(letters, opts.redrivenHidden ?? 0);
  const redriven = opts.redriven ?? new Set<string>();
  if (opts.format === 'json') {
    const rows = letters.map((l) =>
      JSON.stringify({ id: l.id, kind: l.kind, partition_key: l.partition_key, at: l.at, reason: l.reason, ...(redriven.has(l.id) ? { redriven: true } : {}) }),
    );
    // One line per letter, and still one JSON document.
    return inertJson(`{"letters":[${rows.length > 0 ? `\n${rows.join(',\n')}\n` : ''}],\n"summary":${JSON.stringify(summary)}}\n`);
  }
  const lines: string[] = [];
  if (letters.length > 0) {
    const marked = redriven.size > 0 && letters.some((l) => redriven.has(l.id));
    const cells = letters.map((l) => [inert(l.id) + (marked && redriven.has(l.id) ? ' *' : ''), l.kind, inert(l.partition_key), inert(l.at)]);
    const head = ['id', 'kind', 'key', 'at'];
    const widths = head.map((h, i) => Math.max(width(h), ...cells.map((c) => width(c[i] ?? ''))));
    const pad = (c: readonly string[]): string => c.map((s, i) => s + ' '.repeat((widths[i] ?? 0) - width(s))).join('  ');
    const room = Math.max(MIN_REASON, opts.columns - widths.reduce((a, b) => a + b + 2, 0));
    lines.push(`${pad(head)}  reason`);
    letters.forEach((l, i) => lines.push(`${pad(cells[i] ?? [])}  ${cutChars(inert(l.reason), room)}`));
    lines.push('');
    if (marked) lines.push('* already redriven');
  }
  lines.push(...summaryLines(summary));
  return `${lines.join('\n')}\n`;
}

function summaryLines(s: Summary): string[] {
  const counts = (r: Record<string, number>): string =>
    Object.entries(r)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
  const hidden = s.redriven_hidden > 0 ? ` (${s.redriven_hidden} redriven not shown; --all shows them)` : '';
  if (s.total === 0) return [`no dead letters${hidden}`];
  return [`${s.total} dead letter${s.total === 1 ? '' : 's'}${hidden}`, `by kind:   ${counts(s.by_kind)}`, `by reason: ${counts(s.by_reason)}`];
}

/* ------------------------------------------------------------------ show */

export type Payload = { encoding: 'json'; bytes: number; text: string } | { encoding: 'base64'; bytes: number; text: string };

/** The payload for reading: pretty-printed when it is UTF-8 JSON, base64 otherwise. */
export function decodePayload(dataBase64: string): Payload {
  const bytes = Buffer.from(dataBase64, 'base64');
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return { encoding: 'json', bytes: bytes.length, text: inertJson(JSON.stringify(JSON.parse(text), null, 2)) };
  } catch {
    return { encoding: 'base64', bytes: bytes.length, text: bytes.toString('base64') };
  }
}

export type ShowFormat = 'text' | 'json';

export interface ShowOptions {
  format: ShowFormat;
  redriven?: boolean;
  /** Where the whole letter was read from, when the message was a pointer. */
  payloadS3?: string;
}

/** The whole letter. `json`: exactly the stored letter (one JSON document); `text`: for reading. */
export function formatShow(letter: DeadLetter, opts: ShowOptions): string {
  if (opts.format === 'json') return `${inertJson(JSON.stringify(letter, null, 2))}\n`;
  const field = (name: string, value: string): string => `${`${name}:`.padEnd(15)}${value}`;
  const out = [
    field('id', inert(letter.id)),
    field('kind', letter.kind),
    field('partition key', inert(letter.partition_key)),
    field('shard', inert(letter.shard_id)),
    field('sequence', inert(letter.sequence_number)),
    field('at', inert(letter.at)),
    field('reason', inert(letter.reason)),
  ];
  if (opts.redriven === true) out.push(field('redriven', 'yes'));
  if (letter.held_by !== undefined) out.push(field('held by', letter.held_by.map(inert).join(', ') || '(none)'));
  if (opts.payloadS3 !== undefined) out.push(field('stored in', inert(opts.payloadS3)));
  if (letter.stack !== undefined) out.push('stack:', ...letter.stack.split(/\r?\n/).map((l) => `  ${inert(l)}`));
  if (letter.row !== undefined) out.push('row:', inertJson(JSON.stringify(letter.row, null, 2)));
  const p = decodePayload(letter.data_base64);
  out.push(`payload:       ${p.bytes} bytes, ${p.encoding === 'json' ? 'UTF-8 JSON' : 'base64 (not UTF-8 JSON)'}`, p.text);
  return `${out.join('\n')}\n`;
}

/* ---------------------------------------------------------------- redrive */

/** Kinesis: a record's data plus its partition key may be 1 MiB; a PutRecords call 500 records and 5 MiB. */
const KINESIS_MAX_RECORD_BYTES = 1024 * 1024;
const KINESIS_MAX_CALL_RECORDS = 500;
const KINESIS_MAX_CALL_BYTES = 5 * 1024 * 1024;

export interface RedriveRecord {
  partitionKey: string;
  data: Buffer;
}

/**
 * What a redrive puts on the stream for a letter: the dead-lettered bytes
 * (record, tick, crash), or for `row` the row-redrive envelope of the row a
 * sink refused, so the consumer stores exactly the row computed then.
 */
export function redriveRecord(letter: DeadLetter): ParseResult<RedriveRecord> {
  if (letter.partition_key.length === 0 || letter.partition_key.length > 256) return { ok: false, reason: 'partition key must be 1-256 characters' };
  let data: Buffer;
  if (letter.kind === 'row') {
    if (letter.row === undefined) return { ok: false, reason: 'a row letter without its row' };
    data = encodeRowRedrive(letter.row);
  } else {
    data = Buffer.from(letter.data_base64, 'base64');
  }
  if (data.length + Buffer.byteLength(letter.partition_key) > KINESIS_MAX_RECORD_BYTES) return { ok: false, reason: `${data.length} bytes is more than a Kinesis record holds` };
  return { ok: true, value: { partitionKey: letter.partition_key, data } };
}

export type PutOutcome = { ok: true; shardId: string; sequenceNumber: string } | { ok: false; error: string };
/** One PutRecords call: an outcome per record, in order. Rejects when the call as a whole failed. */
export type PutRecordsFn = (records: readonly RedriveRecord[]) => Promise<PutOutcome[]>;

export interface Redriven {
  letter: DeadLetter;
  shardId: string;
  sequenceNumber: string;
}

export interface RedriveReport {
  redriven: Redriven[];
  /** Not put: Kinesis kept refusing it, or it cannot be put at all. */
  failed: { id: string; error: string }[];
  /** Not tried, because an earlier letter of the same partition key failed: putting it would reorder that key. */
  held: { id: string; partition_key: string }[];
  /** Put, but `onAcked` failed for it (message not deleted, id not recorded): a repeat redrive puts it again. */
  unmarked: { id: string; error: string }[];
}

export interface RedriveOptions {
  /** Attempts per letter (PutRecords per-entry failures and whole-call failures alike). Default 5. */
  maxAttempts?: number;
  baseDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

interface Pending {
  letter: DeadLetter;
  record: RedriveRecord;
  attempts: number;
}

/**
 * Puts the letters back in the order given, keeping each partition key's
 * order exactly: one PutRecords call holds at most one letter per key, so a
 * refused entry can never be overtaken by a later letter of its key; a key
 * whose letter finally fails holds its later letters back. `onAcked` runs
 * after each call for the letters Kinesis acknowledged, and only for those
 * (that is where the SQS message is deleted or the id recorded).
 */
export async function redriveLetters(
  letters: readonly DeadLetter[],
  put: PutRecordsFn,
  onAcked: (acked: readonly Redriven[]) => Promise<void>,
  opts: RedriveOptions = {},
): Promise<RedriveReport> {
  const maxAttempts = opts.maxAttempts ?? 5;
  const sleep = opts.sleep ?? realSleep;
  const backoff: BackoffPolicy = { baseMs: opts.baseDelayMs ?? 200, maxMs: 5_000 };
  const report: RedriveReport = { redriven: [], failed: [], held: [], unmarked: [] };
  const blocked = new Set<string>();
  let pending: Pending[] = [];
  for (const letter of letters) {
    if (blocked.has(letter.partition_key)) {
      report.held.push({ id: letter.id, partition_key: letter.partition_key });
      continue;
    }
    const r = redriveRecord(letter);
    if (r.ok) pending.push({ letter, record: r.value, attempts: 0 });
    else {
      report.failed.push({ id: letter.id, error: r.reason });
      blocked.add(letter.partition_key);
    }
  }
  let round = 0;
  while (pending.length > 0) {
    // The first pending letter of each key, in order, within the call limits.
    const batch: Pending[] = [];
    const keys = new Set<string>();
    let bytes = 0;
    for (const p of pending) {
      if (keys.has(p.record.partitionKey)) continue;
      keys.add(p.record.partitionKey);
      const size = p.record.data.length + Buffer.byteLength(p.record.partitionKey);
      if (batch.length >= KINESIS_MAX_CALL_RECORDS || bytes + size > KINESIS_MAX_CALL_BYTES) continue;
      batch.push(p);
      bytes += size;
    }
    let outcomes: PutOutcome[];
    try {
      outcomes = await put(batch.map((p) => p.record));
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      outcomes = batch.map(() => ({ ok: false, error }));
    }
    const acked: Redriven[] = [];
    const done = new Set<Pending>();
    batch.forEach((p, i) => {
      const o = outcomes[i] ?? { ok: false, error: 'no result for this record' };
      p.attempts++;
      if (o.ok) {
        acked.push({ letter: p.letter, shardId: o.shardId, sequenceNumber: o.sequenceNumber });
        done.add(p);
      } else if (p.attempts >= maxAttempts) {
        report.failed.push({ id: p.letter.id, error: o.error });
        blocked.add(p.record.partitionKey);
        done.add(p);
      }
    });
    if (acked.length > 0) {
      report.redriven.push(...acked);
      try {
        await onAcked(acked);
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        report.unmarked.push(...acked.map((a) => ({ id: a.letter.id, error })));
      }
    }
    const next: Pending[] = [];
    for (const p of pending) {
      if (done.has(p)) continue;
      if (blocked.has(p.record.partitionKey)) report.held.push({ id: p.letter.id, partition_key: p.letter.partition_key });
      else next.push(p);
    }
    pending = next;
    if (acked.length < batch.length && pending.length > 0) await sleep(backoffDelay(round++, backoff));
  }
  return report;
}
