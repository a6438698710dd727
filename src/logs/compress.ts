import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { ErrorCodes, OverseerError } from '../errors/index.js';

/**
 * gzip with proof: the .gz appears under its final name only once it is complete and fsynced, and it is
 * only reported as done after a full decompress of what is on disk reproduced the source byte for byte.
 * Everything streams (zlib runs on the thread pool), so multi-GB logs neither block the event loop nor
 * sit in memory.
 */

/** A crash mid-gzip leaves `<dest>.tmp`; it never carries the final name, so it is never shipped. */
export const LEFTOVER_SUFFIX = '.tmp';

export interface SourceDigest {
  /** Bytes of the uncompressed source. */
  sourceBytes: number;
  /** Hex sha256 of the uncompressed source. */
  sourceSha256: string;
}

export interface GzipDigest {
  /** Bytes of the .gz file. */
  size: number;
  /** Hex sha256 of the .gz file: what the object store records and `head` compares. */
  sha256: string;
}

export type GzipResult = GzipDigest & SourceDigest;

/** What a .gz must decompress to; `size`/`sha256` (of the .gz itself) are checked too when given. */
export type ExpectedGzip = SourceDigest & Partial<GzipDigest>;

export interface GzipOptions {
  /** zlib level 0..9; 6 (zlib's default) when absent. */
  level?: number;
}

/** Byte count and sha256 of everything that streams past. */
class Digest {
  private readonly hash = createHash('sha256');
  bytes = 0;

  private add(chunk: Buffer): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
  }

  /** Passes chunks on unchanged. */
  tap(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _enc, done) => {
        this.add(chunk);
        done(null, chunk);
      },
    });
  }

  /** Swallows chunks: counts them without keeping them. */
  sink(): Writable {
    return new Writable({
      write: (chunk: Buffer, _enc, done) => {
        this.add(chunk);
        done();
      },
    });
  }

  hex(): string {
    return this.hash.digest('hex');
  }
}

/**
 * Writes into `handle` and fsyncs before 'finish', so a resolved pipeline means durable bytes. (An fs
 * WriteStream would close the fd before we could fsync it; its `flush` option needs Node ≥ 20.10.)
 */
function durableSink(handle: FileHandle): Writable {
  return new Writable({
    write: (chunk: Buffer, _enc, done) => {
      writeAll(handle, chunk).then(() => done(), done);
    },
    final: (done) => {
      handle.sync().then(() => done(), done);
    },
  });
}

async function writeAll(handle: FileHandle, buf: Buffer): Promise<void> {
  for (let off = 0; off < buf.length;) off += (await handle.write(buf, off)).bytesWritten;
}

/** Makes a create, rename or unlink in `dir` survive power loss (the file's own fsync does not). */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Compresses `src` into `dest` (name it `*.gz`: removeLeftovers relies on it; an existing `dest` is
 * replaced): stream to `dest.tmp`, fsync, rename, fsync the directory, then verify by decompressing `dest`
 * in full. A failure leaves no `dest.tmp` and no unverified `dest`; `src` is never touched. `sourceBytes`
 * is what was read: compare it with the source's size before deleting the source, in case a writer still
 * held it open.
 */
export async function gzipFile(src: string, dest: string, opts: GzipOptions = {}): Promise<GzipResult> {
  const tmp = dest + LEFTOVER_SUFFIX;
  const source = new Digest();
  let renamed = false;
  try {
    const out = await open(tmp, 'w');
    try {
      const gzip = createGzip({ level: opts.level ?? 6 });
      await pipeline(createReadStream(src), source.tap(), gzip, durableSink(out));
    } finally {
      await out.close();
    }
    // Only a complete, durable file gets the final name.
    await rename(tmp, dest);
    renamed = true;
    await fsyncDir(dirname(dest));
  } catch (cause) {
    // An earlier `dest` survives a failure before the rename; after it, `dest` is ours and unproven.
    await rm(renamed ? dest : tmp, { force: true }).catch(() => undefined);
    throw new OverseerError(ErrorCodes.LOG_GZIP_FAILED, `cannot gzip ${src} to ${dest}`, {
      details: [String((cause as Error).message)],
      hint: 'check that the source exists and the destination directory is writable with free space',
      cause,
    });
  }
  const expected: SourceDigest = { sourceBytes: source.bytes, sourceSha256: source.hex() };
  try {
    return { ...(await verifyGzip(dest, expected)), ...expected };
  } catch (err) {
    // A .gz that does not reproduce its source must never be uploaded, nor its source deleted for it.
    await rm(dest, { force: true }).catch(() => undefined);
    throw err;
  }
}

/**
 * Decompresses `file` in full and checks it against what its source hashed to (and, when given, the .gz's
 * own size and sha256). Run it before an upload: it catches a .gz damaged on disk since it was written.
 * Returns the .gz's size and sha256 as read now.
 */
export async function verifyGzip(file: string, expected: ExpectedGzip): Promise<GzipDigest> {
  const gz = new Digest();
  const plain = new Digest();
  const problems: string[] = [];
  let failure: unknown;
  try {
    await pipeline(createReadStream(file), gz.tap(), createGunzip(), plain.sink());
  } catch (cause) {
    failure = cause;
    problems.push(`cannot decompress: ${(cause as Error).message}`);
  }
  const actual = { size: gz.bytes, sha256: gz.hex(), sourceBytes: plain.bytes, sourceSha256: plain.hex() };
  if (failure === undefined) {
    for (const k of ['sourceBytes', 'sourceSha256', 'size', 'sha256'] as const) {
      const want = expected[k];
      if (want !== undefined && want !== actual[k]) problems.push(`${k} is ${actual[k]}, expected ${want}`);
    }
  }
  if (problems.length > 0) {
    throw new OverseerError(ErrorCodes.LOG_GZIP_VERIFY_FAILED, `${file} does not decompress to its source`, {
      details: problems,
      hint: 'the .gz is damaged or incomplete: delete it and gzip the source again',
      cause: failure,
    });
  }
  return { size: actual.size, sha256: actual.sha256 };
}

/** True for a gzip temp file (`*.gz.tmp`), which no finished file is ever named. */
export function isLeftover(name: string): boolean {
  return name.endsWith('.gz' + LEFTOVER_SUFFIX);
}

/**
 * Deletes the `*.gz.tmp` files a crash left in `dir` and returns their names. Their sources are intact
 * (gzipFile never touches them), so nothing is lost. Call it before gzips start in `dir`: a running
 * gzipFile's temp file looks the same.
 */
export async function removeLeftovers(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries.filter((e) => e.isFile() && isLeftover(e.name)).map((e) => e.name);
  for (const name of names) await rm(join(dir, name), { force: true });
  if (names.length > 0) await fsyncDir(dir);
  return names;
}
