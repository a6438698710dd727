/**
 * The log shipper: finds closed log files, gzips them, uploads them, and deletes local copies only when
 * the store has them. Every step is a journal line (journal.ts), fsynced before the step it makes safe:
 *
 *   found ──▶ rotated ──gzip+verify──▶ compressed ──put+HEAD──▶ uploaded ──localRetention──▶ deleted
 *              │  (source deleted after `compressed`  │                 (.gz removed, dir synced,
 *              │   if it still has the bytes gzipped)  │                  then `deleted`)
 *              └────────── failed (attempts, nextAttemptAt: backoff) ◀──┘
 *
 * A SIGKILL between any two steps loses nothing and duplicates nothing:
 * - before `rotated` is durable: the file is found again by the next scan;
 * - mid-gzip, or gzipped but `compressed` not durable: a `*.gz.tmp` is removed at start, a finished
 *   `.gz` is overwritten by the next gzip; the source was never touched;
 * - `compressed` durable, source not yet deleted: the next pass verifies the .gz and deletes the source
 *   (only if its size is still what was gzipped); a damaged .gz is gzipped again from it;
 * - mid-upload (multipart included): the journal still says `compressed`, so the file is put again
 *   under the same key (the key is a pure function of journaled fields); orphaned parts are for the
 *   bucket's AbortIncompleteMultipartUpload rule;
 * - put done, `uploaded` not durable: the next attempt's HEAD finds the same size and sha256 and
 *   journals `uploaded` without a second put;
 * - .gz removed, `deleted` not durable: the removal is repeated (a no-op) and `deleted` written.
 * So the local .gz goes only after a HEAD-confirmed upload plus localRetention, and a source only after
 * its verified .gz is journaled. A backlog over maxBacklogBytes deletes nothing: it raises alarms and
 * calls onOverLimit so the writers can shed load.
 *
 * Foreign writers (foreignDirs): rotated names ship as above. Any other log file ships once its mtime is
 * quietMs old, as a snapshot: read whole, never deleted or truncated. A later change makes a new
 * version (journal id: path + size + mtime) under a key of its own: `{file}` is
 * `<name>.<bytes>-<sha256 of content, 12 hex>`, so the same bytes always get the same key. The cost: a
 * file that grows and pauses ships its whole content again each time (rotate such files if it matters).
 */
import { isOverseerError } from '../errors/index.js';
import type { Component } from '../lifecycle.js';
import type { Journal } from './journal.js';
import { BacklogAlarms, type ShipperAlarm } from './ship-alarms.js';
import { JournalOwner, shipperError } from './ship-journal-owner.js';
import { ShipMetrics } from './ship-metrics.js';
import {
  resolveShipOptions,
  type LogShipperDeps,
  type LogShipperOptions,
  type ShipConfig,
} from './ship-options.js';
import {
  cleanupStage,
  compressStage,
  discover,
  emptyReport,
  expiryStage,
  reporter,
  uploadStage,
  type PassReport,
  type PassState,
} from './ship-pass.js';
import { backlogOf, byAge, statusRow, type Backlog, type StatusRow } from './ship-plan.js';
import type { ShipEvent, StepContext } from './ship-steps.js';

export type { LogShipperDeps, LogShipperOptions } from './ship-options.js';
export type { ShipperAlarm } from './ship-alarms.js';
export type { Backlog, StatusRow } from './ship-plan.js';
export type { PassReport } from './ship-pass.js';
export type { ShipEvent } from './ship-steps.js';

/** How long stop() waits after aborting uploads for the step in hand (a gzip cannot be aborted). */
export const SHIPPER_ABORT_GRACE_MS = 2000;

export class LogShipper implements Component {
  readonly name = 'log-shipper';
  private readonly cfg: ShipConfig;
  private readonly metrics: ShipMetrics;
  private readonly owner: JournalOwner;
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  /** stop() was called: no pass is scheduled any more (the final one runs). */
  private closing = false;
  /** Past the stop deadline (or stopped): no new file is taken, no pass runs. */
  private stopRequested = false;
  private stopping: Promise<void> | undefined;
  private readonly abort = new AbortController();
  private running: Promise<PassReport> | undefined;
  private waiting:
    { promise: Promise<PassReport>; listeners: Set<(e: ShipEvent) => void>; retryNow: boolean } | undefined;
  private readonly settled = new Set<string>();
  private readonly missing = new Set<string>();
  private readonly changed = new Set<string>();
  private readonly passState: PassState = { lastExpiryMs: -Infinity };
  private lastCompactMs: number;
  private readonly alarmState: BacklogAlarms;

  constructor(
    opts: LogShipperOptions,
    private readonly deps: LogShipperDeps,
  ) {
    this.cfg = resolveShipOptions(opts);
    this.owner = new JournalOwner(this.cfg, { clock: deps.clock, logger: deps.logger });
    this.lastCompactMs = deps.clock.nowMs();
    this.alarmState = new BacklogAlarms({
      logger: deps.logger,
      countError: (code) => deps.countError?.(code),
      ...(deps.onOverLimit ? { onOverLimit: deps.onOverLimit } : {}),
    });
    this.metrics = new ShipMetrics(deps.registry, {
      states: () => this.owner.current?.states().values() ?? [],
      backlog: () => this.backlog(),
      nowMs: () => deps.clock.nowMs(),
    });
  }

  /**
   * Takes the journal's lock, opens the journal, clears gzip leftovers, and runs a pass now and
   * `intervalMs` after each one. While someone else holds the lock (`overseer logs ship`) each pass tries
   * again, and counts the error.
   */
  async start(): Promise<void> {
    try {
      await this.owner.open();
    } catch (e) {
      if (this.owner.lockedBy === undefined || !isOverseerError(e)) throw e;
      this.deps.countError?.(e.code);
      this.log.warn({ code: e.code, holder: this.owner.lockedBy }, `${e.message}; each pass tries again`);
    }
    this.started = true;
    this.schedule(0);
  }

  /** Asks for a pass soon (e.g. from RotatingFile's onRotate). */
  kick(): void {
    this.schedule(0);
  }

  /**
   * A started shipper runs one last pass (after the one in hand), so files rotated at shutdown ship too;
   * at `deadlineMs` it takes no new file and aborts uploads, waiting a short grace for the step in hand.
   * What is left resumes at the next start from the journal. Then the journal and its lock are let go.
   * Safe to call twice.
   */
  stop(opts: { deadlineMs?: number } = {}): Promise<void> {
    this.stopping ??= this.shutdown(opts.deadlineMs ?? this.cfg.stopDeadlineMs);
    return this.stopping;
  }

  /**
   * One pass now (`overseer logs ship`), after the one running if any; callers arriving while one waits
   * share it (the queue of passes is at most one deep).
   */
  shipOnce(opts: { onProgress?: (e: ShipEvent) => void; retryNow?: boolean } = {}): Promise<PassReport> {
    if (this.waiting) {
      if (opts.onProgress) this.waiting.listeners.add(opts.onProgress);
      if (opts.retryNow) this.waiting.retryNow = true;
      return this.waiting.promise;
    }
    const listeners = new Set(opts.onProgress ? [opts.onProgress] : []);
    const before = this.running;
    const promise = (async () => {
      await before?.catch(() => undefined);
      const retryNow = this.waiting?.retryNow === true;
      this.waiting = undefined;
      return this.pass(listeners, retryNow);
    })();
    this.waiting = { promise, listeners, retryNow: opts.retryNow === true };
    // The tail of the chain: stop() waits for it, the next shipOnce runs after it.
    this.running = promise;
    return promise;
  }

  /** Unshipped bytes and files now, against the limit. */
  backlog(): Backlog {
    const states = this.owner.current?.states().values() ?? [];
    return backlogOf(
      states,
      { limitBytes: this.cfg.maxBacklogBytes, alarmRatio: this.cfg.alarmRatio },
      this.missing,
    );
  }

  /** Alarms raised by the last pass: backlog at alarmRatio of its limit, and over it. */
  alarms(): ShipperAlarm[] {
    return this.alarmState.list();
  }

  /** One row per journaled file, oldest first (for `overseer logs status`). */
  async status(opts: { includeDeleted?: boolean } = {}): Promise<StatusRow[]> {
    // Without an open journal, read it without writing: a running server may own it (and its outbox).
    const states = await this.owner.states();
    return [...states.values()]
      .sort(byAge)
      .map(statusRow)
      .filter((r) => opts.includeDeleted === true || r.state !== 'deleted');
  }

  private get log() {
    return this.deps.logger;
  }

  private schedule(ms: number): void {
    if (!this.started || this.closing || this.stopRequested) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.shipOnce().finally(() => this.schedule(this.cfg.intervalMs));
    }, ms);
    this.timer.unref();
  }

  private async pass(listeners: ReadonlySet<(e: ShipEvent) => void>, retryNow = false): Promise<PassReport> {
    const report = emptyReport();
    if (this.stopRequested) return { ...report, skipped: true };
    const countError = (code: number): void => this.deps.countError?.(code);
    let journal: Journal;
    try {
      journal = await this.owner.open();
    } catch (e) {
      report.error = shipperError('cannot open the log-ship journal', e);
      countError(report.error.code);
      this.log.error({ code: report.error.code, err: e }, report.error.message);
      return report;
    }
    const emit = reporter(report, listeners, this.log);
    const keyOwners = new Map<string, string>();
    for (const s of journal.states().values()) if (s.uploaded) keyOwners.set(s.uploaded.key, s.rotated.path);
    const ctx: StepContext = {
      journal,
      store: this.deps.store,
      cfg: this.cfg,
      clock: this.deps.clock,
      logger: this.log,
      metrics: this.metrics,
      signal: this.abort.signal,
      random: this.deps.random ?? Math.random,
      countError,
      emit,
      keyOwners,
      missing: this.missing,
      changed: this.changed,
      fresh: new Set(),
      retryNow,
    };
    const keepGoing = (): boolean => !this.stopRequested;
    try {
      await discover(ctx, keepGoing);
      await compressStage(ctx, this.settled, keepGoing);
      await uploadStage(ctx, keepGoing);
      await cleanupStage(ctx, keepGoing);
      await expiryStage(ctx, this.passState, keepGoing);
    } catch (e) {
      if (ctx.journalError !== undefined) this.owner.markBroken();
      if (!this.abort.signal.aborted) {
        report.error = shipperError('a log shipping pass failed', e);
        countError(report.error.code);
        this.log.error({ code: report.error.code, err: e }, report.error.message);
      }
    }
    if (!this.owner.isBroken) await this.compactIfDue(journal);
    report.backlog = this.backlog();
    this.alarmState.update(report.backlog, this.deps.clock.nowMs());
    return report;
  }

  private async compactIfDue(journal: Journal): Promise<void> {
    const now = this.deps.clock.nowMs();
    if (now - this.lastCompactMs < this.cfg.compactIntervalMs || this.stopRequested) return;
    this.lastCompactMs = now;
    try {
      const r = await journal.compact();
      const live = journal.states();
      for (const set of [this.settled, this.missing, this.changed])
        for (const id of set) if (!live.has(id)) set.delete(id);
      this.log.debug(r, 'compacted the log-ship journal');
    } catch (e) {
      this.owner.markBroken();
      const err = shipperError('cannot compact the log-ship journal', e);
      this.deps.countError?.(err.code);
      this.log.error({ code: err.code, err: e }, err.message);
    }
  }

  private async shutdown(deadlineMs: number): Promise<void> {
    this.closing = true;
    clearTimeout(this.timer);
    const work = this.started && !this.stopRequested ? this.shipOnce() : this.running;
    if (work && !(await settlesWithin(work, deadlineMs))) {
      this.stopRequested = true;
      this.abort.abort();
      if (!(await settlesWithin(work, SHIPPER_ABORT_GRACE_MS))) {
        // Stop within the deadline, as promised: the journal stays open under the step still running (it
        // may yet append to it) and the lock names this process, stale once it exits.
        this.log.warn('a log shipping step outlived the stop deadline; the next start resumes it');
        return;
      }
    }
    this.stopRequested = true;
    if (this.started && work) {
      const r = await work.catch(() => undefined);
      if (r)
        this.log.info({ uploaded: r.uploaded, failed: r.failed, backlog: r.backlog }, 'last ship pass done');
    }
    await this.owner.close();
  }
}

async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([
      p.then(
        () => true,
        () => true,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
