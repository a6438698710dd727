import { randomUUID } from 'node:crypto';
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
  await writeFile(tmp, content);
  try {
    await link(tmp, file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    await unlink(tmp).catch(ignoreMissing);
  }
}
