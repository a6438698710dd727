/**
 * `overseer/logging`: what a service imports to log where Overseer ships from (and Overseer logs with
 * itself). pino writes JSON lines into `<dir>/<service>.log`; the file is rotated by size and on every
 * `maxAgeMs` boundary (1 h: each UTC hour) to names the shipper picks up (logs/log-names.ts).
 *
 *   import { createLogger, installFatalHandlers } from 'overseer/logging';
 *   const log = createLogger({ service: 'ledger', dir: '/var/log/acme' });
 *   installFatalHandlers(log);                 // optional: uncaught exception → fatal line → exit 1
 *   log.logger.info({ tenant }, 'started');
 *   …at shutdown: log.rotateNow(); log.close();
 *
 * Importing this module does nothing; every effect starts at `createLogger`.
 */
import { hostname } from 'node:os';
import pino, { type DestinationStream, type Logger } from 'pino';
import { systemClock, type Clock } from './clock.js';
import { ErrorCodes, OverseerError } from './errors/index.js';
import { RotatingFile } from './logs/rotating-file.js';
import { planRedaction, redactNested } from './logs/redact.js';
import { Tee, type FlushableStream } from './logs/tee.js';

export { RotatingFile } from './logs/rotating-file.js';
export type { RotatingFileOptions, RotatingFileStats } from './logs/rotating-file.js';
export {
  ROTATED_PATTERN,
  activeName,
  parseRotatedName,
  rotatedName,
  sanitizeHost,
} from './logs/log-names.js';
export type { RotatedName } from './logs/log-names.js';

export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_AGE_MS = 60 * 60 * 1000;

/** Replaced (not extended) by `redact`; spread it to add your own: `[...DEFAULT_REDACT_PATHS, 'card']`. */
export const DEFAULT_REDACT_PATHS: readonly string[] = [
  'password',
  '*.password',
  'passwd',
  '*.passwd',
  'secret',
  '*.secret',
  'token',
  '*.token',
  'accessToken',
  '*.accessToken',
  'refreshToken',
  '*.refreshToken',
  'apiKey',
  '*.apiKey',
  'authorization',
  '*.authorization',
  'cookie',
  '*.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
];

export const REDACT_CENSOR = '[redacted]';

export interface CreateLoggerOptions {
  /** 1–64 characters of [A-Za-z0-9_-]: it names the files. */
  service: string;
  dir: string;
  /** Default `info`. */
  level?: pino.LevelWithSilent;
  /** Paths (pino/fast-redact syntax) whose values become `[redacted]`; default DEFAULT_REDACT_PATHS. */
  redact?: readonly string[];
  /** Default 64 MiB. */
  maxBytes?: number;
  /** Default 1 h. */
  maxAgeMs?: number;
  /** Default the machine's host name; sanitized into file names, verbatim in the `host` field. */
  host?: string;
  clock?: Clock;
  /** 0 (default): every line is written before the log call returns. See logs/rotating-file.ts. */
  bufferBytes?: number;
  flushIntervalMs?: number;
  onRotate?: (file: string, bytes: number) => void;
  onError?: (err: Error) => void;
  /** Extra fields on every line, besides `service`, `host` and `pid`. */
  base?: Record<string, unknown>;
  /**
   * Also write every line here, after the file: e.g. `pino.destination({ fd: 1, sync: false })` to keep
   * stdout for a container runtime or a terminal. A failing copy never costs the file a line.
   */
  also?: DestinationStream;
}

export interface ServiceLogger {
  logger: Logger;
  destination: RotatingFile;
  /** Rotates the active file unless empty; returns the rotated file. Use at shutdown, before close. */
  rotateNow: () => string | undefined;
  /** Writes anything buffered (file and `also`) before returning; pino calls it after each `fatal`. */
  flushSync: () => void;
  /** Flushes and closes the file; `also` is flushed, not closed (stdout stays usable). */
  close: () => void;
}

export function createLogger(opts: CreateLoggerOptions): ServiceLogger {
  const clock = opts.clock ?? systemClock;
  const host = opts.host ?? hostname();
  const destination = new RotatingFile({
    dir: opts.dir,
    service: opts.service,
    host,
    maxBytes: opts.maxBytes ?? DEFAULT_MAX_BYTES,
    maxAgeMs: opts.maxAgeMs ?? DEFAULT_MAX_AGE_MS,
    clock,
    bufferBytes: opts.bufferBytes,
    flushIntervalMs: opts.flushIntervalMs,
    onRotate: opts.onRotate,
    onError: opts.onError,
  });
  const sink: FlushableStream = opts.also ? new Tee(destination, opts.also) : destination;
  let logger: Logger;
  try {
    logger = jsonLogger(
      { level: opts.level, base: { service: opts.service, host, pid: process.pid, ...opts.base }, clock },
      opts.redact,
      sink,
    );
  } catch (e) {
    destination.close();
    throw e;
  }
  return {
    logger,
    destination,
    rotateNow: () => destination.rotateNow(),
    flushSync: () => sink.flushSync?.(),
    close: () => {
      sink.flushSync?.();
      destination.close();
    },
  };
}

/**
 * pino as every Overseer-made logger writes: the given base fields, `time` as ISO text from `clock` (so a
 * line's time and the file it lands in agree in tests too), secrets redacted. Bad options (a level, a
 * redact path) throw LOG_LOGGER_OPTIONS_INVALID.
 *
 * Throughput (bench `logs`): `*.name` redact paths are done by logs/redact.ts, not by pino, whose
 * wildcard redactor would run on every value of every line; and the time text is built once per
 * millisecond, not per line.
 */
export function jsonLogger(
  opts: { level?: pino.LevelWithSilent; base: Record<string, unknown>; clock: Clock },
  redact: readonly string[] = DEFAULT_REDACT_PATHS,
  sink: DestinationStream,
): Logger {
  const { clock } = opts;
  const plan = planRedaction(redact);
  const nested = <T extends object>(o: T): T => redactNested(o, plan.nested, REDACT_CENSOR);
  let lastMs = Number.NaN;
  let lastTime = '';
  let logger: Logger;
  try {
    logger = pino(
      {
        level: opts.level ?? 'info',
        base: opts.base,
        timestamp: () => {
          const ms = clock.nowMs();
          if (ms !== lastMs) [lastMs, lastTime] = [ms, `,"time":"${new Date(ms).toISOString()}"`];
          return lastTime;
        },
        ...(plan.pino.length > 0 ? { redact: { paths: [...plan.pino], censor: REDACT_CENSOR } } : {}),
        ...(plan.nested.length > 0 ? { formatters: { log: nested } } : {}),
      },
      sink,
    );
  } catch (cause) {
    throw new OverseerError(ErrorCodes.LOG_LOGGER_OPTIONS_INVALID, 'invalid logger options', {
      details: [String((cause as Error).message)],
      hint: 'check `level` (trace…fatal, silent) and the `redact` paths (e.g. `a.b`, `*.password`, `h["x-y"]`)',
      cause,
      exitCode: 2,
    });
  }
  if (plan.nested.length > 0) {
    // Child bindings bypass formatters.log (pino resets the bindings formatter for children), so they
    // get the same treatment here; children are made with Object.create, so theirs inherit this one.
    type Child = (this: Logger, bindings: pino.Bindings, options?: pino.ChildLoggerOptions) => Logger;
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with each logger as `this`
    const pinoChild = logger.child as unknown as Child;
    const child: Child = function (bindings, options) {
      return pinoChild.call(this, nested(bindings), options);
    };
    (logger as unknown as { child: Child }).child = child;
  }
  return logger;
}

export interface FatalHandlerOptions {
  /** Default `process.exit`. */
  exit?: (code: number) => void;
}

/**
 * Opt-in: on an uncaught exception (or an unhandled rejection, which Node raises as one) log it at
 * `fatal`, write everything out synchronously, and exit 1 — the line that explains a crash is the one
 * most worth keeping. Returns a function that removes the handler.
 */
export function installFatalHandlers(
  target: ServiceLogger | Logger,
  options: FatalHandlerOptions = {},
): () => void {
  const { logger, flushSync } =
    'destination' in target && target.destination instanceof RotatingFile
      ? target
      : { logger: target as Logger, flushSync: undefined };
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const onUncaught = (err: Error, origin: string): void => {
    try {
      logger.fatal({ err, origin }, 'uncaught exception; exiting');
      flushSync?.();
    } finally {
      exit(1);
    }
  };
  process.on('uncaughtException', onUncaught);
  return () => {
    process.removeListener('uncaughtException', onUncaught);
  };
}
