import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import { ingestBatch, type BatchSource, type IngestResult } from './ingest.js';
import { parseRecords, type RejectedLine } from './record.js';

export const DONE_DIR = 'done';
export const REJECTED_DIR = 'rejected';

export interface FileReport extends IngestResult {
  file: string;
}

export const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** The writing host, from a spool file name: `host-a.1732500000.ndjson` → `host-a`. */
export function hostOfFile(name: string): string {
  return name.split('.')[0] || name;
}

/** Quarantine: every rejected line with its line number and reason, next to the spool. */
async function quarantine(dir: string, name: string, rejected: readonly RejectedLine[]): Promise<void> {
  if (rejected.length === 0) return;
  await mkdir(path.join(dir, REJECTED_DIR), { recursive: true });
  const body = rejected.map((r) => `${JSON.stringify({ file: name, ...r })}\n`).join('');
  // Written whole before the batch commits; a rerun after a crash rewrites the same content.
  await writeFile(path.join(dir, REJECTED_DIR, `${name}.rejected.ndjson`), body);
}

/** Moves a handled file to done/, never over an earlier file of the same name (a writer may reuse one). */
async function retire(dir: string, name: string, hash: string): Promise<void> {
  await mkdir(path.join(dir, DONE_DIR), { recursive: true });
  let target = path.join(dir, DONE_DIR, name);
  const taken = await stat(target).then(
    () => true,
    () => false,
  );
  if (taken) target = `${target}.${hash.slice(0, 12)}`;
  await rename(path.join(dir, name), target).catch((e: NodeJS.ErrnoException) => {
    // Moved by a concurrent ingester of the same file, which found it ingested too.
    if (e.code !== 'ENOENT') throw e;
  });
}

/**
 * Ingests one spool file exactly once: parse (bad lines quarantined with their reason), ingest (ledger +
 * record keys), then move it to done/. Every step is safe to repeat: a crash anywhere leaves either the
 * file in the spool (ingested again: a replay or duplicates, never counted twice) or in done/.
 */
export async function ingestSpoolFile(
  db: Kysely<Database>,
  dir: string,
  name: string,
  nowMs: number,
  onChunk?: (done: number, total: number) => void,
  /** A file named on the command line: counted and quarantined alike, but left where it is. */
  opts: { inPlace?: boolean } = {},
): Promise<FileReport | undefined> {
  const bytes = await readFile(path.join(dir, name)).catch((e: NodeJS.ErrnoException) => {
    // Another ingester (a second replica, or the CLI) took it first: it is theirs to finish.
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  if (bytes === undefined) return undefined;
  const hash = sha256(bytes);
  const batch = parseRecords(bytes.toString('utf8'));
  await quarantine(dir, name, batch.rejected);
  const source = opts.inPlace === true ? 'cli' : 'spool';
  const src: BatchSource = { host: hostOfFile(name), name, sha256: hash, source };
  const result = await ingestBatch(db, src, batch, nowMs, onChunk);
  if (opts.inPlace !== true) await retire(dir, name, hash);
  return { file: path.join(dir, name), ...result };
}

/** Complete spool files of a folder, oldest name first: writers create `*.ndjson` by rename. */
export async function spoolFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [];
    throw e;
  });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.ndjson'))
    .map((e) => e.name)
    .sort();
}

export interface SpoolDeps {
  db: Kysely<Database>;
  dirs: readonly string[];
  clock: Clock;
  logger: Logger;
  /** Files ingested at once (each on its own connection); default 2. One at a time on PGlite anyway. */
  concurrency?: number;
  onFile?: (report: FileReport) => void;
}

/**
 * One pass over every spool folder; a file that fails is logged and left for the next pass. Files go
 * through a fixed number of workers (the queue is the folder listing itself, so it is bounded): while one
 * file's chunk is in the database, another file is being read and parsed.
 */
export async function scanSpools(deps: SpoolDeps): Promise<FileReport[]> {
  const reports: FileReport[] = [];
  const queue: Array<{ dir: string; name: string }> = [];
  for (const dir of deps.dirs) for (const name of await spoolFiles(dir)) queue.push({ dir, name });
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < queue.length) {
      const { dir, name } = queue[next++]!;
      try {
        const r = await ingestSpoolFile(deps.db, dir, name, deps.clock.nowMs());
        if (r === undefined) continue;
        reports.push(r);
        deps.onFile?.(r);
        deps.logger.info(
          {
            file: r.file,
            accepted: r.accepted,
            duplicates: r.duplicates,
            rejected: r.rejected,
            replay: r.replay,
          },
          'billing file ingested',
        );
      } catch (err) {
        deps.logger.error(
          { err, file: path.join(dir, name) },
          'billing file not ingested; retrying next scan',
        );
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, deps.concurrency ?? 2) }, worker));
  return reports;
}
