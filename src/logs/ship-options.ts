import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Clock } from '../clock.js';
import { ErrorCodes, OverseerError } from '../errors/index.js';
import { sanitizeHost } from './log-names.js';
import { compileKeyTemplate, DEFAULT_KEY_TEMPLATE, type KeyTemplate } from './object-keys.js';
import type { ObjectStore } from './object-store.js';
import type { BackoffPolicy } from './ship-plan.js';
import { keyAgeParser, type KeyAgeParser } from './ship-expiry.js';

const MIN = 60_000;
const GiB = 1024 ** 3;

/** The shipper's slice of `logs:` (main.ts maps config to it) plus its own tuning, all with defaults. */
export interface LogShipperOptions {
  /** Folders of Overseer's own RotatingFile: rotated names are shipped, the active file never. */
  dirs: readonly string[];
  /**
   * Folders other programs write. Rotated names ship as above; any other file matching `foreignPattern`
   * ships as a snapshot once unchanged for `quietMs`, and is never deleted or truncated (see shipper.ts).
   */
  foreignDirs?: readonly (string | ForeignDir)[];
  /** Which other names in foreign folders are logs; default `/\.log$/`. */
  foreignPattern?: RegExp;
  /** Journal at `<dataDir>/logs/journal.ndjson`, waiting .gz files in `<dataDir>/logs/outbox/`. */
  dataDir: string;
  /** `{host}` of foreign snapshots (rotated names carry their own). */
  host: string;
  /** Default DEFAULT_KEY_TEMPLATE. */
  keyTemplate?: string;
  /** `{prefix}` (logs.s3.prefix); default ''. */
  prefix?: string;
  /** logs.localRetention: a .gz stays this long after its confirmed upload. */
  localRetentionMs: number;
  /** A foreign non-rotated file unchanged this long is shipped (unless its folder says); default 5 min. */
  quietMs?: number;
  /** Between the end of one pass and the start of the next; default 30 s. */
  intervalMs?: number;
  /** Backlog (unshipped bytes on disk) that counts as over the limit; default 10 GiB. */
  maxBacklogBytes?: number;
  /** Fraction of maxBacklogBytes at which OverseerLogBacklogHigh fires; default 0.8. */
  alarmRatio?: number;
  /** Uploads in flight at once; default 2. */
  uploadConcurrency?: number;
  /** Files each stage (compress, upload, clean-up) takes per pass; the rest wait for the next. 256. */
  maxBatch?: number;
  /** New files journaled per pass; the rest are found by the next. 1000. */
  maxNewFilesPerPass?: number;
  /** Per-file retry delays; default 5 s doubling to 15 min. */
  backoff?: Partial<BackoffPolicy>;
  /** Delete objects under `prefix` whose key's date is older than this; off when absent. */
  remoteRetentionMs?: number;
  /** How often remote expiry runs; default 1 h. */
  remoteExpiryIntervalMs?: number;
  /** How often the journal is compacted; default 1 h. */
  compactIntervalMs?: number;
  /** stop()'s default deadline; default 10 s. */
  stopDeadlineMs?: number;
  /** zlib level; default 6. */
  gzipLevel?: number;
  /** Names this shipper in the journal's lock, for whoever finds it taken; default `overseer`. */
  owner?: string;
}

export interface LogShipperDeps {
  store: ObjectStore;
  clock: Clock;
  logger: Logger;
  registry: Registry;
  /** Counts error codes (createErrorCounter(registry).countError), so alarms fire on them. */
  countError?: (code: number) => void;
  /** Jitter in [0, 1); Math.random when absent. */
  random?: () => number;
  /** Called when the backlog goes over maxBacklogBytes (true) or back under (false): tell the writers. */
  onOverLimit?: (overLimit: boolean) => void;
}

/** A foreign folder (config `logs.foreign`) with its own quiet period. */
export interface ForeignDir {
  dir: string;
  /** Default: the shipper's `quietMs`. */
  quietMs?: number;
}

/** Options with every default applied and checked. */
export interface ShipConfig {
  dirs: string[];
  foreignDirs: Array<{ dir: string; quietMs: number }>;
  foreignPattern: RegExp;
  dataDir: string;
  outbox: string;
  host: string;
  template: KeyTemplate;
  prefix: string;
  localRetentionMs: number;
  quietMs: number;
  intervalMs: number;
  maxBacklogBytes: number;
  alarmRatio: number;
  uploadConcurrency: number;
  maxBatch: number;
  maxNewFilesPerPass: number;
  backoff: BackoffPolicy;
  remoteRetentionMs: number | undefined;
  keyAge: KeyAgeParser | undefined;
  remoteExpiryIntervalMs: number;
  compactIntervalMs: number;
  stopDeadlineMs: number;
  gzipLevel: number;
  owner: string;
}

function positiveInt(problems: string[], name: string, v: number): number {
  if (!Number.isInteger(v) || v <= 0) problems.push(`${name} must be a positive integer, not ${v}`);
  return v;
}

function nonNegative(problems: string[], name: string, v: number): number {
  if (!Number.isFinite(v) || v < 0) problems.push(`${name} must be a number ≥ 0, not ${v}`);
  return v;
}

export function resolveShipOptions(o: LogShipperOptions): ShipConfig {
  const problems: string[] = [];
  const dirs = o.dirs.map((d) => resolve(d));
  const quietMs = nonNegative(problems, 'quietMs', o.quietMs ?? 5 * MIN);
  const foreignDirs = (o.foreignDirs ?? []).map((d) =>
    typeof d === 'string'
      ? { dir: resolve(d), quietMs }
      : { dir: resolve(d.dir), quietMs: nonNegative(problems, `quietMs of ${d.dir}`, d.quietMs ?? quietMs) },
  );
  const foreign = foreignDirs.map((f) => f.dir);
  const outbox = resolve(join(o.dataDir, 'logs', 'outbox'));
  if (dirs.length + foreignDirs.length === 0) problems.push('dirs and foreignDirs are both empty');
  for (const d of dirs.filter((x) => foreign.includes(x)))
    problems.push(`${d} is in both dirs and foreignDirs`);
  for (const d of foreign.filter((x, i) => foreign.indexOf(x) !== i))
    problems.push(`${d} is in foreignDirs twice`);
  for (const d of [...dirs, ...foreign].filter((x) => x === outbox))
    problems.push(`${d} is the shipper's own outbox`);
  const remoteRetentionMs = o.remoteRetentionMs;
  const template = compileKeyTemplate(o.keyTemplate ?? DEFAULT_KEY_TEMPLATE);
  let keyAge: KeyAgeParser | undefined;
  if (remoteRetentionMs !== undefined) {
    positiveInt(problems, 'remoteRetentionMs', remoteRetentionMs);
    const parsed = keyAgeParser(template.source, o.prefix ?? '');
    if (typeof parsed === 'string') problems.push(`remote expiry needs dates in the key template: ${parsed}`);
    else keyAge = parsed;
  }
  const alarmRatio = o.alarmRatio ?? 0.8;
  if (!(alarmRatio > 0 && alarmRatio <= 1)) problems.push(`alarmRatio must be in (0, 1], not ${alarmRatio}`);
  const gzipLevel = o.gzipLevel ?? 6;
  if (!Number.isInteger(gzipLevel) || gzipLevel < 0 || gzipLevel > 9)
    problems.push(`gzipLevel must be an integer in 0..9, not ${gzipLevel}`);
  const backoff = { baseMs: o.backoff?.baseMs ?? 5000, maxMs: o.backoff?.maxMs ?? 15 * MIN };
  positiveInt(problems, 'backoff.baseMs', backoff.baseMs);
  if (!(backoff.maxMs >= backoff.baseMs)) problems.push('backoff.maxMs must be ≥ backoff.baseMs');
  const cfg: ShipConfig = {
    dirs,
    foreignDirs,
    foreignPattern: o.foreignPattern ?? /\.log$/,
    dataDir: o.dataDir,
    outbox,
    host: sanitizeHost(o.host),
    template,
    prefix: o.prefix ?? '',
    localRetentionMs: nonNegative(problems, 'localRetentionMs', o.localRetentionMs),
    quietMs,
    intervalMs: positiveInt(problems, 'intervalMs', o.intervalMs ?? 30_000),
    maxBacklogBytes: positiveInt(problems, 'maxBacklogBytes', o.maxBacklogBytes ?? 10 * GiB),
    alarmRatio,
    uploadConcurrency: positiveInt(problems, 'uploadConcurrency', o.uploadConcurrency ?? 2),
    maxBatch: positiveInt(problems, 'maxBatch', o.maxBatch ?? 256),
    maxNewFilesPerPass: positiveInt(problems, 'maxNewFilesPerPass', o.maxNewFilesPerPass ?? 1000),
    backoff,
    remoteRetentionMs,
    keyAge,
    remoteExpiryIntervalMs: positiveInt(
      problems,
      'remoteExpiryIntervalMs',
      o.remoteExpiryIntervalMs ?? 60 * MIN,
    ),
    compactIntervalMs: positiveInt(problems, 'compactIntervalMs', o.compactIntervalMs ?? 60 * MIN),
    stopDeadlineMs: nonNegative(problems, 'stopDeadlineMs', o.stopDeadlineMs ?? 10_000),
    gzipLevel,
    owner: o.owner ?? 'overseer',
  };
  if (problems.length > 0) {
    throw new OverseerError(ErrorCodes.LOG_SHIP_OPTIONS_INVALID, 'invalid log shipper options', {
      details: problems,
      hint: 'fix the logs: section of the config (durations and sizes must be positive)',
      exitCode: 2,
    });
  }
  return cfg;
}
