import { randomUUID } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../clock.js';
import {
  createExclusive,
  identityAlive,
  ignoreMissing,
  processIdentity,
  readOrUndefined,
} from '../lock-file.js';

/**
 * One writer per ship journal: `serve`'s shipper holds `<dataDir>/logs/ship.lock` for as long as it runs,
 * `overseer logs ship` for its one pass. Two writers would not corrupt the journal line by line, but they
 * would race on the same files (both gzip, one deletes the source under the other).
 *
 * The file names its holder: pid, and on Linux the process's start time (/proc/<pid>/stat) and the boot
 * id, so a lock left by a SIGKILLed process is recognised as stale even when its pid now belongs to
 * someone else — in a container every restart is pid 1 again. It is created whole under a private name
 * and hard-linked into place (link fails when the lock exists), so no reader ever sees a half-written
 * lock and mistakes it for a stale one. Taking over a stale lock re-reads it just before removing it; two
 * processes finding the same stale lock in the same instant could still both get through (not worth a
 * second lock: it needs a crash and two starts at once).
 */

export interface LockHolder {
  pid: number;
  /** What holds it, for messages: `overseer serve`, `overseer logs ship`. */
  owner: string;
  /** ISO time it was taken. */
  since: string;
}

interface LockContent extends LockHolder {
  token: string;
  /** /proc/<pid>/stat starttime (clock ticks since boot), or null off Linux. */
  start: string | null;
  boot: string | null;
}

export const SHIP_LOCK_NAME = 'ship.lock';

export function shipLockPath(dataDir: string): string {
  return join(dataDir, 'logs', SHIP_LOCK_NAME);
}

export class ShipLock {
  private held: string | undefined;

  constructor(
    readonly file: string,
    private readonly owner: string,
    private readonly clock: Clock,
  ) {}

  /** Takes the lock; returns undefined when taken (or already ours), else who holds it. */
  async acquire(): Promise<LockHolder | undefined> {
    if (this.held !== undefined) return undefined;
    const me: LockContent = {
      owner: this.owner,
      since: this.clock.now().toISOString(),
      token: randomUUID(),
      ...processIdentity(),
    };
    const text = `${JSON.stringify(me)}\n`;
    // A few rounds: another process may take, drop or replace the lock between our steps.
    for (let round = 0; round < 4; round++) {
      if (await this.create(text)) return this.hold(text);
      const existing = await readOrUndefined(this.file);
      if (existing === undefined) continue; // released meanwhile
      const holder = parse(existing);
      if (holder && identityAlive(holder))
        return { pid: holder.pid, owner: holder.owner, since: holder.since };
      // Stale (or junk, e.g. left by a full disk): removed only while it is still that very file.
      if ((await readOrUndefined(this.file)) === existing) await unlink(this.file).catch(ignoreMissing);
    }
    return { pid: 0, owner: 'another process (the lock kept changing hands)', since: '?' };
  }

  /** Gives the lock up if this instance holds it; safe to call twice. */
  async release(): Promise<void> {
    const mine = this.held;
    this.held = undefined;
    if (mine !== undefined && (await readOrUndefined(this.file)) === mine)
      await unlink(this.file).catch(ignoreMissing);
  }

  private hold(text: string): undefined {
    this.held = text;
    return undefined;
  }

  private async create(text: string): Promise<boolean> {
    return createExclusive(this.file, text);
  }
}

function parse(text: string): LockContent | undefined {
  try {
    const v = JSON.parse(text) as Partial<LockContent>;
    if (!Number.isSafeInteger(v.pid) || (v.pid ?? 0) <= 0) return undefined;
    return {
      pid: v.pid!,
      owner: typeof v.owner === 'string' ? v.owner : 'another overseer',
      since: typeof v.since === 'string' ? v.since : '?',
      token: String(v.token),
      start: typeof v.start === 'string' ? v.start : null,
      boot: typeof v.boot === 'string' ? v.boot : null,
    };
  } catch {
    return undefined;
  }
}
