/**
 * Replay OHLCV bars through the same analytics core the consumer runs.
 *
 *   npm run backtest -- --csv <file> [--symbol X] [--out <file.csv|file.parquet>] [--html <report.html>] [--json] [--all-trades]
 *
 * The file is read by shared/bars.ts, the replay's reader: CSV (gzipped or
 * not, quoted fields honoured) or Parquet (by the `.parquet` name), with the
 * columns timestamp,open,close,volume (high, low, symbol optional; any
 * order), one timestamp rule (ISO 8601 or epoch; zone-less is UTC) and every
 * problem reported as `file:line: reason`. Each bar becomes a tick with
 * price = close and previousClose = the previous calendar date's last close
 * (the first date uses its first open). The file is streamed, so its size is
 * bounded by disk, not memory.
 *
 * stdout: the report (or JSON with --json). stderr: bad rows with their line
 * numbers, a progress line about once a second, and with --html the report
 * file's path and size (cli/report/ renders it from the same summary). Exit code 0, 1 on
 * failure, 2 on bad usage or a file that is not a bar file (no header, a
 * required column missing).
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs as nodeParseArgs } from 'node:util';
import { SymbolAnalyzer } from '../analytics';
import type { AlertType } from '../analytics';
import type { EnrichedTick } from '../shared/enriched';
import { BacktestChartCollector } from './report/backtest-chart';
import { renderBacktestHtml } from './report/backtest-html';
import { ReportPathError, checkReportPath, htmlPathProblem, writeReport } from './report/output';
import { closeDuckdb, duckdb, writeEnrichedParquet } from '../shared/parquet';
import { SYMBOL_RE, SYMBOL_RULE } from '../shared/tick';
import { BarFileError, readBars } from '../shared/bars';
import { CrossoverStrategy, PreviousClose, barToTick, csvHeader, csvRow } from './backtest-core';
import { formatReport, type BacktestSummary } from './backtest-report';

export const USAGE = 'usage: npm run backtest -- --csv <file> [--symbol X] [--out <file.csv|file.parquet>] [--html <report.html>] [--json] [--all-trades]';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface BacktestArgs {
  csv: string;
  symbol: string;
  out: string | undefined;
  /** A self-contained HTML report with the charts and the statistics. */
  html?: string | undefined;
  json: boolean;
  allTrades: boolean;
}

/** Without --symbol, the file name stands in (AAPL.csv → AAPL) when it looks like a ticker. */
export function parseBacktestArgs(argv: readonly string[]): BacktestArgs {
  let values;
  try {
    ({ values } = nodeParseArgs({
      args: [...argv],
      options: {
        csv: { type: 'string' },
        symbol: { type: 'string' },
        out: { type: 'string' },
        html: { type: 'string' },
        json: { type: 'boolean', default: false },
        'all-trades': { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) throw new UsageError('');
  if (values.csv === undefined || values.csv === '') throw new UsageError('--csv <file> is required');
  const fromName = path.basename(values.csv).replace(/\.[^.]*$/, '').toUpperCase();
  const symbol = values.symbol ?? (SYMBOL_RE.test(fromName) ? fromName : 'BACKTEST');
  if (!SYMBOL_RE.test(symbol)) throw new UsageError(`--symbol must be ${SYMBOL_RULE}, got ${JSON.stringify(symbol)}`);
  if (values.out !== undefined && !/\.(csv|parquet)$/i.test(values.out)) throw new UsageError('--out must end in .csv or .parquet');
  const htmlProblem = values.html === undefined ? null : htmlPathProblem(values.html);
  if (htmlProblem !== null) throw new UsageError(htmlProblem);
  return { csv: values.csv, symbol, out: values.out, html: values.html, json: values.json, allTrades: values['all-trades'] };
}

interface RowSink {
  /** Returns a promise only when the caller must wait (backpressure, a batch being written). */
  write(row: EnrichedTick): Promise<void> | undefined;
  close(): Promise<void>;
}

/** CSV with the lake's column names; buffered into ~1 MB writes and honouring backpressure. */
class CsvSink implements RowSink {
  private buf: string;
  private readonly stream: WriteStream;

  constructor(file: string) {
    this.stream = createWriteStream(file);
    this.buf = `${csvHeader()}\n`;
  }

  write(row: EnrichedTick): Promise<void> | undefined {
    this.buf += `${csvRow(row)}\n`;
    if (this.buf.length < 1 << 20) return undefined;
    return this.flush();
  }

  private async flush(): Promise<void> {
    const chunk = this.buf;
    this.buf = '';
    if (!this.stream.write(chunk)) await once(this.stream, 'drain');
  }

  async close(): Promise<void> {
    await this.flush();
    this.stream.end();
    await once(this.stream, 'finish');
  }
}

/**
 * Parquet through shared/parquet.ts, the lake's own writer, so the file has
 * exactly the lake's schema. That writer takes a whole array, so rows go out
 * in batches as part files in a temp directory next to the output, and
 * DuckDB merges them into the one file asked for, adding `dt` as the CSV
 * output does. JS memory stays bounded by one batch. No ORDER BY in the
 * merge: the parts are numbered in order, DuckDB reads a glob in name order
 * and keeps insertion order, and sorting would hold the whole file in memory
 * (a unit test checks the order).
 */
class ParquetSink implements RowSink {
  static readonly BATCH = 100_000;
  private batch: EnrichedTick[] = [];
  private parts = 0;

  private constructor(
    private readonly out: string,
    private readonly dir: string,
  ) {}

  static async open(out: string): Promise<ParquetSink> {
    const dir = await mkdtemp(path.join(path.dirname(path.resolve(out)), '.backtest-parts-'));
    return new ParquetSink(out, dir);
  }

  write(row: EnrichedTick): Promise<void> | undefined {
    this.batch.push(row);
    return this.batch.length >= ParquetSink.BATCH ? this.flush() : undefined;
  }

  private async flush(): Promise<void> {
    const rows = this.batch;
    this.batch = [];
    await writeEnrichedParquet(rows, path.join(this.dir, `part-${String(this.parts++).padStart(6, '0')}.parquet`));
  }

  async close(): Promise<void> {
    try {
      if (this.batch.length > 0 || this.parts === 0) await this.flush();
      const tmp = path.join(this.dir, 'merged.parquet');
      const glob = path.join(this.dir, 'part-*.parquet');
      const conn = await (await duckdb()).connect();
      try {
        await conn.run(
          `COPY (SELECT *, strftime(ts, '%Y-%m-%d') AS dt FROM read_parquet(${sql(glob)})) TO ${sql(tmp)} (FORMAT parquet, COMPRESSION snappy)`,
        );
      } finally {
        conn.closeSync();
      }
      await rename(tmp, this.out);
    } finally {
      await rm(this.dir, { recursive: true, force: true });
    }
  }
}

function sql(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

export interface BacktestIo {
  stderr: NodeJS.WritableStream;
  now?: () => number;
  /** Receives every applied bar's close, SMAs and equity, for the HTML report's charts. */
  chart?: BacktestChartCollector;
}

/** Individually listed bad rows; the rest are only counted, so a broken file cannot flood the terminal. */
const MAX_LISTED_BAD_ROWS = 100;

export async function runBacktest(args: BacktestArgs, io: BacktestIo): Promise<BacktestSummary> {
  const now = io.now ?? Date.now;
  const started = now();
  const analyzer = new SymbolAnalyzer(args.symbol);
  const previousClose = new PreviousClose();
  const strategy = new CrossoverStrategy();
  const signals = { BUY: 0, SELL: 0 };
  const alerts: Record<AlertType, number> = { BUY: 0, SELL: 0, ANOMALY: 0, VOLUME_SPIKE: 0 };
  /** The last line (or Parquet row) read; progress counts rows. */
  let lines = 0;
  let rows = 0;
  let applied = 0;
  let bad = 0;
  let outOfOrder = 0;
  let firstTs: number | null = null;
  let lastTs: number | null = null;
  let nextProgress = started + 1000;
  const skip = (where: string): void => {
    if (bad + outOfOrder <= MAX_LISTED_BAD_ROWS) io.stderr.write(`${where}; skipped\n`);
    if (bad + outOfOrder === MAX_LISTED_BAD_ROWS) io.stderr.write(`(further skipped rows are counted, not listed)\n`);
  };

  const sink: RowSink | undefined = args.out === undefined ? undefined : /\.parquet$/i.test(args.out) ? await ParquetSink.open(args.out) : new CsvSink(args.out);
  let sinkClosed = false;
  try {
    const onBadRow = (err: BarFileError): void => {
      lines = Math.max(lines, err.line ?? 0);
      bad++;
      skip(err.message);
    };
    for await (const bar of readBars(args.csv, { symbol: args.symbol, onBadRow })) {
      lines = bar.line;
      if ((++rows & 1023) === 0 && now() >= nextProgress) {
        const s = (now() - started) / 1000;
        io.stderr.write(`[backtest] ${lines.toLocaleString('en-US')} lines, ${applied.toLocaleString('en-US')} bars applied, ${Math.round(lines / s).toLocaleString('en-US')} lines/s\n`);
        nextProgress = now() + 1000;
      }
      if (lastTs !== null && bar.ts <= lastTs) {
        outOfOrder++;
        skip(new BarFileError(args.csv, bar.line, `timestamp ${new Date(bar.ts).toISOString()} is not after the previous bar's`, 'timestamp').message);
        continue;
      }
      const r = analyzer.analyze(barToTick(bar, args.symbol, previousClose.next(bar)));
      // Cannot happen after the check above; kept so a change in either rule fails loudly.
      if (r.kind !== 'applied') throw new Error(`analyzer skipped line ${lines} as a duplicate`);
      applied++;
      firstTs ??= bar.ts;
      lastTs = bar.ts;
      const row = r.row;
      if (row.signal !== null) signals[row.signal]++;
      for (const a of r.alerts) alerts[a.type]++;
      strategy.onBar(bar.ts, bar.close, row.signal);
      io.chart?.add({ ts: bar.ts, close: bar.close, sma5: row.sma5, sma20: row.sma20, mark: strategy.mark() });
      const wait = sink?.write(row);
      if (wait !== undefined) await wait;
    }
    sinkClosed = true;
    await sink?.close();
  } finally {
    if (!sinkClosed) await sink?.close().catch(() => undefined);
    await closeDuckdb();
  }
  return {
    symbol: args.symbol,
    file: args.csv,
    lines,
    barsApplied: applied,
    badRows: bad,
    outOfOrderRows: outOfOrder,
    firstTs,
    lastTs,
    signals,
    alerts,
    strategy: strategy.stats(),
    elapsedSeconds: (now() - started) / 1000,
  };
}

export async function main(argv: readonly string[], stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): Promise<number> {
  let args: BacktestArgs;
  try {
    args = parseBacktestArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    stderr.write(`${err.message ? `${err.message}\n` : ''}${USAGE}\n`);
    return 2;
  }
  try {
    // Before the run, which may take minutes on a large file.
    if (args.html !== undefined) await checkReportPath(args.html);
    const chart = args.html === undefined ? undefined : new BacktestChartCollector();
    const summary = await runBacktest(args, { stderr, ...(chart ? { chart } : {}) });
    stdout.write(args.json ? `${JSON.stringify(summary)}\n` : formatReport(summary, args.allTrades));
    if (args.html !== undefined && chart !== undefined) {
      const html = renderBacktestHtml(summary, chart.data(), { allTrades: args.allTrades, generatedAt: Date.now() });
      stderr.write(`${await writeReport(args.html, html)}\n`);
    }
    return 0;
  } catch (err) {
    if (err instanceof ReportPathError) {
      stderr.write(`backtest: ${err.message}\n`);
      return 1;
    }
    // A file-level problem (row-level ones are skipped and listed above)
    // means "not a bar file": exit 2. One with a cause is I/O (a missing
    // file, a broken gzip or Parquet file): exit 1, like any failure.
    if (err instanceof BarFileError && err.cause === undefined) {
      stderr.write(`${err.message}\n`);
      return 2;
    }
    stderr.write(`backtest failed: ${(err as Error).message ?? String(err)}\n`);
    return 1;
  }
}

if (require.main === module) {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  main(process.argv.slice(2), process.stdout, process.stderr).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`backtest failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
