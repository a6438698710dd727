import { mkdir, readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { ErrorCodes, OverseerError, isOverseerError } from '../errors/index.js';
import { removeLeftovers } from './compress.js';
import { Journal, journalPath, replay, type FileState } from './journal.js';
import { ShipLock, shipLockPath, type LockHolder } from './ship-lock.js';
import type { ShipConfig } from './ship-options.js';

/** The one coded form of "the shipper itself (not one file) failed". */
export function shipperError(message: string, cause: unknown): OverseerError {
  if (isOverseerError(cause)) return cause;
  return new OverseerError(ErrorCodes.LOG_SHIP_PASS_FAILED, message, {
    details: [String((cause as Error | undefined)?.message ?? cause)],
    hint: 'check the data directory (space, permissions); the next pass tries again',
    cause,
  });
}

/**
 * A shipper's hold on its data dir, in order: the lock (one journal writer per data dir, ship-lock.ts),
 * the journal, and an outbox cleared of unfinished gzips. The journal is opened on first use and again
 * after a failed write (it refuses appends until read back from disk); `close` lets go of all of it.
 */
export class JournalOwner {
  private journal: Journal | undefined;
  private opening: Promise<Journal> | undefined;
  private broken = false;
  private readonly lock: ShipLock;
  /** Who held the lock when we last failed to take it; undefined once we hold it. */
  lockedBy: LockHolder | undefined;

  constructor(
    private readonly cfg: ShipConfig,
    private readonly deps: { clock: Clock; logger: Logger },
  ) {
    this.lock = new ShipLock(shipLockPath(cfg.dataDir), cfg.owner, deps.clock);
  }

  /** The open journal, if any (metrics and backlog read it between passes). */
  get current(): Journal | undefined {
    return this.journal;
  }

  /** A write failed: the next `open` reads the journal again from disk. */
  markBroken(): void {
    this.broken = true;
  }

  get isBroken(): boolean {
    return this.broken;
  }

  open(): Promise<Journal> {
    if (this.journal && !this.broken) return Promise.resolve(this.journal);
    this.opening ??= this.openNow().finally(() => (this.opening = undefined));
    return this.opening;
  }

  /** States as the open journal has them, else read from disk without writing (another may own it). */
  async states(): Promise<Map<string, FileState>> {
    if (this.journal) return this.journal.states();
    const file = journalPath(this.cfg.dataDir);
    const buf = await readFile(file).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return Buffer.alloc(0);
      throw shipperError(`cannot read the log-ship journal ${file}`, e);
    });
    return replay(buf).states;
  }

  async close(): Promise<void> {
    await this.opening?.catch(() => undefined);
    const log = this.deps.logger;
    await this.journal?.close().catch((e: unknown) => log.warn({ err: e }, 'closing the journal failed'));
    this.journal = undefined;
    await this.lock.release().catch((e: unknown) => log.warn({ err: e }, 'releasing the lock failed'));
  }

  private async openNow(): Promise<Journal> {
    await this.journal?.close().catch(() => undefined);
    this.journal = undefined;
    await this.takeLock();
    const journal = await Journal.open(journalPath(this.cfg.dataDir), { clock: this.deps.clock });
    if (journal.tornBytes > 0)
      this.deps.logger.warn({ bytes: journal.tornBytes }, 'dropped a torn last journal line');
    try {
      await mkdir(this.cfg.outbox, { recursive: true });
      // Before any gzip starts: a running gzip's temp file looks the same.
      const leftovers = await removeLeftovers(this.cfg.outbox);
      if (leftovers.length > 0) this.deps.logger.info({ leftovers }, 'removed unfinished gzip files');
    } catch (e) {
      await journal.close().catch(() => undefined);
      throw shipperError(`cannot prepare the log outbox ${this.cfg.outbox}`, e);
    }
    this.journal = journal;
    this.broken = false;
    return journal;
  }

  private async takeLock(): Promise<void> {
    const holder = await this.lock.acquire().catch((e: unknown) => {
      throw shipperError(`cannot take the log-ship lock ${this.lock.file}`, e);
    });
    this.lockedBy = holder;
    if (!holder) return;
    throw new OverseerError(
      ErrorCodes.LOG_SHIP_JOURNAL_LOCKED,
      `the log-ship journal in ${this.cfg.dataDir} is in use by ${holder.owner} (pid ${holder.pid}, since ${holder.since})`,
      {
        hint: 'that process ships these files itself: stop it, or wait for it (overseer logs status shows the progress)',
        exitCode: 2,
      },
    );
  }
}
