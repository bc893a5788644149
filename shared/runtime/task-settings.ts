import type { z } from 'zod';
import type { TickSource } from '../tick';
import { int, num, oneOf } from './config';

/**
 * The schemas of the settings a deployment hands from CDK context to a task's
 * environment, in one place: the task reads its variable with the schema here
 * at start-up, and shared/runtime/deploy-config.ts reads the context key with the same schema
 * at synth. So `cdk synth -c intervalMs=500` fails at synth, naming the key,
 * instead of deploying a task that exits with EX_CONFIG, rolls the ECS
 * circuit breaker back and leaves retained stores behind.
 */

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;

export function logLevelSetting(): z.ZodType<(typeof LOG_LEVELS)[number]> {
  return oneOf(LOG_LEVELS);
}

/** The producer's poll interval: Yahoo rate-limits (429 without retry) below about a poll per second. */
export function pollIntervalSetting(): z.ZodType<number> {
  return int(1_000, 3_600_000);
}

/** TTL of the ticks table's rows, days (fractions allowed: tests expire rows in minutes). */
export function ticksTtlDaysSetting(): z.ZodType<number> {
  return num(0.001, 3650);
}

/** What a tick source needs besides its name; the input it lacks, if any. */
export function missingSourceInput(source: TickSource, inputs: { readonly symbols: number; readonly replayFiles: number }): 'symbols' | 'replayFiles' | undefined {
  if (source !== 'replay' && inputs.symbols === 0) return 'symbols';
  if (source === 'replay' && inputs.replayFiles === 0) return 'replayFiles';
  return undefined;
}
