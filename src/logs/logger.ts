import { hostname } from 'node:os';
import pino, { type DestinationStream, type Logger } from 'pino';
import { systemClock, type Clock } from '../clock.js';
import type { Config } from '../config.js';
import {
  createLogger as createServiceLogger,
  installFatalHandlers,
  jsonLogger,
  type ServiceLogger,
} from '../logging.js';

/** The service name of Overseer's own log files: `<logs.dirs[0]>/overseer.log`, rotated like any other. */
export const OWN_SERVICE = 'overseer';

export interface LoggerOptions {
  level: pino.LevelWithSilent;
  /** Paths whose values become `[redacted]` (config `logs.redact`); default DEFAULT_REDACT_PATHS. */
  redact?: readonly string[];
  /** Where JSON lines go besides the file; stdout when absent. */
  destination?: DestinationStream;
  /**
   * Overseer's own log file (through `overseer/logging`, so the shipper ships it like a service's log);
   * absent: stdout only. Lines go to the file first, then to `destination`.
   */
  file?: { dir: string; maxBytes: number; maxAgeMs: number };
  clock?: Clock;
  host?: string;
}

/** The root logger and its file, if any. Components get `logger.child({ component })`, never this one. */
export interface RootLogger {
  logger: Logger;
  /** Overseer's own rotating file; serve rotates it at shutdown before the shipper's last pass. */
  file: ServiceLogger | undefined;
  /** Everything buffered (file, stdout) written out now. Never throws. */
  flushSync: () => void;
  /** Flushes; closes the file (not stdout). Safe to call twice. */
  close: () => void;
  /** Uncaught exception → a `fatal` line, both streams flushed synchronously, exit 1. Returns the undo. */
  installFatalHandlers: () => () => void;
}

/**
 * `serve`'s root logger from the config: JSON lines to stdout (operators and tests read it) and, when
 * `logs.dirs` names a folder, the same lines first into `<logs.dirs[0]>/overseer.log`, rotated per
 * `logs.rotate` and shipped like any service's log. Secrets at `logs.redact` are censored in both.
 */
export function createOverseerLogger(
  config: Pick<Config, 'log' | 'logs'>,
  opts: { stdout?: DestinationStream } = {},
): RootLogger {
  const dir = config.logs.dirs[0];
  return createLogger({
    level: config.log.level,
    ...(opts.stdout ? { destination: opts.stdout } : {}),
    redact: config.logs.redact,
    ...(dir === undefined
      ? {}
      : { file: { dir, maxBytes: config.logs.rotate.maxBytes, maxAgeMs: config.logs.rotate.maxAge } }),
  });
}

const STDOUT_BUFFER_BYTES = 16 * 1024 * 1024;

export function createLogger(opts: LoggerOptions): RootLogger {
  // Bounded: a stdout nobody reads (a paused terminal, a stuck container runtime) drops lines past 16 MiB
  // instead of growing the heap; the file, when there is one, has them all.
  const stdout = opts.destination ?? pino.destination({ fd: 1, sync: false, maxLength: STDOUT_BUFFER_BYTES });
  if (!opts.file) {
    const logger = jsonLogger(
      {
        level: opts.level,
        base: { service: OWN_SERVICE, host: opts.host ?? hostname(), pid: process.pid },
        clock: opts.clock ?? systemClock,
      },
      opts.redact,
      stdout,
    );
    const flushSync = (): void => {
      try {
        (stdout as { flushSync?: () => void }).flushSync?.();
      } catch {
        // A SonicBoom still opening its fd has nothing to flush.
      }
    };
    return {
      logger,
      file: undefined,
      flushSync,
      close: flushSync,
      installFatalHandlers: () => installFatalHandlers(logger),
    };
  }
  const file = createServiceLogger({
    service: OWN_SERVICE,
    dir: opts.file.dir,
    level: opts.level,
    ...(opts.redact ? { redact: opts.redact } : {}),
    maxBytes: opts.file.maxBytes,
    maxAgeMs: opts.file.maxAgeMs,
    host: opts.host ?? hostname(),
    also: stdout,
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  return {
    logger: file.logger,
    file,
    flushSync: file.flushSync,
    close: file.close,
    installFatalHandlers: () => installFatalHandlers(file),
  };
}
