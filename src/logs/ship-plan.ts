import { createHash } from 'node:crypto';
import { basename, join } from 'node:path';
import type { FileState } from './journal.js';
import { ROTATED_PATTERN } from './log-names.js';
import type { KeyVars } from './object-keys.js';

/**
 * The shipper's pure decisions over journal states: what a file's state is called, whether it is due,
 * how long to back off, what the backlog is, and what its object is named. No I/O, no clock: `now` is
 * passed in.
 */

/** What `overseer logs status` and `overseer_log_files{state}` call a file. */
export type ShipState = 'pending' | 'compressed' | 'uploaded' | 'failed' | 'deleted';
export const METRIC_STATES = ['pending', 'compressed', 'uploaded', 'failed'] as const;

/**
 * A file that never reached the store and last failed is `failed`; once uploaded it is `uploaded` even if
 * a later local clean-up failed (its data is safe).
 */
export function shipState(s: FileState): ShipState {
  if (s.phase === 'deleted') return 'deleted';
  if (s.phase === 'uploaded') return 'uploaded';
  if (s.failure) return 'failed';
  return s.phase === 'rotated' ? 'pending' : 'compressed';
}

/** Not yet confirmed in the store: its bytes are backlog and nothing of it may be deleted. */
export function isUnshipped(s: FileState): boolean {
  return s.phase === 'rotated' || s.phase === 'compressed';
}

export function isDue(s: FileState, nowMs: number): boolean {
  return s.failure === null || s.failure.nextAttemptAt <= nowMs;
}

/**
 * A foreign file shipped while its writer keeps it (not a rotated name). Its source is never deleted
 * and each quiet version of it is a journal file of its own (see snapshotId).
 */
export function isSnapshot(path: string): boolean {
  return !ROTATED_PATTERN.test(basename(path));
}

/**
 * The journal id of one quiet version of a foreign file: the same (path, size, mtime) is one file; a
 * change to any of them, a new one.
 */
export function snapshotId(path: string, size: number, mtimeMs: number): string {
  return `${path}#${size}@${Math.floor(mtimeMs)}`;
}

/** Where a file's .gz waits for upload: unique per journal id, readable, and `*.gz` (removeLeftovers). */
export function outboxPath(outbox: string, fileId: string, path: string): string {
  const tag = createHash('sha256').update(fileId).digest('hex').slice(0, 12);
  return join(outbox, `${tag}-${basename(path)}.gz`);
}

export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

/**
 * Delay before attempt `attempts + 1` (attempts ≥ 1): base·2^(attempts−1) capped at max, with "equal
 * jitter" — half fixed, half random — so retries of many files spread out yet still grow.
 */
export function backoffMs(attempts: number, policy: BackoffPolicy, random: number): number {
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(Math.max(attempts - 1, 0), 40));
  const r = Math.min(Math.max(random, 0), 1);
  return Math.round(exp / 2 + (exp / 2) * r);
}

export interface Backlog {
  /** Bytes on local disk not yet confirmed in the store: the .gz once compressed, else the source. */
  bytes: number;
  files: number;
  /** Start time of the oldest unshipped file (its first line), or undefined when none. */
  oldestStartMs: number | undefined;
  limitBytes: number;
  /** bytes / limitBytes. */
  ratio: number;
  /** At or above the alarm ratio. */
  high: boolean;
  /** Above limitBytes. Nothing is deleted for it: the writers are told and the alarm fires. */
  overLimit: boolean;
}

export function backlogOf(
  states: Iterable<FileState>,
  limit: { limitBytes: number; alarmRatio: number },
  /** Files whose source vanished before compression: nothing of them is on disk. */
  missing: ReadonlySet<string> = new Set(),
): Backlog {
  let bytes = 0;
  let files = 0;
  let oldest: number | undefined;
  for (const s of states) {
    if (!isUnshipped(s)) continue;
    files++;
    if (!missing.has(s.fileId)) bytes += s.compressed ? s.compressed.size : s.rotated.bytes;
    if (oldest === undefined || s.rotated.startMs < oldest) oldest = s.rotated.startMs;
  }
  const ratio = limit.limitBytes > 0 ? bytes / limit.limitBytes : 0;
  return {
    bytes,
    files,
    oldestStartMs: oldest,
    limitBytes: limit.limitBytes,
    ratio,
    high: ratio >= limit.alarmRatio,
    overLimit: bytes > limit.limitBytes,
  };
}

/** Oldest first (by first line, then id), so a backlog drains in order and status reads chronologically. */
export function byAge(a: FileState, b: FileState): number {
  if (a.rotated.startMs !== b.rotated.startMs) return a.rotated.startMs - b.rotated.startMs;
  return a.fileId < b.fileId ? -1 : a.fileId > b.fileId ? 1 : 0;
}

/**
 * The template variables of a file's object. A rotated file keeps its name; a foreign snapshot gets its
 * size and a content hash appended, so each version has a key of its own and the same bytes always the
 * same key (a retry, or the same version rediscovered, overwrites nothing else).
 */
export function keyVars(
  rotated: FileState['rotated'],
  c: NonNullable<FileState['compressed']>,
  prefix: string,
): KeyVars {
  const name = basename(rotated.path);
  const file = isSnapshot(rotated.path) ? `${name}.${c.sourceBytes}-${c.sourceSha256.slice(0, 12)}` : name;
  return { prefix, service: rotated.service, host: rotated.host, file, time: new Date(rotated.startMs) };
}

/** `api.log` → `api`; anything but [A-Za-z0-9_-] becomes `-` (the `{service}` of a foreign file). */
export function serviceOf(name: string): string {
  const stem = name.replace(/\.log$/, '');
  const s = stem.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64);
  return s === '' ? 'unknown' : s;
}

export interface StatusRow {
  fileId: string;
  path: string;
  state: ShipState;
  service: string;
  host: string;
  /** Source bytes (as compressed once compressed). */
  bytes: number;
  gzBytes: number | null;
  key: string | null;
  uploadedAt: number | null;
  attempts: number;
  lastError: string | null;
  nextAttemptAt: number | null;
}

export function statusRow(s: FileState): StatusRow {
  return {
    fileId: s.fileId,
    path: s.rotated.path,
    state: shipState(s),
    service: s.rotated.service,
    host: s.rotated.host,
    bytes: s.compressed?.sourceBytes ?? s.rotated.bytes,
    gzBytes: s.compressed?.size ?? null,
    key: s.uploaded?.key ?? null,
    uploadedAt: s.uploaded?.at ?? null,
    attempts: s.failure?.attempts ?? 0,
    lastError: s.failure?.lastError ?? null,
    nextAttemptAt: s.failure?.nextAttemptAt ?? null,
  };
}
