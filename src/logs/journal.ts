import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import { ErrorCodes, OverseerError, isOverseerError } from '../errors/index.js';
import { fsyncDir } from './compress.js';

/**
 * The log shipper's memory: one JSON line per step a rotated file takes (rotated → compressed → uploaded
 * → deleted, plus failed for backoff). A line is on disk (fdatasync) before append resolves, so after a
 * crash the journal holds every step the shipper was told had happened. Only the last line can be torn:
 * appends are serialized and each is synced before the next is written.
 */

const id = z.string().min(1);
const count = z.number().int().nonnegative();
const ms = z.number().int();
const hex = z.string().regex(/^[0-9a-f]{64}$/);
const entry = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) =>
  z.object({ type: z.literal(type), fileId: id, ...shape });

export const journalEntrySchema = z.discriminatedUnion('type', [
  entry('rotated', { path: id, service: z.string(), host: z.string(), bytes: count, startMs: ms }),
  entry('compressed', { gzPath: id, size: count, sha256: hex, sourceBytes: count, sourceSha256: hex }),
  entry('uploaded', { key: id, at: ms }),
  entry('deleted', { at: ms }),
  entry('failed', { attempts: count, lastError: z.string(), nextAttemptAt: ms }),
]);

export type JournalEntry = z.infer<typeof journalEntrySchema>;
type Info<T extends JournalEntry['type']> = Omit<Extract<JournalEntry, { type: T }>, 'type' | 'fileId'>;

export type Phase = 'rotated' | 'compressed' | 'uploaded' | 'deleted';

/** One rotated file as the fold of its entries. */
export interface FileState {
  fileId: string;
  phase: Phase;
  rotated: Info<'rotated'>;
  compressed: Info<'compressed'> | null;
  uploaded: Info<'uploaded'> | null;
  deletedAt: number | null;
  /** Set by `failed`, cleared by the next step forward. */
  failure: Info<'failed'> | null;
}

/** Phases each step may follow (`rotated` only starts a file). Re-gzip after a damaged .gz is allowed. */
const FROM: Record<Exclude<JournalEntry['type'], 'rotated'>, readonly Phase[]> = {
  compressed: ['rotated', 'compressed'],
  uploaded: ['compressed'],
  deleted: ['uploaded'],
  failed: ['rotated', 'compressed', 'uploaded'],
};

const NOTHING_YET = { compressed: null, uploaded: null, deletedAt: null, failure: null };
const strip = <E extends JournalEntry>({ type: _t, fileId: _f, ...info }: E) => info;

/** The state after `e`, or why `e` may not follow `prev` (notably: never `deleted` before `uploaded`). */
export function nextState(prev: FileState | undefined, e: JournalEntry): FileState | string {
  if (e.type === 'rotated') {
    if (prev) return `${e.fileId} is already in the journal`;
    return { fileId: e.fileId, phase: 'rotated', rotated: strip(e), ...NOTHING_YET };
  }
  if (!prev) return `${e.fileId} has no rotated entry`;
  if (!FROM[e.type].includes(prev.phase)) return `${e.type} cannot follow ${prev.phase} for ${e.fileId}`;
  switch (e.type) {
    case 'compressed':
      return { ...prev, phase: 'compressed', compressed: strip(e), failure: null };
    case 'uploaded':
      return { ...prev, phase: 'uploaded', uploaded: strip(e), failure: null };
    case 'deleted':
      return { ...prev, phase: 'deleted', deletedAt: e.at, failure: null };
    case 'failed':
      return { ...prev, failure: strip(e) };
  }
}

/** The fewest entries that fold back to `s` (what compaction writes). */
export function entriesOf(s: FileState): JournalEntry[] {
  const fileId = s.fileId;
  const out: JournalEntry[] = [{ type: 'rotated', fileId, ...s.rotated }];
  if (s.compressed) out.push({ type: 'compressed', fileId, ...s.compressed });
  if (s.uploaded) out.push({ type: 'uploaded', fileId, ...s.uploaded });
  if (s.deletedAt !== null) out.push({ type: 'deleted', fileId, at: s.deletedAt });
  if (s.failure) out.push({ type: 'failed', fileId, ...s.failure });
  return out;
}

/** Checks one entry (any shape) against `states`; the clean entry and its new state, or the problem. */
function check(states: ReadonlyMap<string, FileState>, value: unknown) {
  const parsed = journalEntrySchema.safeParse(value);
  if (!parsed.success) return `not a journal entry: ${parsed.error.issues.map((i) => i.message).join('; ')}`;
  const state = nextState(states.get(parsed.data.fileId), parsed.data);
  return typeof state === 'string' ? state : { entry: parsed.data, state };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return 'not JSON';
  }
}

export interface Replay {
  states: Map<string, FileState>;
  /** Bytes up to the end of the last good line; anything after is a torn final line. */
  validBytes: number;
  /** Bad lines before the last one: real corruption, never a crash's doing. */
  problems: string[];
}

/** Folds a journal's bytes. A bad or unterminated final line is the append a crash cut short: dropped. */
export function replay(buf: Buffer): Replay {
  const states = new Map<string, FileState>();
  const problems: string[] = [];
  let validBytes = 0;
  for (let start = 0, line = 1; start < buf.length; line++) {
    const nl = buf.indexOf(0x0a, start);
    // An unterminated line was never acknowledged (append syncs the newline with the rest): drop it.
    if (nl === -1) break;
    const result = check(states, parseJson(buf.subarray(start, nl).toString('utf8')));
    if (typeof result !== 'string') {
      states.set(result.state.fileId, result.state);
      validBytes = nl + 1;
    } else if (nl !== buf.length - 1) {
      problems.push(`line ${line}: ${result}`);
    }
    start = nl + 1;
  }
  return { states, validBytes, problems };
}

/** `<dataDir>/logs/journal.ndjson`. */
export function journalPath(dataDir: string): string {
  return join(dataDir, 'logs', 'journal.ndjson');
}

const COMPACT_SUFFIX = '.compact.tmp';

export interface JournalOptions {
  clock: Clock;
  /** compact() keeps deleted files this long after their deletion (default 7 days). */
  deletedRetentionMs?: number;
  /** Appends waiting their turn; one more is rejected (default 1000). */
  maxPending?: number;
}

export class Journal {
  private pending = 0;
  /** Appends refused because `maxPending` were waiting (for a metric). */
  rejected = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private broken: OverseerError | undefined;
  private closing: Promise<void> | undefined;

  private constructor(
    readonly file: string,
    private handle: FileHandle,
    private live: Map<string, FileState>,
    /** Bytes of a torn final line cut away at open (worth a log line, not an error). */
    readonly tornBytes: number,
    private readonly opts: JournalOptions,
  ) {}

  static async open(file: string, opts: JournalOptions): Promise<Journal> {
    let handle: FileHandle | undefined;
    try {
      const dir = dirname(file);
      const made = await mkdir(dir, { recursive: true });
      // Either the rename happened (the journal is the new one) or not (the old one): the temp is junk.
      await rm(file + COMPACT_SUFFIX, { force: true });
      const buf = await readFile(file).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') return Buffer.alloc(0);
        throw e;
      });
      const r = replay(buf);
      if (r.problems.length > 0) {
        throw new OverseerError(ErrorCodes.LOG_JOURNAL_CORRUPT, `the log-ship journal ${file} is corrupt`, {
          details: r.problems,
          hint: 'restore the journal from a backup, or repair the listed lines by hand',
        });
      }
      handle = await open(file, 'a');
      if (r.validBytes < buf.length) {
        // Before any append: a new line after the torn one would make it a bad line in the middle.
        await handle.truncate(r.validBytes);
        await handle.sync();
      }
      // The journal's directory entry (and any directory just made for it) must survive power loss too.
      const top = made === undefined ? dir : dirname(made);
      for (let d = dir; ; d = dirname(d)) {
        await fsyncDir(d);
        if (d === top || d === dirname(d)) break;
      }
      return new Journal(file, handle, r.states, buf.length - r.validBytes, opts);
    } catch (cause) {
      await handle?.close().catch(() => undefined);
      if (isOverseerError(cause)) throw cause;
      throw new OverseerError(ErrorCodes.LOG_JOURNAL_OPEN_FAILED, `cannot open the journal ${file}`, {
        details: [String((cause as Error).message)],
        hint: 'check that the data directory exists and is writable',
        cause,
      });
    }
  }

  /** Appends waiting or being written (for a depth metric). */
  get depth(): number {
    return this.pending;
  }

  /** Current state per file id: a copy; states are replaced, never mutated. */
  states(): Map<string, FileState> {
    return new Map(this.live);
  }

  /** Writes one entry and fsyncs it; resolves once it is durable. A rejection leaves the entry unknown. */
  async append(entry: JournalEntry): Promise<void> {
    this.usable();
    if (this.pending >= (this.opts.maxPending ?? 1000)) {
      this.rejected++;
      throw new OverseerError(ErrorCodes.LOG_JOURNAL_QUEUE_FULL, 'too many journal appends waiting', {
        hint: 'the disk under the data directory is too slow or stalled',
        status: 503,
      });
    }
    this.pending++;
    try {
      await this.exclusive(() => this.write(entry));
    } finally {
      this.pending--;
    }
  }

  /**
   * Rewrites the journal as the entries of the live states, dropping files deleted before the retention
   * horizon. Crash-safe: the new journal is complete and synced before it replaces the old by rename.
   */
  async compact(): Promise<{ kept: number; dropped: number; bytes: number }> {
    this.usable();
    return this.exclusive(() => this.rewrite());
  }

  /** Refuses new appends, waits for queued ones, then closes. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= this.chain.then(() => this.handle.close());
    return this.closing;
  }

  private usable(): void {
    if (this.closing) {
      throw new OverseerError(ErrorCodes.LOG_JOURNAL_CLOSED, `the log-ship journal ${this.file} is closed`);
    }
    if (this.broken) throw this.broken;
  }

  /** Runs `fn` after everything queued before it: one write or compaction at a time. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async write(entry: JournalEntry): Promise<void> {
    if (this.broken) throw this.broken;
    const r = check(this.live, entry);
    if (typeof r === 'string') {
      throw new OverseerError(ErrorCodes.LOG_JOURNAL_ENTRY_INVALID, `journal entry refused: ${r}`);
    }
    try {
      await this.handle.appendFile(JSON.stringify(r.entry) + '\n');
      await this.handle.datasync();
    } catch (cause) {
      // After a failed write or fsync the file's tail is unknown (and Linux may drop the dirty pages):
      // refuse everything until a reopen re-reads what is really there.
      this.broken = new OverseerError(ErrorCodes.LOG_JOURNAL_WRITE_FAILED, `cannot write ${this.file}`, {
        details: [String((cause as Error).message)],
        hint: 'check free space and the disk under the data directory, then restart',
        cause,
      });
      throw this.broken;
    }
    this.live.set(r.state.fileId, r.state);
  }

  private async rewrite(): Promise<{ kept: number; dropped: number; bytes: number }> {
    if (this.broken) throw this.broken;
    const horizon = this.opts.clock.nowMs() - (this.opts.deletedRetentionMs ?? 7 * 86_400_000);
    const keep = new Map([...this.live].filter(([, s]) => s.deletedAt === null || s.deletedAt >= horizon));
    const text = [...keep.values()]
      .flatMap((s) => entriesOf(s).map((e) => JSON.stringify(e) + '\n'))
      .join('');
    const tmp = this.file + COMPACT_SUFFIX;
    let renamed = false;
    try {
      await rm(tmp, { force: true });
      const next = await open(tmp, 'ax');
      try {
        await next.appendFile(text);
        await next.sync();
        await rename(tmp, this.file);
        renamed = true;
        // Until this returns the rename may be undone by a crash: no append may land in the new file yet.
        await fsyncDir(dirname(this.file));
      } catch (e) {
        await next.close();
        throw e;
      }
      const old = this.handle;
      this.handle = next;
      await old.close().catch(() => undefined);
    } catch (cause) {
      const err = new OverseerError(ErrorCodes.LOG_JOURNAL_COMPACT_FAILED, `cannot compact ${this.file}`, {
        details: [String((cause as Error).message)],
        hint: 'check free space and the disk under the data directory',
        cause,
      });
      // Once renamed, the old handle writes to an unlinked file: appends would vanish. Before, nothing changed.
      if (renamed) this.broken = err;
      else await rm(tmp, { force: true }).catch(() => undefined);
      throw err;
    }
    const dropped = this.live.size - keep.size;
    this.live = keep;
    return { kept: keep.size, dropped, bytes: Buffer.byteLength(text) };
  }
}
