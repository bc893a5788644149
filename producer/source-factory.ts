import type { Logger } from '../shared/logger';
import type { Clock } from './clock';
import type { ProducerConfig } from './config';
import { ProducerMetrics } from './metrics';
import { ReplaySource } from './sources/replay';
import type { SymbolProvider, TickSource } from './sources/source';
import { SyntheticSource } from './sources/synthetic';
import { YahooSource } from './sources/yahoo';

export interface SourceDeps {
  readonly logger: Logger;
  /** Overrides config.symbols, e.g. the symbols this task holds leases for. */
  readonly symbols?: SymbolProvider;
  readonly metrics?: ProducerMetrics;
  /** For tests and the bench: Yahoo's fetch. */
  readonly fetch?: typeof fetch;
  readonly clock?: Clock;
}

/** The one place a source is chosen from configuration (producer/task.ts, which the ECS task, npm start and the soak all run). */
export function createSource(config: Pick<ProducerConfig, 'source' | 'symbols' | 'yahoo' | 'replay' | 'synthetic'>, deps: SourceDeps): TickSource {
  const symbols = deps.symbols ?? config.symbols;
  const metrics = deps.metrics ?? new ProducerMetrics();
  switch (config.source) {
    case 'yahoo':
      return new YahooSource({
        symbols,
        logger: deps.logger,
        metrics,
        pollIntervalMs: config.yahoo.pollIntervalMs,
        batchSize: config.yahoo.batchSize,
        concurrency: config.yahoo.concurrency,
        requestTimeoutMs: config.yahoo.requestTimeoutMs,
        ...(deps.fetch === undefined ? {} : { fetch: deps.fetch }),
        ...(deps.clock === undefined ? {} : { clock: deps.clock }),
      });
    case 'replay':
      return new ReplaySource({
        csvFiles: config.replay.csvFiles,
        parquetFiles: config.replay.parquetFiles,
        speed: config.replay.speed,
        loop: config.replay.loop,
        logger: deps.logger,
        metrics,
        ...(config.replay.symbol === undefined ? {} : { symbol: config.replay.symbol }),
        ...(deps.clock === undefined ? {} : { clock: deps.clock }),
      });
    case 'synthetic':
      return new SyntheticSource({
        symbols,
        seed: config.synthetic.seed,
        ratePerSec: config.synthetic.ratePerSec,
        // Market time keeps pace with the wall clock: each symbol ticks
        // rate/symbols times a second, so each tick moves its clock that much.
        tickIntervalMs: Math.max(1, Math.round((1000 * Math.max(1, config.symbols.length)) / config.synthetic.ratePerSec)),
        ...(config.synthetic.maxTicks === undefined ? {} : { maxTicks: config.synthetic.maxTicks }),
      });
  }
}
