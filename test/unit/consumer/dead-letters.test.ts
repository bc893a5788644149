import fc from 'fast-check';
import {
  SQS_MAX_MESSAGE_BYTES,
  cutChars,
  deadLetterObjectKey,
  decodePayload,
  formatList,
  formatShow,
  inDeadLetterOrder,
  inert,
  inertJson,
  parseDeadLetterLines,
  parseRedrivenLines,
  parseSqsBody,
  planSqsMessage,
  pointerLocation,
  reasonPrefix,
  redriveLetters,
  redriveRecord,
  redrivenLine,
  resolvePointer,
  selectLetters,
  sqsMessageBytes,
  summarize,
  uniqueById,
  urlSafeId,
  type DeadLetterPointer,
  type PutOutcome,
  type RedriveRecord,
} from '../../../consumer/dead-letters';
import { DEAD_LETTER_OBJECT_PREFIX } from '../../../shared/lake-layout';
import type { DeadLetter } from '../../../consumer/ports';
import { encodeRowRedrive } from '../../../shared/enriched';
import { deadLetter, tick } from './factories';

const SHARD = 'shardId-000000000001';
/** A letter of one record of SHARD, by sequence number. */
const at = (seq: number, o: Partial<DeadLetter> = {}): DeadLetter => deadLetter({ sequence_number: String(seq), id: `${SHARD}/${seq}`, ...o });
const lines = (...ls: DeadLetter[]): string => ls.map((l) => `${JSON.stringify(l)}\n`).join('');

/** What may not appear raw in anything printed: controls (but the layout newline), format characters, separators, lone surrogates, non-characters. */
const RAW_UNSAFE = /(?!\n)[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Noncharacter_Code_Point}]/u;
const hostile = fc
  .array(
    fc.oneof(
      fc.constantFrom('\x1b[31m', '\x1b]8;;http://x\x07', '\x07', '\x9b2J', '\u202e', '\u2066', '\u2028', '\ud800', '\udc00', '\ufffe', '\u200b', '\u{e0041}', '\n', '\r', '\t', '<script>', '&amp;', '\\', '"'),
      fc.string({ unit: 'binary', maxLength: 8 }),
      fc.string({ maxLength: 8 }),
    ),
    { maxLength: 12 },
  )
  .map((parts) => parts.join(''));

describe('reading dead-letters.jsonl', () => {
  it('reads every complete line in file order', () => {
    const a = at(1);
    const b = at(2, { kind: 'tick', id: `${SHARD}/2/0`, partition_key: 'MSFT' });
    expect(parseDeadLetterLines(lines(a, b))).toEqual({ items: [a, b], problems: [], tornTail: false });
  });

  it('skips a torn last line (a write in progress) without calling it a problem', () => {
    const text = lines(at(1), at(2)) + JSON.stringify(at(3)).slice(0, 40);
    const r = parseDeadLetterLines(text);
    expect(r.items.map((l) => l.sequence_number)).toEqual(['1', '2']);
    expect(r.tornTail).toBe(true);
    expect(r.problems).toEqual([]);
  });

  it('takes a complete last line that only lacks its newline', () => {
    expect(parseDeadLetterLines(lines(at(1)) + JSON.stringify(at(2))).items).toHaveLength(2);
  });

  it('reports a bad line elsewhere by number and reason, never by content', () => {
    const legacy = { data_base64: 'AA==', shard_id: SHARD, sequence_number: '9', reason: 'secret-ish \x1b[2J', at: '2024-03-01T15:00:00.000Z' };
    const text = `${lines(at(1))}not json {\n${JSON.stringify(legacy)}\n${lines(at(2))}`;
    const r = parseDeadLetterLines(text);
    expect(r.items.map((l) => l.sequence_number)).toEqual(['1', '2']);
    expect(r.problems).toEqual(['line 2: not JSON', expect.stringMatching(/^line 3: not a dead letter: id: /)]);
    expect(r.problems.join('')).not.toContain('secret-ish');
  });

  it('refuses a letter whose payload is not base64 or whose kind is unknown', () => {
    const r = parseDeadLetterLines(`${JSON.stringify({ ...at(1), data_base64: 'not base64!' })}\n${JSON.stringify({ ...at(2), kind: 'poison' })}\n`);
    expect(r.items).toEqual([]);
    expect(r.problems).toEqual([expect.stringContaining('line 1: not a dead letter: data_base64'), expect.stringContaining('line 2: not a dead letter: kind')]);
  });

  it('reads redriven ids, skipping a torn last line', () => {
    const text = `${redrivenLine('a/1', new Date(0))}\n${redrivenLine('a/2', new Date(0))}\n{"id":"a/`;
    expect(parseRedrivenLines(text)).toEqual(new Set(['a/1', 'a/2']));
  });
});

describe('order, uniqueness and selection', () => {
  it('orders by time, then by stream position (sequence numbers as numbers, then tick index)', () => {
    const t = '2024-03-01T15:00:00.000Z';
    const later = at(1, { at: '2024-03-01T15:00:01.000Z' });
    const seq10 = at(10, { at: t });
    const seq9tick1 = at(9, { at: t, id: `${SHARD}/9/1` });
    const seq9tick0 = at(9, { at: t, id: `${SHARD}/9/0` });
    expect(inDeadLetterOrder([later, seq10, seq9tick1, seq9tick0]).map((l) => l.id)).toEqual([seq9tick0.id, seq9tick1.id, seq10.id, later.id]);
  });

  it('keeps one letter per id: the first', () => {
    const first = at(1);
    const replayed = at(1, { at: '2024-03-02T00:00:00.000Z' });
    expect(uniqueById([first, at(2), replayed])).toEqual([first, at(2)]);
  });

  it('filters by kind and by symbol (case-insensitive), and hides redriven ids unless asked', () => {
    const aapl = at(1);
    const msftTick = at(2, { kind: 'tick', partition_key: 'MSFT' });
    const msftRow = at(3, { kind: 'row', partition_key: 'MSFT', row: tick({ symbol: 'MSFT' }) });
    const all = [aapl, msftTick, msftRow];
    expect(selectLetters(all, { symbol: 'msft' })).toEqual([msftTick, msftRow]);
    expect(selectLetters(all, { kind: 'row' })).toEqual([msftRow]);
    expect(selectLetters(all, { kind: 'tick', symbol: 'AAPL' })).toEqual([]);
    const redriven = new Set([msftTick.id]);
    expect(selectLetters(all, {}, redriven)).toEqual([aapl, msftRow]);
    expect(selectLetters(all, { includeRedriven: true }, redriven)).toEqual(all);
  });

  it('counts by kind and by reason prefix, most frequent first', () => {
    const s = summarize(
      [
        at(1, { reason: 'invalid JSON: Unexpected end' }),
        at(2, { reason: 'invalid tick: price: Too small' }),
        at(3, { reason: 'invalid tick: symbol: bad' }),
        at(4, { kind: 'crash', reason: '' }),
      ],
      2,
    );
    expect(s).toEqual({ total: 4, by_kind: { record: 3, crash: 1 }, by_reason: { 'invalid tick': 2, '(none)': 1, 'invalid JSON': 1 }, redriven_hidden: 2 });
    expect(reasonPrefix('\x1b[2Jwipe: x')).toBe('\\x1b[2Jwipe');
  });
});

describe('printing data inertly', () => {
  it('escapes terminal controls, bidi overrides, separators and tag characters; leaves markup as text', () => {
    expect(inert('a\x1b[31mred\x1b[0m\x07 \x9b2J <b>bold</b> \u202eevil \u2028 \u{e0041} tab\there\nnext')).toBe(
      'a\\x1b[31mred\\x1b[0m\\x07 \\x9b2J <b>bold</b> \\u202eevil \\u2028 \\u{e0041} tab\\there\\nnext',
    );
    expect(inert('plain: AAPL 12.5 % → ok ✓ 日本')).toBe('plain: AAPL 12.5 % → ok ✓ 日本');
  });

  it('keeps JSON JSON: the same value, no unsafe character raw', () => {
    const v = { s: 'x\u009b\u202e\u2028\ufffe\u200by\x1b' };
    const j = inertJson(JSON.stringify(v));
    expect(JSON.parse(j)).toEqual(v);
    expect(j).not.toMatch(RAW_UNSAFE);
  });

  it('cuts on code points', () => {
    expect(cutChars('😀😀😀', 2)).toBe('😀…');
    expect(cutChars('abc', 3)).toBe('abc');
  });

  it('list and show never emit an unsafe character from data, and the JSON formats give the data back exactly', () => {
    fc.assert(
      fc.property(hostile, hostile, hostile, (reason, key, idTail) => {
        const letter = at(7, { reason, partition_key: key, id: `${SHARD}/${idTail}`, stack: reason, held_by: [key] });
        const table = formatList([letter], { format: 'table', columns: 100 });
        const shown = formatShow(letter, { format: 'text' });
        for (const out of [table, shown]) expect(out).not.toMatch(RAW_UNSAFE);
        const listed = formatList([letter], { format: 'json', columns: 100 });
        const showJson = formatShow(letter, { format: 'json' });
        for (const out of [listed, showJson]) expect(out).not.toMatch(RAW_UNSAFE);
        expect((JSON.parse(listed) as { letters: unknown[] }).letters).toEqual([{ id: letter.id, kind: 'record', partition_key: key, at: letter.at, reason }]);
        expect(JSON.parse(showJson)).toEqual(letter);
      }),
      { numRuns: 300 },
    );
  });
});

describe('list', () => {
  const letters = [
    at(1, { reason: `invalid tick: ${'x'.repeat(300)}` }),
    at(2, { kind: 'tick', id: `${SHARD}/2/0`, partition_key: 'MSFT', reason: 'analysis failed: RangeError: <b>bad</b>' }),
  ];

  it('prints one line per letter, cut to the terminal width, then the counts', () => {
    const out = formatList(letters, { format: 'table', columns: 120 }).split('\n');
    expect(out[0]).toMatch(/^id +kind +key +at +reason$/);
    expect(out[1]).toContain(`${SHARD}/1`);
    expect(out[1]).toContain('record');
    expect(Array.from(out[1] ?? '')).toHaveLength(120);
    expect(out[1]?.endsWith('…')).toBe(true);
    expect(out[2]).toContain('analysis failed: RangeError: <b>bad</b>');
    expect(out.slice(3)).toEqual(['', '2 dead letters', 'by kind:   record 1, tick 1', 'by reason: analysis failed 1, invalid tick 1', '']);
  });

  it('json: the whole reason, one line per letter, and a summary', () => {
    const out = formatList(letters, { format: 'json', columns: 40 });
    const doc = JSON.parse(out) as { letters: { reason: string }[]; summary: { total: number } };
    expect(doc.letters.map((l) => l.reason)).toEqual(letters.map((l) => l.reason));
    expect(doc.summary.total).toBe(2);
    expect(out.split('\n').filter((l) => l.startsWith('{"id"'))).toHaveLength(2);
  });

  it('says how many redriven letters it hides, and marks redriven ones when shown', () => {
    expect(formatList([], { format: 'table', columns: 80, redrivenHidden: 3 })).toBe('no dead letters (3 redriven not shown; --all shows them)\n');
    const out = formatList(letters, { format: 'table', columns: 200, redriven: new Set([`${SHARD}/1`]) });
    expect(out).toContain(`${SHARD}/1 *`);
    expect(out).toContain('* already redriven');
  });
});

describe('show', () => {
  it('pretty-prints a UTF-8 JSON payload', () => {
    const payload = { v: 1, symbol: 'AAPL', note: 'x\u202ey' };
    const out = formatShow(at(1, { data_base64: Buffer.from(JSON.stringify(payload)).toString('base64') }), { format: 'text' });
    expect(out).toContain('UTF-8 JSON');
    expect(out).toContain(inertJson(JSON.stringify(payload, null, 2)));
  });

  it('prints anything else as base64, whole', () => {
    const torn = Buffer.from('{"v":1,"symbol":');
    const binary = Buffer.from([0xff, 0xfe, 0x00, 0x1b, 0x5b]);
    for (const bytes of [torn, binary]) {
      const p = decodePayload(bytes.toString('base64'));
      expect(p).toEqual({ encoding: 'base64', bytes: bytes.length, text: bytes.toString('base64') });
    }
    expect(formatShow(at(1, { data_base64: binary.toString('base64') }), { format: 'text' })).toContain(`payload:       5 bytes, base64 (not UTF-8 JSON)\n${binary.toString('base64')}\n`);
  });

  it('shows the row, the sinks that hold it, the stack line by line and where the letter was stored', () => {
    const letter = at(1, { kind: 'row', row: tick(), held_by: ['dynamodb-ticks', 'lake'], stack: 'Error: boom\n    at f (x.ts:1)' });
    const out = formatShow(letter, { format: 'text', payloadS3: 's3://lake/dead-letters/dt=2024-03-01/x.json', redriven: true });
    expect(out).toContain('held by:       dynamodb-ticks, lake');
    expect(out).toContain('stack:\n  Error: boom\n      at f (x.ts:1)\n');
    expect(out).toContain('"symbol": "AAPL"');
    expect(out).toContain('stored in:     s3://lake/dead-letters/dt=2024-03-01/x.json');
    expect(out).toContain('redriven:      yes');
  });
});

describe('SQS messages: whole up to 256 KiB, a pointer to S3 above', () => {
  it('counts the body and every attribute name, type and value, as SQS does', () => {
    expect(sqsMessageBytes('abc', { a: { DataType: 'String', StringValue: 'xy' } })).toBe(3 + 1 + 6 + 2);
    expect(sqsMessageBytes('é', {})).toBe(2);
  });

  /** A letter whose message is exactly `bytes` long (body + attributes): the bulk in its payload (base64 grows by 4), the rest in its stack. */
  function letterOfMessageSize(bytes: number): DeadLetter {
    const base = at(1, { stack: '' });
    const size = (l: DeadLetter): number => {
      const plan = planSqsMessage(l, 'lake');
      return sqsMessageBytes(plan.body, plan.attributes);
    };
    const bulk = { ...base, data_base64: 'AAAA'.repeat(Math.floor((bytes - size(base) - 100) / 4)) };
    return { ...bulk, stack: 'x'.repeat(bytes - size(bulk)) };
  }

  it('sends a letter of exactly 256 KiB whole', () => {
    const letter = letterOfMessageSize(SQS_MAX_MESSAGE_BYTES);
    const plan = planSqsMessage(letter, 'lake');
    expect(sqsMessageBytes(plan.body, plan.attributes)).toBe(SQS_MAX_MESSAGE_BYTES);
    expect(plan.object).toBeUndefined();
    expect(JSON.parse(plan.body)).toEqual(letter);
  });

  it('one byte more goes to S3 whole, and the message points at it (attributes counted: the body alone would still fit)', () => {
    const letter = letterOfMessageSize(SQS_MAX_MESSAGE_BYTES + 1);
    expect(Buffer.byteLength(JSON.stringify(letter))).toBeLessThan(SQS_MAX_MESSAGE_BYTES);
    const plan = planSqsMessage(letter, 'lake');
    const key = `dead-letters/dt=2024-03-01/${SHARD}_1.json`;
    expect(plan.object).toEqual({ bucket: 'lake', key, body: JSON.stringify(letter) });
    const { data_base64: _d, ...rest } = letter;
    expect(JSON.parse(plan.body)).toEqual({ ...rest, payload_s3: `s3://lake/${key}`, data_bytes: Buffer.from(letter.data_base64, 'base64').length });
    expect(sqsMessageBytes(plan.body, plan.attributes)).toBeLessThanOrEqual(SQS_MAX_MESSAGE_BYTES);
  });

  it('a 900 KB record: the pointer has no payload and says how many bytes it stands for', () => {
    const data = Buffer.alloc(900 * 1024, 7);
    const letter = at(2, { data_base64: data.toString('base64'), kind: 'row', row: tick() });
    const plan = planSqsMessage(letter, 'lake');
    const body = parseSqsBody(plan.body);
    expect(body.kind).toBe('pointer');
    const pointer = (body as { pointer: DeadLetterPointer }).pointer;
    expect(pointer).not.toHaveProperty('data_base64');
    expect(pointer).not.toHaveProperty('row');
    expect(pointer.data_bytes).toBe(data.length);
    const back = resolvePointer(pointer, plan.object?.body ?? '');
    expect(back).toEqual({ ok: true, value: letter });
  });

  it('a pointer still too large (a huge reason and stack) keeps the start of the reason; the object keeps everything', () => {
    const letter = at(3, { data_base64: Buffer.alloc(300 * 1024).toString('base64'), reason: 'r'.repeat(300 * 1024), stack: 's'.repeat(10_000) });
    const plan = planSqsMessage(letter, 'lake');
    expect(sqsMessageBytes(plan.body, plan.attributes)).toBeLessThanOrEqual(SQS_MAX_MESSAGE_BYTES);
    const pointer = JSON.parse(plan.body) as Record<string, unknown>;
    expect(String(pointer.reason)).toHaveLength(1024);
    expect(pointer.stack).toBeUndefined();
    expect(JSON.parse(plan.object?.body ?? '')).toEqual(letter);
  });

  it('attribute values hold no raw control characters (SQS refuses them) and at most 256 characters of the reason', () => {
    const plan = planSqsMessage(at(1, { reason: `\x1b[31m${'é'.repeat(400)}\ufffe` }), 'lake');
    expect(plan.attributes.reason?.StringValue).toMatch(/^\\x1b\[31mé+…$/);
    expect(Array.from(plan.attributes.reason?.StringValue ?? '')).toHaveLength(256);
    expect(plan.attributes.kind).toEqual({ DataType: 'String', StringValue: 'record' });
    expect(planSqsMessage(at(1, { reason: 'x\ufffe' }), 'lake').body).not.toMatch(/\ufffe/);
  });

  it('object keys: one S3 key segment per id, distinct ids never share one', () => {
    expect(urlSafeId(`${SHARD}/123/4`)).toBe(`${SHARD}_123_4`);
    const ids = ['a/b', 'a_b', 'a~5Fb', 'a b', 'a/b/', 'ä', '../x'];
    const safe = ids.map(urlSafeId);
    expect(new Set(safe).size).toBe(ids.length);
    for (const s of safe) expect(s).toMatch(/^[A-Za-z0-9._~-]+$/);
    expect(deadLetterObjectKey({ id: 'x/1', at: '2024-12-31T23:59:59.999-01:00' })).toBe('dead-letters/dt=2025-01-01/x_1.json');
  });

  it('follows a pointer only into dead-letters/ of the configured bucket', () => {
    const p = (payload_s3: string): DeadLetterPointer => ({ ...at(1), data_base64: undefined, payload_s3, data_bytes: 1 }) as unknown as DeadLetterPointer;
    expect(pointerLocation(p(`s3://lake/${DEAD_LETTER_OBJECT_PREFIX}dt=x/a.json`), 'lake')).toEqual({ ok: true, value: { bucket: 'lake', key: 'dead-letters/dt=x/a.json' } });
    expect(pointerLocation(p('s3://other/dead-letters/a.json'), 'lake').ok).toBe(false);
    expect(pointerLocation(p('s3://lake/ticks/dt=x/a.parquet'), 'lake').ok).toBe(false);
    expect(pointerLocation(p('s3://lake/dead-letters/../ticks/a'), 'lake').ok).toBe(false);
  });

  it('refuses an object that holds another letter', () => {
    const plan = planSqsMessage(at(1, { data_base64: Buffer.alloc(300 * 1024).toString('base64') }), 'lake');
    const pointer = (parseSqsBody(plan.body) as { pointer: DeadLetterPointer }).pointer;
    expect(resolvePointer(pointer, JSON.stringify(at(2))).ok).toBe(false);
    expect(parseSqsBody('{"x":1}').kind).toBe('invalid');
    expect(parseSqsBody('nope').kind).toBe('invalid');
  });
});

describe('redrive', () => {
  it('puts the dead-lettered bytes for record/tick/crash, the row envelope for row', () => {
    const raw = Buffer.from([0, 1, 2, 255]);
    expect(redriveRecord(at(1, { data_base64: raw.toString('base64') }))).toEqual({ ok: true, value: { partitionKey: 'AAPL', data: raw } });
    const row = tick({ symbol: 'MSFT' });
    expect(redriveRecord(at(2, { kind: 'row', partition_key: 'MSFT', row }))).toEqual({ ok: true, value: { partitionKey: 'MSFT', data: encodeRowRedrive(row) } });
    expect(redriveRecord(at(3, { kind: 'row' })).ok).toBe(false);
    expect(redriveRecord(at(4, { partition_key: '' })).ok).toBe(false);
  });

  const fast = { sleep: () => Promise.resolve(), maxAttempts: 3 };
  type Call = { keys: string[]; ids: string[] };

  /** A fake PutRecords: `fail(record, call)` says which entries Kinesis refuses. */
  function fakePut(fail: (r: RedriveRecord, call: number) => boolean): { put: (rs: readonly RedriveRecord[]) => Promise<PutOutcome[]>; calls: Call[]; log: string[] } {
    const calls: Call[] = [];
    const log: string[] = [];
    let seq = 0;
    return {
      calls,
      log,
      put: (rs) => {
        const call = calls.length;
        calls.push({ keys: rs.map((r) => r.partitionKey), ids: rs.map((r) => r.data.toString()) });
        return Promise.resolve(
          rs.map((r): PutOutcome => {
            if (fail(r, call)) return { ok: false, error: 'ProvisionedThroughputExceededException: slow down' };
            log.push(`put ${r.data.toString()}`);
            return { ok: true, shardId: 'shardId-0', sequenceNumber: String(++seq) };
          }),
        );
      },
    };
  }
  const letter = (n: number, key: string): DeadLetter => at(n, { partition_key: key, data_base64: Buffer.from(`L${n}`).toString('base64') });

  it('keeps each key in order: one letter per key per call, a refused letter retried before its successors', async () => {
    const letters = [letter(1, 'A'), letter(2, 'A'), letter(3, 'B'), letter(4, 'A'), letter(5, 'B')];
    const f = fakePut((r, call) => r.data.toString() === 'L1' && call === 0);
    const acked: string[] = [];
    const report = await redriveLetters(letters, f.put, (a) => (acked.push(...a.map((x) => x.letter.id)), f.log.push(`ack ${a.map((x) => x.letter.id).join(',')}`), Promise.resolve()), fast);
    for (const c of f.calls) expect(new Set(c.keys).size).toBe(c.keys.length);
    const order = (key: string): string[] => f.log.filter((l) => l.startsWith('put')).map((l) => l.slice(4)).filter((d) => letters.find((x) => Buffer.from(x.data_base64, 'base64').toString() === d)?.partition_key === key);
    expect(order('A')).toEqual(['L1', 'L2', 'L4']);
    expect(order('B')).toEqual(['L3', 'L5']);
    expect(report.redriven.map((r) => r.letter.id).sort()).toEqual(letters.map((l) => l.id).sort());
    expect(report.failed).toEqual([]);
    expect(acked.sort()).toEqual(letters.map((l) => l.id).sort());
  });

  it('acknowledges a letter only after Kinesis accepted it, and never one it refused', async () => {
    const f = fakePut((r) => r.data.toString() === 'L2');
    const events: string[] = [];
    const report = await redriveLetters([letter(1, 'A'), letter(2, 'B'), letter(3, 'B'), letter(4, 'C')], f.put, (a) => (events.push(...a.map((x) => `ack L${x.letter.sequence_number}`)), Promise.resolve()), fast);
    expect(events).toEqual(['ack L1', 'ack L4']);
    expect(f.log).toEqual(['put L1', 'put L4']);
    expect(report.failed).toEqual([{ id: `${SHARD}/2`, error: 'ProvisionedThroughputExceededException: slow down' }]);
    // L3 would overtake L2 on key B: held back, never put.
    expect(report.held).toEqual([{ id: `${SHARD}/3`, partition_key: 'B' }]);
    expect(f.calls.flatMap((c) => c.ids)).not.toContain('L3');
  });

  it('retries a call that failed as a whole, and gives up after the attempts', async () => {
    let n = 0;
    const put = (rs: readonly RedriveRecord[]): Promise<PutOutcome[]> =>
      ++n === 1 ? Promise.reject(new Error('socket hang up')) : Promise.resolve(rs.map(() => ({ ok: true as const, shardId: 's', sequenceNumber: '1' })));
    expect((await redriveLetters([letter(1, 'A')], put, () => Promise.resolve(), fast)).redriven).toHaveLength(1);
    const never = (): Promise<PutOutcome[]> => Promise.reject(new Error('ResourceNotFoundException: no stream'));
    const report = await redriveLetters([letter(1, 'A'), letter(2, 'A')], never, () => Promise.resolve(), fast);
    expect(report).toEqual({ redriven: [], failed: [{ id: `${SHARD}/1`, error: 'ResourceNotFoundException: no stream' }], held: [{ id: `${SHARD}/2`, partition_key: 'A' }], unmarked: [] });
  });

  it('reports letters put but not marked (the delete or the append failed)', async () => {
    const f = fakePut(() => false);
    const report = await redriveLetters([letter(1, 'A')], f.put, () => Promise.reject(new Error('AccessDenied')), fast);
    expect(report.redriven).toHaveLength(1);
    expect(report.unmarked).toEqual([{ id: `${SHARD}/1`, error: 'AccessDenied' }]);
  });
});
