import { createLogger } from '../shared/logger';
import { ConfigError, EXIT_CONFIG } from '../shared/runtime/config';
import { loadProducerConfig, type ProducerConfig } from './config';
import { errorForLog } from './errors';
import { startProducerTask } from './task';

/**
 * The producer task: config → (leases) → source → Kinesis writer
 * (producer/task.ts). SIGTERM (ECS stop) and SIGINT stop the source, flush
 * the writer, release leases, and exit 0; a second signal exits at once.
 */
async function main(): Promise<number> {
  let config: ProducerConfig;
  try {
    config = loadProducerConfig(process.env, process.argv.slice(2));
  } catch (err) {
    if (err instanceof ConfigError) {
      createLogger({ service: 'producer' }).error('invalid configuration', { variable: err.variable, errorMessage: err.message });
      // EX_CONFIG, as the consumer: ECS shows the task stopped on its configuration.
      return EXIT_CONFIG;
    }
    throw err;
  }
  const logger = createLogger({ service: 'producer', level: config.logLevel });
  logger.info('producer starting', { source: config.source, symbols: config.symbols.length, stream: config.streamName, workerId: config.workerId, scaleOut: config.scaleOut !== undefined });

  const abort = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++;
    logger.info('signal received, stopping', { signal: sig });
    if (signals > 1) process.exit(130);
    abort.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  try {
    const task = await startProducerTask(config, { logger, signal: abort.signal });
    const result = await task.done;
    return result.flushed ? 0 : 1;
  } catch (err) {
    logger.error('producer failed', errorForLog(err));
    return 1;
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    createLogger({ service: 'producer' }).error('producer crashed', errorForLog(err));
    process.exitCode = 1;
  },
);
