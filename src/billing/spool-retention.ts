import { readdir, rm, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { DONE_DIR } from './spool.js';

/**
 * Deletes files in each spool's done/ that were moved there before `cutoffMs`. They are copies: their
 * records are in billing_raw (until rawRetention) and billing_hourly (for ever), and the ledger remembers
 * their hash, so a copy put back into the spool is a replay. The move time is the later of mtime and ctime
 * (a rename sets ctime; the writer set mtime). rejected/ is never pruned here: those lines were not billed
 * and wait for an operator.
 */
export async function pruneDone(dirs: readonly string[], cutoffMs: number): Promise<number> {
  let deleted = 0;
  for (const dir of dirs) {
    const done = path.join(dir, DONE_DIR);
    const names = await readdir(done).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return [] as string[];
      throw e;
    });
    for (const name of names) {
      const file = path.join(done, name);
      const st = await stat(file).catch(() => undefined);
      if (st === undefined || !st.isFile() || Math.max(st.mtimeMs, st.ctimeMs) >= cutoffMs) continue;
      await rm(file, { force: true });
      deleted++;
    }
  }
  return deleted;
}
