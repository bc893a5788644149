/**
 * The one reader of historical OHLCV bar files, shared by the replay source
 * (producer) and the backtest (cli), so a file that replays also backtests.
 *
 * Inputs:
 * - CSV (RFC 4180: fields may be quoted, a quoted field may hold commas,
 *   line breaks and doubled quotes `""`; lines end in CRLF or LF; a UTF-8
 *   byte-order mark is ignored). Gzipped CSV is read as it is (recognised by
 *   its magic bytes, whatever the name). Streamed record by record, so a
 *   file's size is bounded by disk, not memory.
 * - Parquet, read through DuckDB. Rows come in time order when the
 *   timestamp column is a TIMESTAMP, DATE or number; a text timestamp column
 *   is read in file order, like CSV.
 *
 * Columns (by name in the header, any order, case-insensitive, extra columns
 * ignored): `timestamp`, `open`, `close`, `volume` are required; `high` and
 * `low` are checked when present (the analysis does not use them); `symbol`,
 * when present, names each row's symbol. Without it, the `symbol` option, or
 * else the file name (`AAPL.csv`, `aapl_1m.csv.gz` → AAPL) names them all.
 *
 * Values: prices are positive decimal numbers, volume non-negative (plain
 * decimal notation with an optional exponent; no hex, no `Infinity`, no
 * empty cell).
 *
 * Timestamps, one rule for every input ({@link parseTimestamp}):
 * - ISO 8601 date or date-time: `2024-01-02`, `2024-01-02T14:30`,
 *   `2024-01-02 14:30:00.250`, `2024-01-02T09:30:00-05:00`, `…Z`. **A value
 *   without a zone is UTC**, so `ts` and the lake's `dt` partition are the
 *   same on every machine. The date must exist (no 2023-02-30).
 * - Epoch numbers: seconds below 1e10 (until the year 2286), milliseconds
 *   from there on.
 * - Parquet TIMESTAMP/DATE columns as they are (a zone-less TIMESTAMP is UTC).
 * - Within the tick bounds of shared/tick (2000 to 2100).
 *
 * Every problem is a {@link BarFileError} naming the file, the line (CSV) or
 * row (Parquet) and the column. A problem with one row goes to `onBadRow`
 * and reading goes on; a problem with the file (no header, a missing column,
 * unreadable) is thrown.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { SYMBOL_RE, SYMBOL_RULE, TICK_BOUNDS, timeProblem } from './tick';

export interface Bar {
  symbol: string;
  /** epoch ms, UTC */
  ts: number;
  open: number;
  close: number;
  volume: number;
  /** Where the bar came from: the CSV line (where its record starts) or the Parquet row, 1-based. */
  line: number;
}

export class BarFileError extends Error {
  override readonly name = 'BarFileError';
  constructor(
    readonly file: string,
    /** CSV line or Parquet row (1-based); undefined for the file as a whole. */
    readonly line: number | undefined,
    /** What is wrong, without the place: `close "abc" is not a number`. */
    readonly reason: string,
    readonly column?: string,
    options?: { cause?: unknown; parquet?: boolean; bound?: string },
  ) {
    super(`${basename(file)}${line === undefined ? '' : options?.parquet === true ? ` row ${line}` : `:${line}`}: ${reason}`, options);
    this.bound = options?.bound;
  }

  /** The tick bound the row breaks, in the tick schema's words (shared/tick
   *  timeProblem), so a refusal is counted under the same reason whichever
   *  gate refused it. */
  readonly bound: string | undefined;
}

export interface BarReadOptions {
  /** Symbol of every row in a file without a `symbol` column. */
  readonly symbol?: string;
  /** A row that is not a bar; reading goes on. Default: throw it. */
  readonly onBadRow?: (err: BarFileError) => void;
}

const REQUIRED = ['timestamp', 'open', 'close', 'volume'] as const;
const PRICES = ['open', 'high', 'low', 'close'] as const;
type Column = (typeof REQUIRED)[number] | 'high' | 'low' | 'symbol';
const COLUMNS: readonly Column[] = [...REQUIRED, 'high', 'low', 'symbol'];
const BAR_COLUMNS_HINT = 'timestamp,open,high,low,close,volume';

const EPOCH_RE = /^\d+(?:\.\d+)?$/;
// date, then optionally [ T]HH:MM[:SS[.fraction]], then optionally Z or ±HH[:]MM
const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;
const NUM_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
/** Epoch seconds below this, milliseconds from it on (1e10 s is the year 2286). */
const EPOCH_MS_FROM = 1e10;

/** An epoch number, in seconds or milliseconds, to epoch ms. */
function epochToMs(n: number): number {
  return n < EPOCH_MS_FROM ? Math.round(n * 1000) : Math.round(n);
}

/** The timestamp rule (see the file comment); undefined when `raw` is not a timestamp. */
export function parseTimestamp(raw: string): number | undefined {
  const v = raw.trim();
  if (EPOCH_RE.test(v)) return epochToMs(Number(v));
  const m = ISO_RE.exec(v);
  if (m === null) return undefined;
  // Plain indexing, no destructuring into arrays: this runs once per row.
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const frac = m[7] ?? '';
  const zone = m[8] ?? 'Z';
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second, Number(frac.padEnd(3, '0').slice(0, 3)));
  // Date.UTC rolls 2023-02-30 over into March; a real date survives the round trip.
  if (new Date(ms).getUTCDate() !== day) return undefined;
  if (zone.toUpperCase() === 'Z') return ms;
  const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
  if (z === null || Number(z[2]) > 23 || Number(z[3]) > 59) return undefined;
  return ms - (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3])) * 60_000;
}

/** `AAPL.csv`, `aapl_1m.csv.gz`, `BRK-B.parquet` → the symbol; undefined when the name is not one. */
export function symbolFromFileName(file: string): string | undefined {
  const stem = basename(file)
    .replace(/(\.(csv|parquet|txt))?(\.gz)?$/i, '')
    .split(/[_\s]/)[0]
    ?.toUpperCase();
  return stem !== undefined && SYMBOL_RE.test(stem) ? stem : undefined;
}

type Cell = string | number | bigint | null | undefined;
const show = (c: Cell): string => (typeof c === 'string' ? JSON.stringify(c.length > 40 ? `${c.slice(0, 40)}…` : c) : String(c));

function number(c: Cell): number | undefined {
  if (typeof c === 'number') return Number.isFinite(c) ? c : undefined;
  if (typeof c === 'bigint') return Number(c);
  if (typeof c !== 'string') return undefined;
  const t = c.trim();
  if (!NUM_RE.test(t)) return undefined;
  const x = Number(t);
  return Number.isFinite(x) ? x : undefined;
}

/**
 * One row's cells (by column name) → a bar, or the reason it is not one.
 * CSV and Parquet both come through here, so both follow the same rules.
 */
const VALUE_COLUMNS = [...PRICES, 'volume'] as const;

type ColumnIndex = Readonly<Partial<Record<Column, number>>>;

/** A row's cell for column `c`: undefined when the file has no such column; empty when a CSV row is short. */
function cell(cells: readonly Cell[], index: ColumnIndex, c: Column): Cell {
  const i = index[c];
  return i === undefined ? undefined : i < cells.length ? cells[i] : '';
}

function toBar(cells: readonly Cell[], index: ColumnIndex, symbolOfFile: string | undefined, line: number): Bar | { column: Column; reason: string; bound?: string } {
  const rawTs = cell(cells, index, 'timestamp');
  const ts = typeof rawTs === 'string' ? parseTimestamp(rawTs) : typeof rawTs === 'number' || typeof rawTs === 'bigint' ? epochToMs(Number(rawTs)) : undefined;
  if (ts === undefined) return { column: 'timestamp', reason: `timestamp ${show(rawTs)} is not a timestamp (ISO 8601 or epoch seconds/ms)` };
  // The bounds check first: the schema's wording is only needed for a refusal.
  const late = ts >= TICK_BOUNDS.tsMin && ts < TICK_BOUNDS.tsMax ? undefined : timeProblem(ts);
  if (late !== undefined) return { column: 'timestamp', reason: `timestamp ${show(rawTs)} is out of range: ${late.replace(/^ts: /, '')}`, bound: late };
  const values: Partial<Record<Column, number>> = {};
  for (const c of VALUE_COLUMNS) {
    const raw = cell(cells, index, c);
    if (raw === undefined && (c === 'high' || c === 'low')) continue;
    const x = number(raw);
    if (x === undefined) return { column: c, reason: `${c} ${show(raw)} is not a number` };
    if (c === 'volume' ? x < 0 : x <= 0) return { column: c, reason: `${c} must be ${c === 'volume' ? 'non-negative' : 'positive'}, got ${x}` };
    values[c] = x;
  }
  let symbol = symbolOfFile;
  if (symbol === undefined) {
    const raw = cell(cells, index, 'symbol');
    symbol = typeof raw === 'string' ? raw.trim().toUpperCase() : '';
    if (!SYMBOL_RE.test(symbol)) return { column: 'symbol', reason: `symbol ${show(raw)} is not a symbol (${SYMBOL_RULE})` };
  }
  return { symbol, ts, open: values.open!, close: values.close!, volume: values.volume!, line };
}

/** The symbol for every row when the file has no `symbol` column; throws when nothing names one. */
function fileSymbol(file: string, hasColumn: boolean, option: string | undefined): string | undefined {
  if (hasColumn) return undefined;
  const s = option ?? symbolFromFileName(file);
  if (s === undefined) throw new BarFileError(file, undefined, 'no symbol column, no symbol given, and the file name is not a symbol');
  return s;
}

const throwIt = (err: BarFileError): never => {
  throw err;
};

/** Bars from a CSV or Parquet file, by its name (`.parquet` is Parquet, anything else CSV). */
export function readBars(file: string, opts: BarReadOptions = {}): AsyncGenerator<Bar> {
  return /\.parquet$/i.test(file) ? readParquetBars(file, opts) : readCsvBars(file, opts);
}

/**
 * RFC 4180 records from text arriving in chunks. A record without a quote
 * (nearly all of them) is split on commas directly; a record with one goes
 * through the quote-aware scanner. A record is held back until its end has
 * arrived, which for a quoted field can be several lines later.
 */
const MAX_RECORD_CHARS = 1 << 20;

export class CsvRecords {
  private buf = '';
  /** Line number of `buf[0]`. */
  private line = 1;

  constructor(private readonly onRecord: (fields: string[], line: number) => void) {}

  /** Returns the line of a quoted field that runs on past the length cap, if any. */
  push(chunk: string): number | undefined {
    this.buf += chunk;
    return this.drain(false);
  }

  /** The input ended. Returns the line of a quoted field that never closed, if any. */
  end(): number | undefined {
    return this.drain(true);
  }

  private drain(final: boolean): number | undefined {
    const s = this.buf;
    let pos = 0;
    // Searched again only once passed: a fresh search per record would scan
    // the whole rest of the buffer for every line of a file without quotes.
    let quote = s.indexOf('"');
    while (pos < s.length) {
      const nl = s.indexOf('\n', pos);
      if (quote !== -1 && quote < pos) quote = s.indexOf('"', pos);
      if (quote === -1 || (nl !== -1 && quote > nl)) {
        if (nl === -1 && !final) break;
        const end = nl === -1 ? s.length : nl;
        const text = s.charCodeAt(end - 1) === 13 ? s.slice(pos, end - 1) : s.slice(pos, end);
        this.onRecord(text.split(','), this.line++);
        pos = end + 1;
        continue;
      }
      const r = scanQuoted(s, pos, final);
      if (r === undefined) {
        // Only a quote that never closes makes a record this long; without
        // the cap it would hold the rest of the file in memory.
        if (s.length - pos > MAX_RECORD_CHARS) return this.line;
        break;
      }
      if (r.unterminated === true) return this.line;
      this.onRecord(r.fields, this.line);
      this.line += r.lines;
      pos = r.next;
    }
    this.buf = pos >= s.length ? '' : s.slice(pos);
    return undefined;
  }
}

/** One record from `pos` with quotes honoured; undefined when its end has not arrived yet. */
function scanQuoted(s: string, pos: number, final: boolean): { fields: string[]; next: number; lines: number; unterminated?: boolean } | undefined {
  const fields: string[] = [];
  let i = pos;
  let lines = 0;
  for (;;) {
    let field = '';
    if (s[i] === '"') {
      i++;
      for (;;) {
        const q = s.indexOf('"', i);
        if (q === -1) return final ? { fields, next: s.length, lines, unterminated: true } : undefined;
        const part = s.slice(i, q);
        field += part;
        for (let k = part.indexOf('\n'); k !== -1; k = part.indexOf('\n', k + 1)) lines++;
        // A quote as the last character may yet be the first of a doubled pair.
        if (q + 1 === s.length && !final) return undefined;
        if (s[q + 1] === '"') {
          field += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      // Text between the closing quote and the delimiter (not RFC 4180, but
      // common: `"a" ,b`) is kept rather than lost.
      const stop = nextDelimiter(s, i);
      if (stop === -1 && !final) return undefined;
      field += s.slice(i, stop === -1 ? s.length : stop);
      i = stop === -1 ? s.length : stop;
    } else {
      const stop = nextDelimiter(s, i);
      if (stop === -1 && !final) return undefined;
      field = s.slice(i, stop === -1 ? s.length : stop);
      i = stop === -1 ? s.length : stop;
    }
    if (s[i] === ',') {
      fields.push(field);
      i++;
      continue;
    }
    // End of the record: a line break (CRLF or LF) or the end of the input.
    fields.push(field.endsWith('\r') ? field.slice(0, -1) : field);
    return { fields, next: i + 1, lines: lines + 1 };
  }
}

function nextDelimiter(s: string, from: number): number {
  const comma = s.indexOf(',', from);
  const nl = s.indexOf('\n', from);
  return comma === -1 ? nl : nl === -1 ? comma : Math.min(comma, nl);
}

async function isGzip(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const { bytesRead, buffer } = await fh.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/** Streams bars from a CSV file (plain or gzipped), record by record. */
export async function* readCsvBars(file: string, opts: BarReadOptions = {}): AsyncGenerator<Bar> {
  const onBad = opts.onBadRow ?? throwIt;
  let index: Partial<Record<Column, number>> | undefined;
  let symbolOfFile: string | undefined;
  let pending: Bar[] = [];
  const onRecord = (fields: string[], line: number): void => {
    if (fields.length === 1 && (fields[0] ?? '').trim() === '') return;
    if (index === undefined) {
      const names = fields.map((f, i) => (i === 0 ? f.replace(/^\uFEFF/, '') : f).trim().toLowerCase());
      index = {};
      for (const c of COLUMNS) if (names.includes(c)) index[c] = names.indexOf(c);
      const missing = REQUIRED.filter((c) => index?.[c] === undefined);
      if (missing.length > 0) {
        throw new BarFileError(file, line, `header lacks column ${missing.map((c) => `"${c}"`).join(', ')} (expected ${BAR_COLUMNS_HINT}, any order), got ${show(fields.join(','))}`, missing[0]);
      }
      symbolOfFile = fileSymbol(file, index.symbol !== undefined, opts.symbol);
      return;
    }
    const r = toBar(fields, index, symbolOfFile, line);
    if ('reason' in r) onBad(new BarFileError(file, line, r.reason, r.column, r.bound === undefined ? undefined : { bound: r.bound }));
    else pending.push(r);
  };
  const records = new CsvRecords(onRecord);
  const unclosed = (line: number): BarFileError => new BarFileError(file, line, `a quoted field opens here and is not closed within ${MAX_RECORD_CHARS} characters or before the end of the file`);
  let input: Readable | undefined;
  try {
    // Before the stream: a missing file fails here, not as an unhandled 'error' event.
    const gzip = await isGzip(file);
    const raw = createReadStream(file, { highWaterMark: 1 << 20 });
    if (gzip) {
      const gunzip = createGunzip();
      raw.on('error', (e) => gunzip.destroy(e));
      input = raw.pipe(gunzip);
    } else input = raw;
    input.setEncoding('utf8');
    for await (const chunk of input) {
      const bad = records.push(chunk as string);
      if (bad !== undefined) throw unclosed(bad);
      if (pending.length > 0) {
        const out = pending;
        pending = [];
        for (const b of out) yield b;
      }
    }
    const bad = records.end();
    if (bad !== undefined) throw unclosed(bad);
    for (const b of pending) yield b;
  } catch (err) {
    if (err instanceof BarFileError) throw err;
    throw new BarFileError(file, undefined, (err as Error).message, undefined, { cause: err });
  } finally {
    input?.destroy();
  }
  if (index === undefined) throw new BarFileError(file, undefined, `empty file: expected a header line (${BAR_COLUMNS_HINT})`);
}

const NUMERIC_TYPES = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|REAL|DECIMAL.*)$/;
const TIME_TYPES = /^(TIMESTAMP.*|DATE)$/;

/**
 * Streams bars from a Parquet file through DuckDB, chunk by chunk. Numbers
 * and TIMESTAMP/DATE columns are read natively (and sorted by time); text
 * cells go through the same parsing as CSV cells.
 */
export async function* readParquetBars(file: string, opts: BarReadOptions = {}): AsyncGenerator<Bar> {
  const onBad = opts.onBadRow ?? throwIt;
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await conn.run("SET TimeZone = 'UTC'");
    const source = `read_parquet('${file.replace(/'/g, "''")}', file_row_number = true)`;
    const described = await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`);
    const types = new Map<string, { name: string; type: string }>();
    for (const [name, type] of described.getRows()) types.set(String(name).toLowerCase(), { name: String(name), type: String(type) });
    for (const c of REQUIRED) if (!types.has(c)) throw new BarFileError(file, undefined, `Parquet file lacks column "${c}" (expected ${BAR_COLUMNS_HINT})`, c);
    const symbolOfFile = fileSymbol(file, types.has('symbol'), opts.symbol);
    const present = COLUMNS.filter((c) => types.has(c));
    const index: Partial<Record<Column, number>> = {};
    present.forEach((c, i) => (index[c] = i));
    const ident = (c: Column): string => `"${types.get(c)!.name.replace(/"/g, '""')}"`;
    const select = present.map((c) => {
      const t = types.get(c)!.type;
      if (c === 'timestamp' && TIME_TYPES.test(t)) return `CAST(epoch_ms(CAST(${ident(c)} AS TIMESTAMP)) AS VARCHAR) AS "${c}"`;
      return NUMERIC_TYPES.test(t) ? `CAST(${ident(c)} AS DOUBLE) AS "${c}"` : `CAST(${ident(c)} AS VARCHAR) AS "${c}"`;
    });
    const tsType = types.get('timestamp')!.type;
    // A TIMESTAMP column becomes its epoch ms as text: read back through the
    // epoch rule it is ms (>= 1e10 from 1970-04-26 on, and the tick bounds
    // start in 2000), so it needs no rule of its own.
    const timeOrdered = TIME_TYPES.test(tsType) || NUMERIC_TYPES.test(tsType);
    const result = await conn.stream(`SELECT ${select.join(', ')}, file_row_number FROM ${source} ORDER BY ${timeOrdered ? `${ident('timestamp')}, ` : ''}file_row_number`);
    for (;;) {
      const chunk = await result.fetchChunk();
      if (chunk === null || chunk.rowCount === 0) break;
      for (const row of chunk.getRows()) {
        const line = Number(row[present.length]) + 1;
        const r = toBar(row as Cell[], index, symbolOfFile, line);
        if ('reason' in r) onBad(new BarFileError(file, line, r.reason, r.column, { parquet: true, ...(r.bound === undefined ? {} : { bound: r.bound }) }));
        else yield r;
      }
    }
  } catch (err) {
    if (err instanceof BarFileError) throw err;
    throw new BarFileError(file, undefined, (err as Error).message, undefined, { cause: err });
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}
