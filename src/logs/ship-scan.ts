import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCodes, OverseerError } from '../errors/index.js';
import { parseRotatedName } from './log-names.js';
import { serviceOf, snapshotId } from './ship-plan.js';

/**
 * Finds the files in one folder that are ready to ship and not yet journaled. A rotated name is complete
 * by contract (the writer renamed it away after its last write). In a foreign folder, any other file the
 * pattern accepts is ready once its mtime is `quietMs` in the past: its writer has paused, so a read now
 * sees a consistent prefix of an append-only file.
 */

/** A file to journal as `rotated`. */
export interface Candidate {
  fileId: string;
  path: string;
  service: string;
  host: string;
  bytes: number;
  startMs: number;
}

export interface ScanOptions {
  foreign: boolean;
  foreignPattern: RegExp;
  quietMs: number;
  nowMs: number;
  /** `{host}` of snapshots. */
  host: string;
  /** Whether a journal id is already known (in any state). */
  known: (fileId: string) => boolean;
}

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

/** Candidates in `dir`, by name. A missing folder has none (the writer may not have started yet). */
export async function scanDir(dir: string, opts: ScanOptions): Promise<Candidate[]> {
  let names: string[];
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    names = entries.filter((e) => e.isFile()).map((e) => e.name);
  } catch (cause) {
    if (errno(cause) === 'ENOENT') return [];
    throw new OverseerError(ErrorCodes.LOG_SHIP_DIR_UNREADABLE, `cannot list the log folder ${dir}`, {
      details: [String((cause as Error).message)],
      hint: 'check that the folder in logs.dirs exists and is readable (and writable, to delete shipped files)',
      cause,
    });
  }
  names.sort();
  const out: Candidate[] = [];
  for (const name of names) {
    const path = join(dir, name);
    const rotated = parseRotatedName(name);
    if (rotated) {
      if (opts.known(path)) continue;
      const st = await stat(path).catch(() => undefined); // gone meanwhile: nothing to ship
      if (!st) continue;
      out.push({
        fileId: path,
        path,
        service: rotated.service,
        host: rotated.host,
        bytes: st.size,
        startMs: rotated.startMs,
      });
      continue;
    }
    if (!opts.foreign || name.startsWith('.') || !opts.foreignPattern.test(name)) continue;
    const st = await stat(path).catch(() => undefined);
    if (!st?.isFile() || st.size === 0 || opts.nowMs - st.mtimeMs < opts.quietMs) continue;
    const fileId = snapshotId(path, st.size, st.mtimeMs);
    if (opts.known(fileId)) continue;
    out.push({
      fileId,
      path,
      service: serviceOf(name),
      host: opts.host,
      bytes: st.size,
      startMs: Math.floor(st.mtimeMs),
    });
  }
  return out;
}
