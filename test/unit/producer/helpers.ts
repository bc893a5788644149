import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../../shared/logger';
import type { Clock } from '../../../producer/clock';

export interface CapturedLogs {
  logger: Logger;
  lines: () => Record<string, unknown>[];
  raw: () => string;
}

/** A winston logger writing JSON lines into memory, for assertions on parsed lines. */
export function captureLogs(level = 'debug'): CapturedLogs {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  const logger = createLogger({ service: 'producer-test', level, stream });
  const raw = (): string => chunks.join('');
  return {
    logger,
    raw,
    lines: () =>
      raw()
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** A clock whose sleeps return at once and advance virtual time. */
export class FakeClock implements Clock {
  readonly sleeps: number[] = [];
  constructor(public t = 1_764_000_000_000) {}
  now(): number {
    return this.t;
  }
  sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.t += ms;
    return Promise.resolve();
  }
}

/** winston writes asynchronously; let its stream flush before reading lines. */
export function flushLogs(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
