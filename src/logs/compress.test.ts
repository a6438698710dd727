import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PassThrough } from 'node:stream';
import type * as Zlib from 'node:zlib';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ErrorCodes } from '../errors/index.js';
import { gzipFile, isLeftover, removeLeftovers, verifyGzip } from './compress.js';

// Lets one test make "decompression" return the wrong bytes, as a bad disk or zlib bug would.
const zlibFault = vi.hoisted(() => ({ on: false }));
vi.mock('node:zlib', async (importOriginal) => {
  const zlib = await importOriginal<typeof Zlib>();
  return { ...zlib, createGunzip: () => (zlibFault.on ? new PassThrough() : zlib.createGunzip()) };
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Log-like lines: repetitive enough to compress, varied enough to catch a wrong byte. */
function logLines(bytes: number): Buffer {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const line = `{"level":30,"time":${1732500000000 + i},"msg":"request done","req":"${randomBytes(6).toString('hex')}","n":${i}}\n`;
    lines.push(line);
    size += line.length;
  }
  return Buffer.from(lines.join(''));
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'overseer-gzip-'));
});
afterEach(async () => {
  zlibFault.on = false;
  await rm(dir, { recursive: true, force: true });
});

describe('gzipFile', () => {
  it('round-trips a multi-MB file and reports both digests', async () => {
    const data = logLines(8 * 1024 * 1024);
    const src = join(dir, 'app.log');
    const dest = join(dir, 'app.log.gz');
    await writeFile(src, data);

    const r = await gzipFile(src, dest);

    const gz = await readFile(dest);
    expect(gunzipSync(gz).equals(data)).toBe(true);
    expect(r).toEqual({
      size: gz.length,
      sha256: sha(gz),
      sourceBytes: data.length,
      sourceSha256: sha(data),
    });
    expect(r.size).toBeLessThan(data.length / 2);
    expect(await readdir(dir)).toEqual(['app.log', 'app.log.gz']);
    await expect(verifyGzip(dest, r)).resolves.toEqual({ size: r.size, sha256: r.sha256 });
  });

  it('handles an empty file', async () => {
    const src = join(dir, 'empty.log');
    await writeFile(src, '');
    const r = await gzipFile(src, join(dir, 'empty.log.gz'), { level: 9 });
    expect(r.sourceBytes).toBe(0);
    expect(r.sourceSha256).toBe(sha(Buffer.alloc(0)));
    expect(gunzipSync(await readFile(join(dir, 'empty.log.gz'))).length).toBe(0);
  });

  it.each([
    ['a missing source', (d: string) => join(d, 'nope.log'), (d: string) => join(d, 'x.gz')],
    [
      'a missing destination directory',
      (d: string) => join(d, 'a.log'),
      (d: string) => join(d, 'no', 'x.gz'),
    ],
  ])('fails with LOG_GZIP_FAILED on %s and leaves nothing behind', async (_name, src, dest) => {
    await writeFile(join(dir, 'a.log'), 'line\n');
    await expect(gzipFile(src(dir), dest(dir))).rejects.toMatchObject({ code: ErrorCodes.LOG_GZIP_FAILED });
    expect(await readdir(dir)).toEqual(['a.log']);
  });

  it('deletes its output when the output does not decompress to the source', async () => {
    const src = join(dir, 'a.log');
    await writeFile(src, logLines(100_000));
    zlibFault.on = true;
    await expect(gzipFile(src, join(dir, 'a.log.gz'))).rejects.toMatchObject({
      code: ErrorCodes.LOG_GZIP_VERIFY_FAILED,
    });
    expect(await readdir(dir)).toEqual(['a.log']);
  });
});

describe('verifyGzip', () => {
  const damage: Array<
    [string, (gz: string, size: number) => Promise<void>, Partial<{ sourceSha256: string }>]
  > = [
    [
      'a byte flipped in the middle',
      async (gz) => {
        const b = await readFile(gz);
        b.writeUInt8(b.readUInt8(b.length >> 1) ^ 0xff, b.length >> 1);
        await writeFile(gz, b);
      },
      {},
    ],
    ['truncation to half', (gz, size) => truncate(gz, size >> 1), {}],
    ['a missing trailer', (gz, size) => truncate(gz, size - 4), {}],
    ['garbage appended', (gz) => writeFile(gz, 'junk', { flag: 'a' }), {}],
    ['a deleted file', (gz) => rm(gz), {}],
    ['another source', async () => {}, { sourceSha256: sha(Buffer.from('other')) }],
  ];

  it.each(damage)('detects %s', async (_name, spoil, override) => {
    const src = join(dir, 'a.log');
    const gz = join(dir, 'a.log.gz');
    await writeFile(src, logLines(1024 * 1024));
    const r = await gzipFile(src, gz);
    await spoil(gz, r.size);
    const err = await verifyGzip(gz, { ...r, ...override }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCodes.LOG_GZIP_VERIFY_FAILED });
  });
});

describe('leftovers', () => {
  it.each([
    ['app.log.gz.tmp', true],
    ['app.log.gz', false],
    ['app.log', false],
    ['journal.ndjson.compact.tmp', false],
  ])('isLeftover(%s) is %s', (name, want) => {
    expect(isLeftover(name)).toBe(want);
  });

  it('a gzip killed mid-way leaves only a .gz.tmp, which removeLeftovers removes', async () => {
    const src = join(dir, 'big.log');
    const dest = join(dir, 'big.log.gz');
    await writeFile(src, randomBytes(24 * 1024 * 1024).toString('base64'));
    await writeFile(join(dir, 'done.log.gz'), 'finished');
    const script = join(dir, 'child.mjs');
    const lib = new URL('./compress.ts', import.meta.url).href;
    await writeFile(
      script,
      `import { gzipFile } from ${JSON.stringify(lib)};\n` +
        `await gzipFile(process.argv[2], process.argv[3], { level: 9 });\nconsole.log('done');\n`,
    );
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script, src, dest], {
      cwd: root,
      stdio: 'pipe',
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_c, sig) => resolve(sig)),
    );
    // SIGKILL once the temp file has data: the worst moment, half a .gz on disk.
    while (!existsSync(dest + '.tmp') || (await stat(dest + '.tmp').catch(() => ({ size: 0 }))).size === 0) {
      await new Promise((r) => setTimeout(r, 2));
    }
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    expect(existsSync(dest)).toBe(false);
    expect(await removeLeftovers(dir)).toEqual(['big.log.gz.tmp']);
    expect((await readdir(dir)).sort()).toEqual(['big.log', 'child.mjs', 'done.log.gz']);
    await expect(gzipFile(src, dest, { level: 1 })).resolves.toMatchObject({
      sourceBytes: (await stat(src)).size,
    });
  });
});
