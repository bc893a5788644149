import type { Logger } from '../../shared/logger';
import { retry, type RetryPolicy } from '../../shared/runtime/retry';
import { ConfigurationStopError } from '../errors';
import { LeaseLostError, type CheckpointFn, type KclRecord, type ShardProcessor } from '../shard-processor';

/** The checkpointer object aws-kcl hands to processRecords/shardEnded/shutdownRequested. */
interface KclCheckpointer {
  checkpoint(sequenceNumber: string | undefined, cb: (err: unknown, seq?: string) => void): void;
  checkpoint(cb: (err: unknown, seq?: string) => void): void;
}

interface ProcessRecordsInput {
  records: KclRecord[];
  checkpointer: KclCheckpointer;
  millisBehindLatest?: number;
}

/** Errors the daemon reports for a checkpoint that can never succeed on this worker. */
const LEASE_GONE = /Shutdown|LeaseLost|InvalidState/i;

const CHECKPOINT_RETRY: RetryPolicy = { baseMs: 100, maxMs: 5_000, maxAttempts: Infinity };

/**
 * Binds a ShardProcessor to aws-kcl's callback interface. Every callback is
 * invoked exactly once, after the async work settles: the daemon sends the
 * next action only after it, so records stay in order.
 */
export function kclRecordProcessor(
  makeProcessor: (shardId: string) => ShardProcessor,
  logger: Logger,
  onFatal: (err: unknown) => void,
  onConfigurationStop: (err: ConfigurationStopError, proc: ShardProcessor | undefined) => void,
) {
  let proc: ShardProcessor | undefined;

  const checkpointer =
    (cp: KclCheckpointer): CheckpointFn =>
    (seq?: string) =>
      // Every refusal but a lost lease is retried for as long as it takes:
      // the daemon reports errors as text the classifier cannot read, and a
      // checkpoint is idempotent, so retrying a throttle or a DynamoDB hiccup
      // is always safe.
      retry(
        async () => {
          const err = await new Promise<unknown>((resolve) => {
            const cb = (e: unknown) => resolve(e);
            if (seq === undefined) cp.checkpoint(cb);
            else cp.checkpoint(seq, cb);
          });
          if (err === null || err === undefined) return;
          const msg = typeof err === 'string' ? err : err instanceof Error ? err.message : JSON.stringify(err);
          if (LEASE_GONE.test(msg)) throw new LeaseLostError(`checkpoint refused: ${msg}`);
          throw new Error(msg);
        },
        {
          policy: CHECKPOINT_RETRY,
          shouldRetry: (e) => !(e instanceof LeaseLostError),
          onRetry: (e, attempt, delayMs) => logger.warn('checkpoint failed, retrying', { error: (e as Error).message, attempt, delayMs }),
        },
      );

  const run = (what: string, work: () => Promise<void> | void, done: () => void): void => {
    Promise.resolve()
      .then(work)
      .then(done, (err: unknown) => {
        if (err instanceof LeaseLostError) {
          logger.warn(`${what}: lease lost`, { error: err.message });
          proc?.leaseLost();
          done();
          return;
        }
        if (err instanceof ConfigurationStopError) {
          // Not acknowledged either: the worker stops, and nothing past the
          // last checkpoint counts as done.
          onConfigurationStop(err, proc);
          return;
        }
        // Anything else escaped the processor's own handling (a bug): crash
        // rather than acknowledge. The shard replays from its checkpoint;
        // if the same record kills it again and again, the crash-loop
        // quarantine finds it (shard-processor.ts).
        logger.error(`${what} failed; exiting so the shard replays from its checkpoint`, { error: err instanceof Error ? err.stack : String(err) });
        onFatal(err);
      });
  };

  return {
    initialize(input: { shardId: string; sequenceNumber?: string | null }, done: () => void) {
      run('initialize', () => {
        proc = makeProcessor(input.shardId);
        return proc.initialize(input.shardId, input.sequenceNumber);
      }, done);
    },
    processRecords(input: ProcessRecordsInput, done: () => void) {
      run('processRecords', () => proc!.processRecords(input.records, checkpointer(input.checkpointer), input.millisBehindLatest), done);
    },
    leaseLost(_input: unknown, done: () => void) {
      run('leaseLost', () => proc?.leaseLost(), done);
    },
    shardEnded(input: { checkpointer: KclCheckpointer }, done: () => void) {
      run('shardEnded', () => proc!.shardEnded(checkpointer(input.checkpointer)), done);
    },
    shutdownRequested(input: { checkpointer: KclCheckpointer }, done: () => void) {
      run('shutdownRequested', () => proc!.shutdownRequested(checkpointer(input.checkpointer)), done);
    },
  };
}
