import winston from 'winston';

export type Logger = winston.Logger;

export interface LoggerOptions {
  service: string;
  level?: string;
  /** Where JSON lines go. Default stderr: in the consumer, stdout belongs to
   *  the MultiLangDaemon protocol and one stray line corrupts it. */
  stream?: NodeJS.WritableStream;
}

/**
 * Structured JSON logs with stable keys (service, level, timestamp, message).
 * Every process logs to stderr, never stdout, so the same logger is safe in
 * the KCL record processor.
 */
export function createLogger(opts: LoggerOptions): Logger {
  return winston.createLogger({
    level: opts.level ?? 'info',
    defaultMeta: { service: opts.service },
    format: winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: true }), winston.format.json()),
    transports: [new winston.transports.Stream({ stream: opts.stream ?? process.stderr })],
  });
}
