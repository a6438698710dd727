import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rmdir, stat, unlink } from 'node:fs/promises';
import * as path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { ErrorCodes, OverseerError } from '../errors/index.js';
import { assertSafeKey, unsafeKeyReason } from './object-keys.js';
import type { ObjectStore, PutOptions, StoredObject } from './object-store.js';

const META_SUFFIX = '.meta.json';
const TEMP_PREFIX = '.tmp-';
const PROGRESS_EVERY = 1024 * 1024;

interface Sidecar {
  sha256: string;
  size: number;
}

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

/** `p`'s value, or undefined when it fails because the path (or a folder on it) does not exist. */
async function unlessMissing<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (e) {
    if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') return undefined;
    throw e;
  }
}

async function fsyncPath(p: string): Promise<void> {
  const fh = await open(p, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Writes `write`'s output to a fresh temp file next to `target`, fsyncs it and renames it into place, so a
 * reader (or a crash) sees the old file or the new one, never half of one.
 */
async function atomicWrite(
  target: string,
  write: (tmp: string) => Promise<void>,
  beforeRename?: () => Promise<void>,
): Promise<void> {
  const tmp = path.join(
    path.dirname(target),
    `${TEMP_PREFIX}${randomBytes(6).toString('hex')}-${path.basename(target)}`,
  );
  try {
    await write(tmp);
    await fsyncPath(tmp);
    await beforeRename?.();
    await rename(tmp, target);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}

/**
 * The embedded default object store: a folder where a key `a/b/c.gz` is the file `<dir>/a/b/c.gz` and its
 * sha256 lives in the sidecar `<dir>/a/b/c.gz.meta.json`. Temp files (`.tmp-*`) left by a crash are never
 * listed; the next put of the key writes a new one.
 */
export class LocalObjectStore implements ObjectStore {
  readonly describe: string;

  constructor(private readonly dir: string) {
    this.dir = path.resolve(dir);
    this.describe = pathToFileURL(this.dir).href;
  }

  private pathOf(key: string): string {
    assertSafeKey(key);
    const base = key.slice(key.lastIndexOf('/') + 1);
    if (base.endsWith(META_SUFFIX) || base.startsWith(TEMP_PREFIX)) {
      throw new OverseerError(
        ErrorCodes.LOG_ARCHIVE_KEY_RESERVED,
        `object key ${JSON.stringify(key)} is reserved`,
        {
          hint: `the local archive keeps its own files as *${META_SUFFIX} and ${TEMP_PREFIX}*: choose a key template whose file names avoid them`,
        },
      );
    }
    return path.join(this.dir, ...key.split('/'));
  }

  async put(key: string, file: string, opts: PutOptions): Promise<void> {
    const target = this.pathOf(key);
    const meta = `${target}${META_SUFFIX}`;
    try {
      opts.signal?.throwIfAborted();
      // The sidecar cannot change together with the data, so the old one goes once the new bytes are
      // safely in the temp file, and the new one comes after the rename: in between (or after a crash
      // there) head reports no sha256, which never confirms an upload.
      const dropSidecar = async (): Promise<void> => void (await unlessMissing(unlink(meta)));
      await this.inFolderOf(target, () =>
        atomicWrite(target, (tmp) => copyVerified(file, tmp, opts), dropSidecar),
      );
      const sidecar: Sidecar = { sha256: opts.sha256, size: opts.size };
      await atomicWrite(meta, (tmp) => writeFileDurably(tmp, JSON.stringify(sidecar)));
      await fsyncPath(path.dirname(target));
    } catch (cause) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      throw new OverseerError(
        ErrorCodes.LOG_ARCHIVE_WRITE_FAILED,
        `cannot store ${file} as ${key} in ${this.describe}`,
        {
          details: [String((cause as Error).message)],
          hint: 'check that the archive folder is writable and has space, and that the source file is unchanged',
          cause,
        },
      );
    }
  }

  /** Runs `write` after mkdir -p; again if a concurrent delete pruned the still empty folder meanwhile. */
  private async inFolderOf(target: string, write: () => Promise<void>): Promise<void> {
    const folder = path.dirname(target);
    for (let attempt = 1; ; attempt++) {
      await mkdir(folder, { recursive: true });
      try {
        return await write();
      } catch (e) {
        if (attempt < 3 && errno(e) === 'ENOENT' && !(await unlessMissing(stat(folder)))) continue;
        throw e;
      }
    }
  }

  async head(key: string): Promise<StoredObject | undefined> {
    const target = this.pathOf(key);
    try {
      const st = await unlessMissing(stat(target));
      if (!st?.isFile()) return undefined;
      return { key, size: st.size, sha256: await readSha256(`${target}${META_SUFFIX}`, st.size) };
    } catch (cause) {
      throw new OverseerError(ErrorCodes.LOG_ARCHIVE_READ_FAILED, `cannot read ${key} in ${this.describe}`, {
        details: [String((cause as Error).message)],
        hint: 'check that the archive folder is readable by the overseer user',
        cause,
      });
    }
  }

  /** Keys starting with `prefix`, in the byte order S3 lists them in. */
  async *list(prefix: string): AsyncIterable<StoredObject> {
    // Start in the deepest folder the prefix names in full; the rest of it filters names.
    const slash = prefix.lastIndexOf('/');
    const folder = slash === -1 ? '' : prefix.slice(0, slash + 1);
    if (folder !== '' && unsafeKeyReason(folder.slice(0, -1)) !== undefined) return; // no key starts so
    try {
      yield* this.walk(folder, prefix);
    } catch (cause) {
      throw new OverseerError(
        ErrorCodes.LOG_ARCHIVE_LIST_FAILED,
        `cannot list ${JSON.stringify(prefix)} in ${this.describe}`,
        {
          details: [String((cause as Error).message)],
          hint: 'check that the archive folder is readable by the overseer user',
          cause,
        },
      );
    }
  }

  private async *walk(folder: string, prefix: string): AsyncGenerator<StoredObject> {
    const entries = await unlessMissing(
      readdir(path.join(this.dir, ...folder.split('/')), { withFileTypes: true }),
    );
    if (!entries) return;
    // A folder sorts as `name/`, which puts every key below it where S3 would list it.
    const named = entries
      .filter(
        (d) =>
          !d.name.startsWith(TEMP_PREFIX) &&
          (d.isDirectory() || (d.isFile() && !d.name.endsWith(META_SUFFIX))),
      )
      .map((d) => ({ d, sortKey: d.isDirectory() ? `${d.name}/` : d.name }))
      .sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
    for (const { d, sortKey } of named) {
      const key = `${folder}${sortKey}`;
      if (d.isDirectory()) {
        if (key.startsWith(prefix) || prefix.startsWith(key)) yield* this.walk(key, prefix);
        continue;
      }
      if (!key.startsWith(prefix)) continue;
      const file = path.join(this.dir, ...key.split('/'));
      const st = await unlessMissing(stat(file));
      if (!st) continue; // deleted while we walked
      yield { key, size: st.size, sha256: await readSha256(`${file}${META_SUFFIX}`, st.size) };
    }
  }

  /** Removes the object and its sidecar, then the folders it leaves empty. Deleting a missing key is fine. */
  async delete(key: string): Promise<void> {
    const target = this.pathOf(key);
    try {
      for (const p of [target, `${target}${META_SUFFIX}`]) {
        await unlessMissing(unlink(p));
      }
      for (
        let parent = path.dirname(target);
        parent !== this.dir && parent.startsWith(this.dir);
        parent = path.dirname(parent)
      ) {
        const pruned = await rmdir(parent).then(
          () => true,
          () => false, // not empty (or gone): stop here
        );
        if (!pruned) break;
      }
    } catch (cause) {
      throw new OverseerError(
        ErrorCodes.LOG_ARCHIVE_DELETE_FAILED,
        `cannot delete ${key} in ${this.describe}`,
        {
          details: [String((cause as Error).message)],
          hint: 'check that the archive folder is writable by the overseer user',
          cause,
        },
      );
    }
  }
}

/** Copies `file` to `dest`, checking the bytes against the size and sha256 the caller vouches for. */
async function copyVerified(file: string, dest: string, opts: PutOptions): Promise<void> {
  const hash = createHash('sha256');
  let sent = 0;
  let reported = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      sent += chunk.length;
      if (opts.onProgress && sent - reported >= PROGRESS_EVERY) {
        reported = sent;
        opts.onProgress(sent);
      }
      done(null, chunk);
    },
  });
  const dst = createWriteStream(dest, { flags: 'wx' });
  if (opts.signal) await pipeline(createReadStream(file), meter, dst, { signal: opts.signal });
  else await pipeline(createReadStream(file), meter, dst);
  const sha256 = hash.digest('hex');
  if (sent !== opts.size || sha256 !== opts.sha256) {
    throw new Error(
      `${file} has ${sent} bytes with sha256 ${sha256}, not ${opts.size} bytes with sha256 ${opts.sha256}`,
    );
  }
  if (reported !== sent) opts.onProgress?.(sent);
}

async function writeFileDurably(file: string, text: string): Promise<void> {
  const fh = await open(file, 'wx');
  try {
    await fh.writeFile(text);
  } finally {
    await fh.close();
  }
}

/** The recorded sha256, unless the sidecar is missing, unreadable or was written for other bytes. */
async function readSha256(meta: string, size: number): Promise<string | undefined> {
  const text = await unlessMissing(readFile(meta, 'utf8'));
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as Partial<Sidecar>;
    return typeof parsed.sha256 === 'string' && parsed.size === size ? parsed.sha256 : undefined;
  } catch {
    return undefined;
  }
}
