import * as path from 'node:path';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import { ErrorCodes, OverseerError } from '../errors/index.js';
import { dropRawPartitionsBefore } from './partitions.js';
import { HOUR_MS } from './record.js';
import { ingestSpoolFile, spoolFiles, type FileReport } from './spool.js';

/**
 * Seals every hour that ended at least `closeAfterMs` ago (hour + 1h + closeAfter ≤ now) and is still
 * open. A record arriving later still counts, and bumps the row's revision (see ingest). Returns how many
 * rows were sealed.
 */
export async function closeHours(db: Kysely<Database>, nowMs: number, closeAfterMs: number): Promise<number> {
  const now = new Date(nowMs);
  const r = await db
    .updateTable('billing_hourly')
    .set({ closed_at: now, updated_at: now })
    .where('closed_at', 'is', null)
    .where('hour', '<=', new Date(nowMs - HOUR_MS - closeAfterMs))
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/**
 * Drops the raw partitions of days that ended more than `rawRetentionMs` ago; returns their names. Only
 * raw records age out: hourly rows and the record keys (which keep duplicates out forever) stay.
 */
export async function applyRetention(
  db: Kysely<Database>,
  nowMs: number,
  rawRetentionMs: number,
): Promise<string[]> {
  return dropRawPartitionsBefore(db, nowMs - rawRetentionMs);
}

export interface ScanReport {
  /** Files handled (ingested or replayed) plus files that failed. */
  files: number;
  ingested: number;
  replays: number;
  failed: number;
  accepted: number;
  duplicates: number;
  rejected: number;
}

export interface ScanOptions {
  db: Kysely<Database>;
  dirs: readonly string[];
  clock: Clock;
  logger: Logger;
  /** Asked before each file: false ends the pass early (shutdown, or leadership lost). */
  keepGoing?: () => boolean;
  onFile?: (report: FileReport) => void;
  onFailure?: (file: string, error: OverseerError) => void;
  /** Files ingested at once, each on its own connection (one at a time on PGlite anyway); default 2. */
  concurrency?: number;
}

export const emptyScan = (): ScanReport => ({
  files: 0,
  ingested: 0,
  replays: 0,
  failed: 0,
  accepted: 0,
  duplicates: 0,
  rejected: 0,
});

/**
 * One pass over the spool folders: each file is ingested exactly once and moved to done/, by a fixed
 * number of workers (while one file's chunk is in the database, the next is read and parsed; the queue is
 * the folder listing, so it is bounded). A file that fails is logged, counted and left for the next pass;
 * the rest go on. Workers stop between files when `keepGoing` says so, which keeps shutdown short even
 * with a large backlog: what is left is picked up by the next pass or the next leader.
 */
export async function scanSpoolDirs(opts: ScanOptions): Promise<ScanReport> {
  const report = emptyScan();
  const queue: Array<{ dir: string; name: string }> = [];
  for (const dir of opts.dirs) for (const name of await spoolFiles(dir)) queue.push({ dir, name });
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < queue.length && opts.keepGoing?.() !== false) {
      const { dir, name } = queue[next++]!;
      const file = path.join(dir, name);
      try {
        const r = await ingestSpoolFile(opts.db, dir, name, opts.clock.nowMs());
        // Gone before it was read: another ingester (a replica during a failover, the CLI) has it.
        if (r === undefined) continue;
        report.files++;
        if (r.replay) report.replays++;
        else report.ingested++;
        report.accepted += r.accepted;
        report.duplicates += r.duplicates;
        report.rejected += r.rejected;
        opts.onFile?.(r);
        opts.logger.info(
          { file, accepted: r.accepted, duplicates: r.duplicates, rejected: r.rejected, replay: r.replay },
          'billing file ingested',
        );
      } catch (cause) {
        report.files++;
        report.failed++;
        const err = new OverseerError(ErrorCodes.BILLING_SPOOL_FILE_FAILED, `billing file ${file} failed`, {
          details: [String((cause as Error).message || cause)],
          hint: 'the file stays in the spool and is tried again on the next scan',
          cause,
        });
        opts.onFailure?.(file, err);
        opts.logger.error({ code: err.code, file, err: cause }, err.message);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 2) }, worker));
  return report;
}
