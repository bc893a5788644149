import type { Tick, TickSource as TickSourceName } from '../../shared/tick';

/**
 * One contract for every tick source (yahoo, replay, synthetic).
 *
 * Sources yield *batches*: the writer pulls the next batch only once it has
 * room, so a slow Kinesis naturally slows the source (an async generator does
 * not run ahead of its consumer) and nothing queues up unbounded in memory.
 * Within a batch and across batches, ticks of one symbol are in `ts` order;
 * the writer keeps that order per partition key.
 *
 * The iteration ends when the source is exhausted (replay without loop) or
 * when `signal` aborts; aborting is the normal way to stop a live source and
 * must not throw.
 */
export interface TickSource {
  readonly name: TickSourceName;
  ticks(signal: AbortSignal): AsyncIterable<readonly Tick[]>;
}

/**
 * The symbols a live source should cover right now. A function rather than
 * a list because scale-out moves symbol groups between producer tasks while
 * they run: live sources read it once per poll/step.
 */
export type SymbolProvider = () => readonly string[];

export function toSymbolProvider(symbols: readonly string[] | SymbolProvider): SymbolProvider {
  if (typeof symbols === 'function') return symbols;
  const frozen = Object.freeze([...symbols]);
  return () => frozen;
}
