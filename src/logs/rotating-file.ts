/**
 * A pino destination that appends to `<dir>/<service>.log` and rotates it by rename and reopen (never
 * copytruncate: a copy races the writer and truncation loses what was written in between).
 *
 * Writes are synchronous by default: each `write()` is a `writeSync` into an fd opened with 'a', so a
 * line is in the kernel before the log call returns and a crash of the process — SIGKILL and OOM
 * included — loses nothing it logged. It costs one syscall per line (a few µs, see the throughput test).
 * With `bufferBytes > 0`, lines are gathered and written by one `writeSync` when the buffer would
 * overflow, after `flushIntervalMs`, at rotation, on `flushSync()` (pino calls it after every `fatal`)
 * and at process 'exit': a SIGKILL then loses at most `bufferBytes` bytes, `flushIntervalMs` of logs.
 * Only a kernel crash or power cut can lose the active file's unsynced tail; rotation fsyncs the file
 * before renaming it and the directory after, so a rotated name always holds complete, durable data.
 *
 * Rotation happens before a write that would push the file past `maxBytes` (one chunk, i.e. one pino
 * line, is never split; a single line larger than maxBytes gets a file of its own) and once the clock
 * passes the next multiple of `maxAgeMs` since the epoch (1 h: every UTC hour), checked on every write
 * and by an unref'd timer. An empty file is never rotated. Logging never throws into the caller: a
 * failure after start goes to `onError` (each code at most once a minute) and the line is counted in
 * `stats().droppedLines`. One process writes one `<dir>/<service>.log`: a second one would rotate the
 * first one's file away at its start.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Clock } from '../clock.js';
import { ErrorCodes, OverseerError } from '../errors/index.js';
import { activeName, parseRotatedName, rotatedName, sanitizeHost, SEQ_MAX } from './log-names.js';

export interface RotatingFileOptions {
  dir: string;
  service: string;
  /** Part of rotated names; sanitized to [A-Za-z0-9-]. */
  host: string;
  maxBytes: number;
  /** At least 1 s; Infinity: never by age. */
  maxAgeMs: number;
  clock: Clock;
  /** 0 (default): synchronous writes. At most 16 MiB. */
  bufferBytes?: number;
  /** How long a buffered line may wait; default 100 ms. */
  flushIntervalMs?: number;
  /** After a file was renamed (and synced) under its rotated name; the shipper's hook. Must not throw. */
  onRotate?: (file: string, bytes: number) => void;
  /** Failures after start. Default: one block on stderr. */
  onError?: (err: Error) => void;
}

export interface RotatingFileStats {
  rotations: number;
  /** Chunks (lines) that could not be written and are lost. */
  droppedLines: number;
  bufferedBytes: number;
  /** The active file's size including the buffer. */
  activeBytes: number;
}

type Chunk = string | Uint8Array;
const RETRY_MS = 1000;
const REPORT_EVERY_MS = 60_000;
const MAX_TIMER_MS = 60_000;
const MAX_BUFFER = 16 * 1024 * 1024;
// Earliest plausible first-line time of a leftover file; anything older is some other clock unit.
const MIN_LINE_TIME = Date.UTC(2000, 0, 1);

export class RotatingFile {
  /** `<dir>/<service>.log`. */
  readonly file: string;
  private fd: number | undefined;
  private startMs = 0;
  private periodEnd = Infinity;
  /** Bytes in the active file plus the buffer: what the file will hold after a flush. */
  private size = 0;
  private buf: Chunk[] = [];
  private bufBytes = 0;
  /** The last rotated name's second and seq: later names never sort before it. */
  private lastSec = -1;
  private lastSeq = -1;
  private retryAt = 0;
  /** A write failed part-way: the next write starts a fresh line so the torn one joins nothing. */
  private torn = false;
  private closed = false;
  private ageTimer: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly reported = new Map<number, number>();
  private readonly counts = { rotations: 0, droppedLines: 0 };
  private readonly bufferBytes: number;
  private readonly flushIntervalMs: number;
  private readonly onExit = (): void => this.flushSync();

  constructor(private readonly opts: RotatingFileOptions) {
    this.bufferBytes = opts.bufferBytes ?? 0;
    this.flushIntervalMs = opts.flushIntervalMs ?? 100;
    checkOptions(opts, this.bufferBytes, this.flushIntervalMs);
    this.file = path.join(opts.dir, activeName(opts.service));
    const now = opts.clock.nowMs();
    const err = this.openActive(now);
    if (err) throw err;
    this.restoreLastName();
    if (this.size > 0) {
      // Left over by a previous run (crash, or no rotateNow at shutdown): rotate it first so it gets
      // shipped, named by when it was started. If that fails we keep appending and retry later.
      this.startMs = Math.min(leftoverStart(this.file) ?? now, now);
      this.rotate(now, true);
    }
    if (this.bufferBytes > 0) process.on('exit', this.onExit);
    this.armAgeTimer();
  }

  /** pino's destination interface: `chunk` is one whole line. Never throws. */
  write(chunk: Chunk): boolean {
    if (this.closed) {
      this.counts.droppedLines++;
      return true;
    }
    const len = typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
    const now = this.opts.clock.nowMs();
    if (now >= this.periodEnd || (this.size > 0 && this.size + len > this.opts.maxBytes)) this.due(now);
    if (this.bufferBytes === 0 || len >= this.bufferBytes) {
      this.flushBuffer();
      this.size += len;
      this.writeOut(chunk, len, 1);
    } else {
      if (this.bufBytes + len > this.bufferBytes) this.flushBuffer();
      this.size += len;
      this.buf.push(chunk);
      this.bufBytes += len;
      this.flushTimer ??= setTimeout(() => this.flushBuffer(), this.flushIntervalMs).unref();
    }
    return true;
  }

  /** Everything buffered into the kernel now (a fatal exit). Never throws. */
  flushSync(): void {
    this.flushBuffer();
  }

  /** pino's `logger.flush(cb)`. */
  flush(cb?: (err?: Error) => void): void {
    this.flushBuffer();
    if (cb) queueMicrotask(() => cb());
  }

  /** Rotates now unless the file is empty (shutdown: hand the last lines to the shipper). */
  rotateNow(): string | undefined {
    return this.closed ? undefined : this.rotate(this.opts.clock.nowMs(), true);
  }

  /** Age rotation, run by the timer; tests with a ManualClock call it after moving the clock. */
  checkAge(): void {
    if (this.closed) return;
    const now = this.opts.clock.nowMs();
    if (now >= this.periodEnd) this.due(now);
    this.armAgeTimer();
  }

  /** Flushes, fsyncs and closes the active file (it is not rotated: call rotateNow first for that). */
  close(): void {
    if (this.closed) return;
    this.flushBuffer();
    this.closed = true;
    clearTimeout(this.ageTimer);
    process.removeListener('exit', this.onExit);
    const fd = this.fd;
    this.fd = undefined;
    if (fd === undefined) return;
    try {
      fs.fsyncSync(fd);
    } catch (e) {
      this.report(e as Error);
    }
    tryClose(fd);
  }

  /** Writable-style alias of close. */
  end(): void {
    this.close();
  }

  stats(): RotatingFileStats {
    return { ...this.counts, bufferedBytes: this.bufBytes, activeBytes: this.size };
  }

  private due(now: number): void {
    if (this.size > 0) this.rotate(now, false);
    else if (this.fd !== undefined) this.startPeriod(now);
  }

  private startPeriod(now: number): void {
    this.startMs = now;
    const age = this.opts.maxAgeMs;
    this.periodEnd = Number.isFinite(age) ? (Math.floor(now / age) + 1) * age : Infinity;
  }

  private rotate(now: number, force: boolean): string | undefined {
    if (!force && now < this.retryAt) return undefined;
    this.flushBuffer();
    const fd = this.fd;
    if (fd === undefined || this.size === 0) return undefined;
    const bytes = this.size;
    const { file, sec, seq } = this.nextName();
    const target = path.join(this.opts.dir, file);
    try {
      fs.fsyncSync(fd);
      // Renamed while still open: if the rename fails, the fd is still good and we go on appending.
      fs.renameSync(this.file, target);
    } catch (cause) {
      this.retryAt = now + RETRY_MS;
      this.report(
        new OverseerError(ErrorCodes.LOG_ROTATE_FAILED, `cannot rotate ${this.file} to ${file}`, { cause }),
      );
      // Someone removed or moved the active file: what it held is out of our hands, but the lines to
      // come must not go on into an inode no name points to.
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') this.reopen(fd, now);
      return undefined;
    }
    this.lastSec = sec;
    this.lastSeq = seq;
    this.counts.rotations++;
    // Every byte is synced; a close or directory-sync error can only cost the new name after a power
    // cut, and then the file comes back as <service>.log and is rotated as a leftover.
    syncDir(this.opts.dir);
    this.reopen(fd, now);
    try {
      this.opts.onRotate?.(target, bytes);
    } catch (e) {
      this.report(e as Error);
    }
    return target;
  }

  private reopen(oldFd: number, now: number): void {
    this.fd = undefined;
    this.size = 0;
    tryClose(oldFd);
    const err = this.openActive(now);
    if (err) {
      this.retryAt = now + RETRY_MS;
      this.report(err);
    }
  }

  /** The next free name that sorts after the last one, even if the clock stepped back. */
  private nextName(): { file: string; sec: number; seq: number } {
    let sec = Math.max(Math.floor(this.startMs / 1000), this.lastSec);
    let seq = sec === this.lastSec ? this.lastSeq + 1 : 0;
    for (;;) {
      if (seq > SEQ_MAX) [sec, seq] = [sec + 1, 0];
      const file = rotatedName({ ...this.opts, startMs: sec * 1000, seq });
      if (!fs.existsSync(path.join(this.opts.dir, file))) return { file, sec, seq };
      seq++;
    }
  }

  /** Names left by earlier runs: ours continue after the newest, so order holds across restarts. */
  private restoreLastName(): void {
    const host = sanitizeHost(this.opts.host);
    let names: string[];
    try {
      names = fs.readdirSync(this.opts.dir);
    } catch {
      return; // a directory we may write but not list: only the order across a clock step is at stake
    }
    for (const name of names) {
      const p = parseRotatedName(name);
      if (p?.service !== this.opts.service || p.host !== host) continue;
      const sec = p.startMs / 1000;
      if (sec > this.lastSec || (sec === this.lastSec && p.seq > this.lastSeq))
        [this.lastSec, this.lastSeq] = [sec, p.seq];
    }
  }

  private openActive(now: number): OverseerError | undefined {
    try {
      fs.mkdirSync(this.opts.dir, { recursive: true });
      this.fd = fs.openSync(this.file, 'a', 0o640);
      this.size = fs.fstatSync(this.fd).size;
      this.torn = false;
      this.startPeriod(now);
      return undefined;
    } catch (cause) {
      return new OverseerError(ErrorCodes.LOG_FILE_OPEN_FAILED, `cannot open log file ${this.file}`, {
        cause,
        hint: 'the log directory must exist or be creatable, and be writable',
      });
    }
  }

  private flushBuffer(): void {
    if (this.buf.length === 0) return;
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const chunks = this.buf;
    const len = this.bufBytes;
    this.buf = [];
    this.bufBytes = 0;
    const data = chunks.every((c) => typeof c === 'string')
      ? chunks.join('')
      : Buffer.concat(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
    this.writeOut(data, len, chunks.length);
  }

  private writeOut(data: Chunk, len: number, lines: number): void {
    const now = this.opts.clock.nowMs();
    if (this.fd === undefined && now >= this.retryAt) {
      const err = this.openActive(now);
      if (err) this.report(err);
      this.retryAt = now + RETRY_MS;
      if (this.fd !== undefined) this.size += len;
    }
    let done = 0;
    try {
      if (this.fd === undefined) throw new Error('no open log file');
      if (this.torn) {
        this.size += fs.writeSync(this.fd, '\n');
        this.torn = false;
      }
      done = typeof data === 'string' ? fs.writeSync(this.fd, data) : fs.writeSync(this.fd, data);
      if (done < len) {
        const b = typeof data === 'string' ? Buffer.from(data) : data;
        while (done < len) done += fs.writeSync(this.fd, b, done, len - done);
      }
    } catch (cause) {
      this.torn = done > 0;
      this.size -= len - done;
      this.counts.droppedLines += lines;
      this.report(
        new OverseerError(ErrorCodes.LOG_WRITE_FAILED, `cannot write to ${this.file}; log lines lost`, {
          cause,
        }),
      );
    }
  }

  private armAgeTimer(): void {
    if (this.closed || !Number.isFinite(this.opts.maxAgeMs)) return;
    clearTimeout(this.ageTimer);
    const now = this.opts.clock.nowMs();
    const due = Math.max(this.periodEnd, this.retryAt);
    // Re-checked at least every minute: the wall clock may step while the timer's clock does not.
    const delay = due > now ? Math.min(due - now, MAX_TIMER_MS) : RETRY_MS;
    this.ageTimer = setTimeout(() => this.checkAge(), delay).unref();
  }

  private report(err: Error): void {
    const key = err instanceof OverseerError ? err.code : 0;
    const now = this.opts.clock.nowMs();
    const last = this.reported.get(key);
    if (last !== undefined && now - last < REPORT_EVERY_MS) return;
    this.reported.set(key, now);
    (this.opts.onError ?? printError)(err);
  }
}

function checkOptions(o: RotatingFileOptions, bufferBytes: number, flushIntervalMs: number): void {
  const problems: string[] = [];
  if (!Number.isSafeInteger(o.maxBytes) || o.maxBytes < 1)
    problems.push('maxBytes must be a positive integer');
  if (!(o.maxAgeMs >= 1000)) problems.push('maxAgeMs must be at least 1000 (or Infinity)');
  if (!Number.isSafeInteger(bufferBytes) || bufferBytes < 0 || bufferBytes > MAX_BUFFER)
    problems.push(`bufferBytes must be an integer in 0..${MAX_BUFFER}`);
  if (!(flushIntervalMs > 0 && flushIntervalMs <= MAX_TIMER_MS))
    problems.push(`flushIntervalMs must be in (0, ${MAX_TIMER_MS}]`);
  if (problems.length > 0)
    throw new OverseerError(ErrorCodes.LOG_ROTATE_OPTIONS_INVALID, 'invalid log rotation options', {
      details: problems,
      exitCode: 2,
    });
}

/** When a leftover active file was started: its first line's `time`, else its birth or change time. */
function leftoverStart(file: string): number | undefined {
  let st: fs.Stats;
  let head: string;
  try {
    st = fs.statSync(file);
    const fd = fs.openSync(file, 'r');
    try {
      const b = Buffer.alloc(16 * 1024);
      head = b.toString('utf8', 0, fs.readSync(fd, b, 0, b.length, 0));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
  const fallback = st.birthtimeMs > 0 ? Math.min(st.birthtimeMs, st.mtimeMs) : st.mtimeMs;
  const nl = head.indexOf('\n');
  let time: unknown;
  try {
    time = nl < 0 ? undefined : (JSON.parse(head.slice(0, nl)) as { time?: unknown }).time;
  } catch {
    return fallback;
  }
  const ms = typeof time === 'number' ? time : typeof time === 'string' ? Date.parse(time) : NaN;
  // A line cannot have been written after the file last changed; seconds or other units fail this.
  return ms >= MIN_LINE_TIME && ms <= st.mtimeMs + 1000 ? ms : fallback;
}

function syncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Some platforms and file systems cannot fsync a directory; see the comment at the call.
  }
}

function tryClose(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // Already synced; see the comment at the call.
  }
}

function printError(err: Error): void {
  const text = err instanceof OverseerError ? err.format() : String(err.stack ?? err);
  process.stderr.write(`overseer/logging: ${text}\n`);
}
