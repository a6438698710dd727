import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes, OverseerError } from '../errors/index.js';
import { LocalObjectStore } from './local-store.js';
import type { StoredObject } from './object-store.js';

let tmp: string;
let archive: string;
let store: LocalObjectStore;

beforeEach(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'overseer-local-store-'));
  archive = path.join(tmp, 'archive');
  store = new LocalObjectStore(archive);
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A source file with the options that vouch for it. */
function source(
  name: string,
  content: string | Buffer,
): { file: string; opts: { sha256: string; size: number } } {
  const file = path.join(tmp, name);
  writeFileSync(file, content);
  return { file, opts: { sha256: sha256(content), size: Buffer.byteLength(content) } };
}

async function all(it: AsyncIterable<StoredObject>): Promise<StoredObject[]> {
  const out: StoredObject[] = [];
  for await (const o of it) out.push(o);
  return out;
}

async function codeOf(p: Promise<unknown>): Promise<number | undefined> {
  try {
    await p;
  } catch (e) {
    return e instanceof OverseerError ? e.code : -1;
  }
  return undefined;
}

describe('LocalObjectStore', () => {
  it('describes itself as a file URL', () => {
    expect(store.describe).toBe(`file://${archive}`);
  });

  it('puts a file under its key with a sidecar, and heads it', async () => {
    const { file, opts } = source('a.log.gz', 'hello');
    await store.put('logs/api/web-1/2024/03/05/07/a.gz', file, opts);
    const stored = path.join(archive, 'logs/api/web-1/2024/03/05/07/a.gz');
    expect(await readFile(stored, 'utf8')).toBe('hello');
    expect(JSON.parse(await readFile(`${stored}.meta.json`, 'utf8'))).toEqual(opts);
    expect(await store.head('logs/api/web-1/2024/03/05/07/a.gz')).toEqual({
      key: 'logs/api/web-1/2024/03/05/07/a.gz',
      ...opts,
    });
    // No temp files stay behind.
    expect(readdirSync(path.dirname(stored)).sort()).toEqual(['a.gz', 'a.gz.meta.json']);
  });

  it('reports progress, ending with the full size', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 5, 7);
    const { file, opts } = source('big', big);
    const seen: number[] = [];
    await store.put('big.gz', file, { ...opts, onProgress: (n) => seen.push(n) });
    expect(seen.at(-1)).toBe(big.length);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
  });

  it('re-puts the same key idempotently and replaces different bytes', async () => {
    const a = source('a', 'one');
    await store.put('k.gz', a.file, a.opts);
    await store.put('k.gz', a.file, a.opts);
    expect(await store.head('k.gz')).toEqual({ key: 'k.gz', ...a.opts });
    const b = source('b', 'two, longer');
    await store.put('k.gz', b.file, b.opts);
    expect(await store.head('k.gz')).toEqual({ key: 'k.gz', ...b.opts });
    expect(await readFile(path.join(archive, 'k.gz'), 'utf8')).toBe('two, longer');
  });

  it('refuses bytes that do not match the size and sha256 given, keeping the old object', async () => {
    const a = source('a', 'one');
    await store.put('k.gz', a.file, a.opts);
    const b = source('b', 'two');
    const err = await store
      .put('k.gz', b.file, { ...b.opts, sha256: sha256('three') })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OverseerError);
    expect(err).toMatchObject({ code: ErrorCodes.LOG_ARCHIVE_WRITE_FAILED });
    expect((err as OverseerError).details[0]).toContain('sha256');
    expect(await store.head('k.gz')).toEqual({ key: 'k.gz', ...a.opts });
    expect(readdirSync(archive).sort()).toEqual(['k.gz', 'k.gz.meta.json']);
  });

  it('fails with a code when the source file is missing', async () => {
    expect(await codeOf(store.put('k.gz', path.join(tmp, 'nope'), { sha256: sha256(''), size: 0 }))).toBe(
      ErrorCodes.LOG_ARCHIVE_WRITE_FAILED,
    );
  });

  it('rejects with the abort reason when aborted', async () => {
    const { file, opts } = source('a', 'x');
    const ac = new AbortController();
    ac.abort(new Error('shutting down'));
    await expect(store.put('k.gz', file, { ...opts, signal: ac.signal })).rejects.toThrow('shutting down');
    expect(await store.head('k.gz')).toBeUndefined();
  });

  it('heads a missing key, a folder and a key below a file as undefined', async () => {
    const { file, opts } = source('a', 'x');
    await store.put('a/b.gz', file, opts);
    expect(await store.head('missing.gz')).toBeUndefined();
    expect(await store.head('a')).toBeUndefined();
    expect(await store.head('a/b.gz/c')).toBeUndefined();
  });

  it.each([
    ['missing', undefined],
    ['not JSON', '{'],
    ['for another size', JSON.stringify({ sha256: 'ab', size: 99 })],
  ])('heads an object whose sidecar is %s with no sha256', async (_name, sidecar) => {
    await mkdir(path.join(archive, 'x'), { recursive: true });
    await writeFile(path.join(archive, 'x/o.gz'), 'data');
    if (sidecar !== undefined) await writeFile(path.join(archive, 'x/o.gz.meta.json'), sidecar);
    expect(await store.head('x/o.gz')).toEqual({ key: 'x/o.gz', size: 4, sha256: undefined });
  });

  it('lists keys under a prefix in S3 order, skipping sidecars and temp files', async () => {
    const { file, opts } = source('a', 'x');
    for (const key of ['a/b/2.gz', 'a/b/1.gz', 'a/b.gz', 'a/c/d/e.gz', 'ab/1.gz', 'z.gz']) {
      await store.put(key, file, opts);
    }
    await writeFile(path.join(archive, 'a/b/.tmp-0123-3.gz'), 'partial');
    const keys = async (prefix: string) => (await all(store.list(prefix))).map((o) => o.key);
    expect(await keys('')).toEqual(['a/b.gz', 'a/b/1.gz', 'a/b/2.gz', 'a/c/d/e.gz', 'ab/1.gz', 'z.gz']);
    expect(await keys('a/')).toEqual(['a/b.gz', 'a/b/1.gz', 'a/b/2.gz', 'a/c/d/e.gz']);
    expect(await keys('a/b')).toEqual(['a/b.gz', 'a/b/1.gz', 'a/b/2.gz']);
    expect(await keys('a')).toEqual(['a/b.gz', 'a/b/1.gz', 'a/b/2.gz', 'a/c/d/e.gz', 'ab/1.gz']);
    expect(await keys('a/c/d/e.gz')).toEqual(['a/c/d/e.gz']);
    expect(await keys('nothing/')).toEqual([]);
    expect(await keys('../')).toEqual([]);
    expect(await all(store.list('z'))).toEqual([{ key: 'z.gz', ...opts }]);
  });

  it('lists nothing before the folder exists', async () => {
    expect(await all(store.list(''))).toEqual([]);
  });

  it('deletes the object and its sidecar, prunes empty folders, and ignores a missing key', async () => {
    const { file, opts } = source('a', 'x');
    await store.put('a/b/c/1.gz', file, opts);
    await store.put('a/2.gz', file, opts);
    await store.delete('a/b/c/1.gz');
    expect(await store.head('a/b/c/1.gz')).toBeUndefined();
    expect(readdirSync(path.join(archive, 'a')).sort()).toEqual(['2.gz', '2.gz.meta.json']);
    await store.delete('a/b/c/1.gz');
    await store.delete('a/2.gz');
    expect(readdirSync(archive)).toEqual([]);
    // A put after the prune makes the folders again.
    await store.put('a/b/c/1.gz', file, opts);
    expect(await store.head('a/b/c/1.gz')).toEqual({ key: 'a/b/c/1.gz', ...opts });
  });

  it.each([
    ['../escape.gz', ErrorCodes.LOG_KEY_UNSAFE],
    ['/abs.gz', ErrorCodes.LOG_KEY_UNSAFE],
    ['a/./b.gz', ErrorCodes.LOG_KEY_UNSAFE],
    ['a/b.gz.meta.json', ErrorCodes.LOG_ARCHIVE_KEY_RESERVED],
    ['a/.tmp-x', ErrorCodes.LOG_ARCHIVE_KEY_RESERVED],
  ])('rejects the key %j in every operation', async (key, code) => {
    const { file, opts } = source('a', 'x');
    expect(await codeOf(store.put(key, file, opts))).toBe(code);
    expect(await codeOf(store.head(key))).toBe(code);
    expect(await codeOf(store.delete(key))).toBe(code);
    expect(readdirSync(tmp)).toEqual(['a']);
  });

  it('fails head, list and delete with their codes on I/O errors', async () => {
    // A folder where the sidecar should be: EISDIR even for root.
    await mkdir(path.join(archive, 'x/o.gz.meta.json'), { recursive: true });
    await writeFile(path.join(archive, 'x/o.gz'), 'data');
    expect(await codeOf(store.head('x/o.gz'))).toBe(ErrorCodes.LOG_ARCHIVE_READ_FAILED);
    expect(await codeOf(all(store.list('x/')))).toBe(ErrorCodes.LOG_ARCHIVE_LIST_FAILED);
    expect(await codeOf(store.delete('x/o.gz'))).toBe(ErrorCodes.LOG_ARCHIVE_DELETE_FAILED);
  });

  it('fails with a code when the archive cannot be written', async () => {
    writeFileSync(archive, 'a file where the folder should be');
    const { file, opts } = source('a', 'x');
    expect(await codeOf(store.put('k.gz', file, opts))).toBe(ErrorCodes.LOG_ARCHIVE_WRITE_FAILED);
  });
});
