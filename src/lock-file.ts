import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** For `.catch()` on unlink and reads: a file already gone is fine, anything else is not. */
export const ignoreMissing = (e: NodeJS.ErrnoException): void => {
  if (e.code !== 'ENOENT') throw e;
};

export async function readOrUndefined(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    ignoreMissing(e as NodeJS.ErrnoException);
    return undefined;
  }
}

/**
 * Exclusive create (like O_EXCL) that never shows a half-written file: written whole under a private
 * name, then hard-linked to `file`, which fails when it exists. An O_EXCL lock file read between its
 * creation and its write would look like a garbage owner, i.e. stale, and be taken over. Used by the lock
 * files of leadership (billing/leader-locks.ts) and of the log-ship journal (logs/ship-lock.ts).
 */
export async function createExclusive(file: string, content: string): Promise<boolean> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomUUID()}.tmp`;
  try {
    // Inside the try: a failed write (a full disk) leaves no private file behind either.
    await writeFile(tmp, content);
    await link(tmp, file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    await unlink(tmp).catch(ignoreMissing);
  }
}

/**
 * Which process holds a lock: its pid and, on Linux, its start time (/proc/<pid>/stat) and the boot id,
 * so a lock left by a killed process is stale even when its pid now belongs to someone else — in a
 * container every restart is pid 1 again. `start`/`boot` null: not known (another OS, an older lock file).
 */
export interface ProcessIdentity {
  pid: number;
  start: string | null;
  boot: string | null;
}

export function processIdentity(pid: number = process.pid): ProcessIdentity {
  return { pid, start: processStart(pid), boot: bootId() };
}

/** The process still runs: same pid, and (where known) same boot and same process start. */
export function identityAlive(h: ProcessIdentity): boolean {
  try {
    process.kill(h.pid, 0);
  } catch (e) {
    // EPERM: it exists, it just is not ours to signal.
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const boot = bootId();
  if (h.boot !== null && boot !== null && h.boot !== boot) return false;
  const start = processStart(h.pid);
  return h.start === null || start === null || h.start === start;
}

/** Field 22 of /proc/<pid>/stat; the command name (field 2) may hold spaces and parens, so cut after it. */
function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function bootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
  } catch {
    return null;
  }
}
