/** The analytics core: pure, synchronous, O(1) per tick. */
export * from './alerts';
export * from './analyzer';
export * from './bollinger';
export * from './config';
export * from './crossover';
export * from './ema';
export * from './errors';
export type * from './indicator';
export * from './numeric';
export * from './rsi';
export * from './sma';
export * from './volume';
export * from './vwap';
export type { EnrichedTick, Signal } from '../shared/enriched';
