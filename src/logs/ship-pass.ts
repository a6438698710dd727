import type { Logger } from 'pino';
import type { OverseerError } from '../errors/index.js';
import type { FileState } from './journal.js';
import { expireRemote } from './ship-expiry.js';
import { byAge, isDue, isSnapshot, type Backlog } from './ship-plan.js';
import { scanDir } from './ship-scan.js';
import {
  cleanup,
  compress,
  fail,
  isFileProblem,
  settleSource,
  stepError,
  upload,
  type ShipEvent,
  type StepContext,
} from './ship-steps.js';

/**
 * One pass, in stages: discover → compress (one file at a time: zlib is CPU) → upload (a few at a time) →
 * clean up → remote expiry. Each stage takes the due files oldest first, at most `maxBatch`, and reads
 * the journal afresh, so a file compressed in this pass is uploaded in it too. `keepGoing` is asked
 * before each file: a shutdown lets the file in hand finish and starts no other.
 */

export interface PassReport {
  discovered: number;
  compressed: number;
  sourcesDeleted: number;
  uploaded: number;
  /** Of `uploaded`: found already stored with the same size and sha256 (no second put). */
  alreadyStored: number;
  gzDeleted: number;
  failed: number;
  expired: number;
  /** The backlog after the pass (undefined when the journal could not be opened). */
  backlog: Backlog | undefined;
  /** Why the pass ended early, if it did; what it finished before stays done. */
  error: OverseerError | undefined;
  /** True when the shipper was stopping and the pass did nothing. */
  skipped: boolean;
}

const TALLY: Partial<Record<ShipEvent['type'], keyof PassReport>> = {
  discovered: 'discovered',
  compressed: 'compressed',
  'source-deleted': 'sourcesDeleted',
  uploaded: 'uploaded',
  'gz-deleted': 'gzDeleted',
  failed: 'failed',
  expired: 'expired',
};

export function emptyReport(): PassReport {
  return {
    discovered: 0,
    compressed: 0,
    sourcesDeleted: 0,
    uploaded: 0,
    alreadyStored: 0,
    gzDeleted: 0,
    failed: 0,
    expired: 0,
    backlog: undefined,
    error: undefined,
    skipped: false,
  };
}

/** Tallies events into `report` and passes them on to the listeners. */
export function reporter(
  report: PassReport,
  listeners: ReadonlySet<(e: ShipEvent) => void>,
  logger: Logger,
): (e: ShipEvent) => void {
  return (e) => {
    const field = TALLY[e.type];
    if (field) (report[field] as number)++;
    if (e.type === 'uploaded' && e.alreadyStored) report.alreadyStored++;
    for (const l of listeners) {
      try {
        l(e);
      } catch (err) {
        // A caller's progress printer must not turn into a failed file.
        logger.warn({ err }, 'a ship progress listener threw');
      }
    }
  };
}

export interface PassState {
  /** When remote expiry last ran (ms), for its interval. */
  lastExpiryMs: number;
}

const sorted = (ctx: StepContext): FileState[] => [...ctx.journal.states().values()].sort(byAge);
const dueNow = (ctx: StepContext, s: FileState, now: number): boolean =>
  ctx.retryNow === true || isDue(s, now);

export async function discover(ctx: StepContext, keepGoing: () => boolean): Promise<void> {
  const { cfg } = ctx;
  const states = ctx.journal.states();
  let added = 0;
  const dirs = [
    ...cfg.dirs.map((d) => ({ d, foreign: false, quietMs: cfg.quietMs })),
    ...cfg.foreignDirs.map((f) => ({ d: f.dir, foreign: true, quietMs: f.quietMs })),
  ];
  for (const { d, foreign, quietMs } of dirs) {
    if (!keepGoing()) return;
    let found;
    try {
      found = await scanDir(d, {
        foreign,
        foreignPattern: cfg.foreignPattern,
        quietMs,
        nowMs: ctx.clock.nowMs(),
        host: cfg.host,
        known: (id) => states.has(id),
      });
    } catch (e) {
      // One unreadable folder must not hold up the others.
      const err = stepError('discover', d, e);
      ctx.countError(err.code);
      ctx.logger.error({ code: err.code, dir: d, err: e }, err.message);
      continue;
    }
    for (const c of found) {
      if (added >= cfg.maxNewFilesPerPass) {
        ctx.metrics.deferred.inc({ stage: 'discover' });
        continue;
      }
      await ctx.journal.append({ type: 'rotated', ...c }).catch((e: unknown) => {
        ctx.journalError = e;
        throw e;
      });
      added++;
      ctx.emit({ type: 'discovered', fileId: c.fileId, path: c.path, bytes: c.bytes });
    }
  }
}

/** Whether the local stage has work on `s`: compress it, or deal with a source still on disk. */
function needsLocal(s: FileState, settled: ReadonlySet<string>): boolean {
  if (s.phase === 'rotated') return true;
  // A `deleted` file's source was dealt with while it was uploaded; looking again helps nobody.
  if (s.phase === 'deleted' || isSnapshot(s.rotated.path)) return false;
  return !settled.has(s.fileId);
}

/** `settled`: files whose source is known to be dealt with (deleted, gone, or kept on purpose). */
export async function compressStage(
  ctx: StepContext,
  settled: Set<string>,
  keepGoing: () => boolean,
): Promise<void> {
  const now = ctx.clock.nowMs();
  const todo = sorted(ctx).filter((s) => dueNow(ctx, s, now) && needsLocal(s, settled));
  if (todo.length > ctx.cfg.maxBatch)
    ctx.metrics.deferred.inc({ stage: 'compress' }, todo.length - ctx.cfg.maxBatch);
  for (const first of todo.slice(0, ctx.cfg.maxBatch)) {
    if (!keepGoing()) return;
    let s = first;
    try {
      if (s.phase === 'rotated') s = await compress(ctx, s);
    } catch (e) {
      await fail(ctx, s, 'compress', e);
      continue;
    }
    try {
      let outcome = await settleSource(ctx, s);
      if (outcome === 'regzip') {
        s = await compress(ctx, s);
        outcome = await settleSource(ctx, s);
      }
      // Still growing after a second gzip: look again next pass.
      if (outcome !== 'regzip') settled.add(s.fileId);
    } catch (e) {
      if (ctx.journalError !== undefined || ctx.signal.aborted) throw e;
      // Not journaled as `failed`: that would hold back the upload, and the source is retried next pass.
      const err = stepError('source', s.rotated.path, e);
      ctx.countError(err.code);
      ctx.logger.warn({ code: err.code, fileId: s.fileId, err: e }, err.message);
    }
  }
}

export async function uploadStage(ctx: StepContext, keepGoing: () => boolean): Promise<void> {
  const now = ctx.clock.nowMs();
  const todo = sorted(ctx).filter((s) => s.phase === 'compressed' && dueNow(ctx, s, now));
  if (todo.length > ctx.cfg.maxBatch)
    ctx.metrics.deferred.inc({ stage: 'upload' }, todo.length - ctx.cfg.maxBatch);
  const queue = todo.slice(0, ctx.cfg.maxBatch);
  let next = 0;
  let failedInARow = 0;
  // When every worker just failed on the store, the rest of this pass would fail the same way: each
  // file keeps its own backoff, and the next pass tries again.
  const storeDown = (): boolean => failedInARow >= ctx.cfg.uploadConcurrency;
  let fatal: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < queue.length && keepGoing() && !storeDown() && !fatal && !ctx.signal.aborted) {
      const s = queue[next++]!;
      try {
        await upload(ctx, s);
        failedInARow = 0;
      } catch (e) {
        try {
          await fail(ctx, ctx.journal.states().get(s.fileId) ?? s, 'upload', e);
        } catch (unrecordable) {
          // The journal failed or we are shutting down: stop taking files, let the other worker finish.
          fatal ??= { error: unrecordable };
          return;
        }
        // A damaged file or a key collision says nothing about the store.
        if (!isFileProblem(e)) failedInARow++;
      }
    }
  };
  await Promise.all(Array.from({ length: ctx.cfg.uploadConcurrency }, worker));
  if (fatal) throw fatal.error;
}

export async function cleanupStage(ctx: StepContext, keepGoing: () => boolean): Promise<void> {
  if (!keepGoing()) return;
  const now = ctx.clock.nowMs();
  const due = sorted(ctx).filter(
    (s) => s.phase === 'uploaded' && now - s.uploaded!.at >= ctx.cfg.localRetentionMs && dueNow(ctx, s, now),
  );
  if (due.length > ctx.cfg.maxBatch)
    ctx.metrics.deferred.inc({ stage: 'cleanup' }, due.length - ctx.cfg.maxBatch);
  const batch = due.slice(0, ctx.cfg.maxBatch);
  try {
    await cleanup(ctx, batch);
  } catch (e) {
    if (ctx.journalError !== undefined) throw e;
    // Uploaded data is safe; the .gz files wait for the next pass.
    const err = stepError('cleanup', ctx.cfg.outbox, e);
    ctx.countError(err.code);
    ctx.logger.warn({ code: err.code, err: e }, err.message);
  }
}

export async function expiryStage(ctx: StepContext, st: PassState, keepGoing: () => boolean): Promise<void> {
  const { cfg } = ctx;
  const now = ctx.clock.nowMs();
  if (!cfg.keyAge || cfg.remoteRetentionMs === undefined || !keepGoing()) return;
  if (now - st.lastExpiryMs < cfg.remoteExpiryIntervalMs) return;
  st.lastExpiryMs = now;
  try {
    const r = await expireRemote(ctx.store, cfg.keyAge, now - cfg.remoteRetentionMs, keepGoing, (key) =>
      ctx.emit({ type: 'expired', key }),
    );
    if (r.deleted > 0) ctx.logger.info(r, 'expired old log objects');
  } catch (e) {
    const err = stepError('expire', cfg.keyAge.listPrefix, e);
    ctx.countError(err.code);
    ctx.logger.warn({ code: err.code, err: e }, err.message);
  }
}
