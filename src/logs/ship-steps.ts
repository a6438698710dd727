import { rm, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { ErrorCodes, OverseerError, isOverseerError } from '../errors/index.js';
import { fsyncDir, gzipFile, verifyGzip } from './compress.js';
import { nextState, type FileState, type Journal, type JournalEntry } from './journal.js';
import { objectKey } from './object-keys.js';
import type { ObjectStore, StoredObject } from './object-store.js';
import type { ShipMetrics } from './ship-metrics.js';
import type { ShipConfig } from './ship-options.js';
import { backoffMs, isSnapshot, keyVars, outboxPath } from './ship-plan.js';

/**
 * One file's steps, each ending in a journal append. The order is the crash-safety argument (see
 * shipper.ts): nothing is deleted unless the entry that makes it redundant is already durable.
 */

export type Step = 'discover' | 'compress' | 'source' | 'upload' | 'cleanup' | 'expire';

export type ShipEvent =
  | { type: 'discovered'; fileId: string; path: string; bytes: number }
  | { type: 'compressed'; fileId: string; path: string; bytes: number; gzBytes: number }
  | { type: 'source-deleted'; fileId: string; path: string }
  | { type: 'uploading'; fileId: string; key: string; sentBytes: number; totalBytes: number }
  | { type: 'uploaded'; fileId: string; key: string; bytes: number; alreadyStored: boolean }
  | { type: 'gz-deleted'; fileId: string; path: string }
  | { type: 'expired'; key: string }
  | {
      type: 'failed';
      fileId: string;
      path: string;
      step: Step;
      code: number;
      message: string;
      attempts: number;
      nextAttemptAt: number;
    };

export interface StepContext {
  journal: Journal;
  store: ObjectStore;
  cfg: ShipConfig;
  clock: Clock;
  logger: Logger;
  metrics: ShipMetrics;
  signal: AbortSignal;
  random: () => number;
  countError: (code: number) => void;
  emit: (e: ShipEvent) => void;
  /** Key → source path of every file uploaded or being uploaded: two paths must never share a key. */
  keyOwners: Map<string, string>;
  /** Files whose source was gone when it was to be compressed (none of their bytes are on disk). */
  missing: Set<string>;
  /** Files whose source was seen grown after upload (warned once). */
  changed: Set<string>;
  /** Files compressed (hence verified) in this pass: their upload need not decompress them again. */
  fresh: Set<string>;
  /** Take files whose backoff has not run out yet too (`overseer logs ship`: "now" means now). */
  retryNow?: boolean;
  /** Set to the error of a failed journal append: then the pass stops (nothing can be recorded). */
  journalError?: unknown;
}

const fileProblems = new WeakSet<object>();

/** Marks an error as this file's own problem (not the store's): it does not stop the upload stage. */
function fileProblem<E extends object>(e: E): E {
  fileProblems.add(e);
  return e;
}

export function isFileProblem(e: unknown): boolean {
  return typeof e === 'object' && e !== null && fileProblems.has(e);
}

/** Appends `entry`; returns the state it leads to, as the journal folds it. */
export async function record(ctx: StepContext, s: FileState, entry: JournalEntry): Promise<FileState> {
  try {
    await ctx.journal.append(entry);
  } catch (e) {
    ctx.journalError = e;
    throw e;
  }
  const next = nextState(s, entry);
  return typeof next === 'string' ? s : next; // append checked this very transition
}

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

const statOrGone = (path: string) =>
  stat(path).catch((e: unknown) => {
    if (errno(e) === 'ENOENT') return undefined;
    throw e;
  });

/** gzip (streaming, verified by gzipFile) into the outbox, then journal `compressed` (size + sha256). */
export async function compress(ctx: StepContext, s: FileState): Promise<FileState> {
  const src = s.rotated.path;
  if (!(await statOrGone(src))) {
    ctx.missing.add(s.fileId);
    throw fileProblem(
      new OverseerError(ErrorCodes.LOG_SHIP_SOURCE_MISSING, `${src} vanished before it was shipped`, {
        hint: 'something else deleted or moved a log file the shipper had journaled; its lines are lost',
      }),
    );
  }
  ctx.missing.delete(s.fileId);
  const gzPath = s.compressed?.gzPath ?? outboxPath(ctx.cfg.outbox, s.fileId, src);
  const r = await gzipFile(src, gzPath, { level: ctx.cfg.gzipLevel });
  const next = await record(ctx, s, { type: 'compressed', fileId: s.fileId, gzPath, ...r });
  ctx.fresh.add(s.fileId);
  ctx.emit({ type: 'compressed', fileId: s.fileId, path: src, bytes: r.sourceBytes, gzBytes: r.size });
  return next;
}

export type SourceOutcome = 'gone' | 'deleted' | 'kept' | 'regzip';

/**
 * Deletes a rotated file's source once its .gz is journaled and proven (by gzipFile in this pass, or by
 * verifyGzip now) and the source still has exactly the bytes that were compressed: a foreign writer may
 * still append to a file it renamed. A foreign snapshot's source is never touched.
 */
export async function settleSource(ctx: StepContext, s: FileState): Promise<SourceOutcome> {
  const c = s.compressed;
  const src = s.rotated.path;
  if (!c || isSnapshot(src)) return 'kept';
  const st = await statOrGone(src);
  if (!st) return 'gone';
  if (st.size !== c.sourceBytes) {
    if (s.phase === 'compressed') return 'regzip'; // not uploaded yet: ship what it holds now
    if (!ctx.changed.has(s.fileId)) {
      ctx.changed.add(s.fileId);
      const err = new OverseerError(
        ErrorCodes.LOG_SHIP_SOURCE_CHANGED,
        `${src} changed after it was shipped (${st.size} bytes, ${c.sourceBytes} shipped): it is kept`,
        { hint: 'a program still writes to a file after renaming it to a rotated name; fix its rotation' },
      );
      ctx.countError(err.code);
      ctx.logger.warn({ code: err.code, fileId: s.fileId }, err.message);
    }
    return 'kept';
  }
  if (s.phase === 'compressed' && !ctx.fresh.has(s.fileId)) {
    const damaged = await verifyGzip(c.gzPath, c).then(
      () => false,
      () => true,
    );
    if (damaged) return 'regzip';
    ctx.fresh.add(s.fileId); // just proven: the upload need not decompress it again
  }
  await unlink(src);
  await fsyncDir(dirname(src));
  ctx.emit({ type: 'source-deleted', fileId: s.fileId, path: src });
  return 'deleted';
}

const confirms = (o: StoredObject | undefined, c: NonNullable<FileState['compressed']>): boolean =>
  o !== undefined && o.size === c.size && o.sha256 === c.sha256;

/** A .gz that fails verification: gzip its source again, or give up on it when the source is gone. */
async function recompress(ctx: StepContext, s: FileState, problem: unknown): Promise<FileState> {
  const c = s.compressed!;
  if (!(await statOrGone(s.rotated.path))) {
    throw fileProblem(
      new OverseerError(
        ErrorCodes.LOG_SHIP_GZ_UNRECOVERABLE,
        `${c.gzPath} is damaged and its source ${s.rotated.path} is gone: it is not uploaded`,
        {
          details: [String((problem as Error).message)],
          hint: 'restore the .gz or its source from a backup; the shipper retries it with backoff',
          cause: problem,
        },
      ),
    );
  }
  ctx.logger.warn(
    { fileId: s.fileId, gz: c.gzPath, err: problem },
    'damaged .gz: compressing the source again',
  );
  const next = await compress(ctx, s);
  // The upload goes on either way; a source left behind is dealt with by the next pass.
  await settleSource(ctx, next).catch((e: unknown) => {
    if (ctx.journalError !== undefined) throw e;
    ctx.logger.warn({ fileId: s.fileId, err: e }, 'cannot delete a compressed source yet');
  });
  return next;
}

/**
 * Puts the .gz under its key unless the store already holds exactly these bytes (a put that finished
 * before a crash), and journals `uploaded` only after `head` confirms size and sha256.
 */
export async function upload(ctx: StepContext, first: FileState): Promise<FileState> {
  let s = first;
  let c = s.compressed!;
  let key = objectKey(ctx.cfg.template, keyVars(s.rotated, c, ctx.cfg.prefix));
  let stored = await ctx.store.head(key);
  if (!confirms(stored, c) && !ctx.fresh.has(s.fileId)) {
    const problem = await verifyGzip(c.gzPath, c).then(
      () => undefined,
      (e: unknown) => e ?? new Error('verify failed'),
    );
    if (problem !== undefined) {
      s = await recompress(ctx, s, problem);
      c = s.compressed!;
      // A snapshot's key names its content, so new bytes may mean a new key.
      key = objectKey(ctx.cfg.template, keyVars(s.rotated, c, ctx.cfg.prefix));
      stored = await ctx.store.head(key);
    }
  }
  const alreadyStored = confirms(stored, c);
  const owner = ctx.keyOwners.get(key);
  if (!alreadyStored && owner !== undefined && owner !== s.rotated.path) {
    throw fileProblem(
      new OverseerError(
        ErrorCodes.LOG_SHIP_KEY_COLLISION,
        `${s.rotated.path} and ${owner} both map to the object key ${key}`,
        {
          hint: 'two log folders hold files of the same service and host: give each writer its own service or host name, or put more in the key template',
        },
      ),
    );
  }
  ctx.keyOwners.set(key, s.rotated.path);
  if (!alreadyStored) {
    ctx.signal.throwIfAborted();
    await ctx.store.put(key, c.gzPath, {
      sha256: c.sha256,
      size: c.size,
      signal: ctx.signal,
      onProgress: (sent) =>
        ctx.emit({ type: 'uploading', fileId: s.fileId, key, sentBytes: sent, totalBytes: c.size }),
    });
    const after = await ctx.store.head(key);
    if (!confirms(after, c)) {
      throw new OverseerError(
        ErrorCodes.LOG_SHIP_UPLOAD_UNCONFIRMED,
        `the store does not confirm ${key} after its upload`,
        {
          details: [
            `expected ${c.size} bytes with sha256 ${c.sha256}`,
            after ? `found ${after.size} bytes with sha256 ${after.sha256 ?? 'none'}` : 'found no object',
          ],
          hint: 'the store lost or altered the upload; it is retried with backoff',
        },
      );
    }
    ctx.metrics.uploadedBytes.inc(c.size);
  }
  const next = await record(ctx, s, { type: 'uploaded', fileId: s.fileId, key, at: ctx.clock.nowMs() });
  ctx.emit({ type: 'uploaded', fileId: s.fileId, key, bytes: c.size, alreadyStored });
  return next;
}

/**
 * Removes the .gz of files uploaded at least localRetention ago, then journals `deleted` for them: the
 * directory is synced first, so a `deleted` line never names a file that could come back.
 */
export async function cleanup(ctx: StepContext, files: readonly FileState[]): Promise<void> {
  if (files.length === 0) return;
  for (const s of files) await rm(s.compressed!.gzPath, { force: true });
  await fsyncDir(ctx.cfg.outbox);
  for (const s of files) {
    await record(ctx, s, { type: 'deleted', fileId: s.fileId, at: ctx.clock.nowMs() });
    ctx.emit({ type: 'gz-deleted', fileId: s.fileId, path: s.compressed!.gzPath });
  }
}

/** The coded form of any error a step throws. */
export function stepError(step: Step, what: string, cause: unknown): OverseerError {
  if (isOverseerError(cause)) return cause;
  return new OverseerError(ErrorCodes.LOG_SHIP_STEP_FAILED, `log shipping step ${step} failed for ${what}`, {
    details: [String((cause as Error | undefined)?.message ?? cause)],
    hint: 'check the log folders, the outbox under the data directory (space, permissions) and the store',
    cause,
  });
}

/**
 * Counts and logs a failed step and journals `failed` with the next attempt's time (exponential backoff
 * with jitter). A journal failure or a shutdown abort is rethrown instead: the first cannot be recorded,
 * the second is no failure of the file.
 */
export async function fail(ctx: StepContext, s: FileState, step: Step, cause: unknown): Promise<FileState> {
  if (ctx.journalError !== undefined || ctx.signal.aborted) throw cause;
  const err = stepError(step, s.rotated.path, cause);
  const attempts = (s.failure?.attempts ?? 0) + 1;
  const nextAttemptAt = ctx.clock.nowMs() + backoffMs(attempts, ctx.cfg.backoff, ctx.random());
  ctx.countError(err.code);
  if (step === 'upload') ctx.metrics.uploadFailures.inc();
  ctx.logger.warn(
    { code: err.code, fileId: s.fileId, step, attempts, nextAttemptAt, err: cause },
    `${err.message}; retrying in ${Math.round((nextAttemptAt - ctx.clock.nowMs()) / 1000)} s`,
  );
  const lastError = `${err.code}: ${err.message}`.slice(0, 2000);
  const next = await record(ctx, s, { type: 'failed', fileId: s.fileId, attempts, lastError, nextAttemptAt });
  ctx.emit({
    type: 'failed',
    fileId: s.fileId,
    path: s.rotated.path,
    step,
    code: err.code,
    message: err.message,
    attempts,
    nextAttemptAt,
  });
  return next;
}
