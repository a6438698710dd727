import pino, { type DestinationStream, type Logger } from 'pino';

export interface LoggerOptions {
  level: string;
  /** Where JSON lines go; stdout when absent. */
  destination?: DestinationStream;
}

/** The root logger. Components get `logger.child({ component })`, never this one directly. */
export function createLogger(opts: LoggerOptions): Logger {
  return pino(
    {
      level: opts.level,
      base: { service: 'overseer' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ['req.headers.authorization', 'token', '*.token'], censor: '[redacted]' },
    },
    opts.destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
