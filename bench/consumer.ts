/**
 * `npm run bench:consumer`: consumer throughput figures, printed as one JSON
 * object on stdout. Each figure is its own exported function returning a
 * partial result, so further figures (multilang protocol throughput,
 * end-to-end latency) are added to FIGURES without touching the others.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LakeSink } from '../consumer/sinks/lake-sink';
import type { EnrichedTick } from '../shared/enriched';
import { dtOf } from '../shared/enriched';
import { closeDuckdb } from '../shared/parquet';
import { benchEndToEnd, benchProcessorProtocol } from './consumer-processor';

export interface LakeSinkBenchOptions {
  /** Default 200,000. */
  rows?: number;
  /** Rows per write() call, like a KCL GetRecords batch. Default 500. */
  batch?: number;
  symbols?: number;
}

/** A deterministic enriched row; realistic null pattern and string sizes. */
export function benchRow(i: number, symbols: number, startTs = Date.UTC(2024, 0, 2, 14, 30)): EnrichedTick {
  const ts = startTs + Math.floor(i / symbols) * 1000;
  const price = 100 + ((i * 7919) % 1000) / 100;
  return {
    symbol: `SYM${i % symbols}`,
    ts,
    dt: dtOf(ts),
    price,
    volume: 1000 + (i % 500),
    previous_close: 100,
    change_pct: price - 100,
    tick_change_pct: 0.01,
    sma5: price,
    sma20: price,
    ema12: price,
    rsi14: 50,
    bb_upper: price + 1,
    bb_lower: price - 1,
    vwap: price,
    volume_avg: 1200,
    volume_ratio: 0.9,
    signal: i % 997 === 0 ? 'BUY' : null,
    anomaly: false,
    volume_spike: false,
    market_state: 'REGULAR',
    source: 'synthetic',
    produced_at: ts + 3,
  };
}

/**
 * Rows/s through LakeSink.write + flush into Snappy Parquet, the Firehose-like
 * buffer at its default size so files are large, as in steady state. Row
 * construction happens before the clock starts; a warm-up run (JIT, DuckDB
 * start) is not counted; the median of `runs` is reported, because on a
 * shared 2-core machine single runs vary by ±30 %.
 */
export async function benchLakeSink(
  opts: LakeSinkBenchOptions & { runs?: number } = {},
): Promise<{ lake_sink_rows_per_s: number; lake_sink_rows: number; lake_sink_runs: string }> {
  const n = opts.rows ?? 200_000;
  const batch = opts.batch ?? 500;
  const symbols = opts.symbols ?? 50;
  const runs = opts.runs ?? 3;
  const rows = Array.from({ length: n }, (_, i) => benchRow(i, symbols));
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tickstream-bench-lake-'));
  try {
    const once = async (name: string, input: EnrichedTick[]): Promise<number> => {
      const sink = new LakeSink({ dataDir: path.join(dir, name), workerId: 'bench', shardId: 'shardId-000000000000', flushIntervalMs: 0 });
      const t0 = performance.now();
      for (let i = 0; i < input.length; i += batch) await sink.write(input.slice(i, i + batch));
      await sink.close();
      const s = (performance.now() - t0) / 1000;
      if (sink.stats.rowsWritten !== input.length) throw new Error(`lake sink wrote ${sink.stats.rowsWritten} of ${input.length} rows`);
      return input.length / s;
    };
    await once('warm', rows.slice(0, Math.min(n, 50_000)));
    const rates: number[] = [];
    for (let r = 0; r < runs; r++) rates.push(await once(`run${r}`, rows));
    const sorted = [...rates].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
    return { lake_sink_rows_per_s: Math.round(median), lake_sink_rows: n, lake_sink_runs: rates.map((x) => Math.round(x)).join(',') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export type BenchFigure = () => Promise<Record<string, number | string>>;

/** Every figure `npm run bench:consumer` prints, merged into one object. */
export const FIGURES: Record<string, BenchFigure> = {
  lakeSink: () => benchLakeSink(),
  processor: () => benchProcessorProtocol(),
  endToEnd: () => benchEndToEnd(),
};

export async function runAll(figures: Record<string, BenchFigure> = FIGURES): Promise<Record<string, number | string>> {
  const out: Record<string, number | string> = {};
  for (const f of Object.values(figures)) Object.assign(out, await f());
  return out;
}

if (require.main === module) {
  runAll()
    .then(async (res) => {
      await closeDuckdb();
      process.stdout.write(`${JSON.stringify(res)}\n`);
    })
    .catch((err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    });
}
