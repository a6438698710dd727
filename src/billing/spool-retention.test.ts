import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pruneDone } from './spool-retention.js';

describe('pruneDone', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'spool-retention-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const spool = async (name: string, files: Record<string, number | undefined>): Promise<string> => {
    const dir = path.join(root, name);
    await mkdir(path.join(dir, 'done'), { recursive: true });
    await mkdir(path.join(dir, 'rejected'), { recursive: true });
    await writeFile(path.join(dir, 'rejected', 'x.rejected.ndjson'), 'bad\n');
    await writeFile(path.join(dir, 'waiting.ndjson'), '{}\n');
    for (const [f, mtime] of Object.entries(files)) {
      await writeFile(path.join(dir, 'done', f), '{}\n');
      if (mtime !== undefined) await utimes(path.join(dir, 'done', f), mtime / 1000, mtime / 1000);
    }
    return dir;
  };

  it('deletes done/ files moved before the cutoff, in every spool, and nothing else', async () => {
    const a = await spool('a', { 'one.ndjson': Date.now() - 86_400_000, 'two.ndjson': undefined });
    const b = await spool('b', { 'three.ndjson': undefined });
    expect(await pruneDone([a, b, path.join(root, 'missing')], Date.now() + 60_000)).toBe(3);
    for (const dir of [a, b]) {
      expect(await readdir(path.join(dir, 'done'))).toEqual([]);
      expect(await readdir(path.join(dir, 'rejected'))).toEqual(['x.rejected.ndjson']);
      expect(await readdir(dir)).toContain('waiting.ndjson');
    }
  });

  it('keeps a file moved after the cutoff, even when its writer dated it long ago (the move time counts)', async () => {
    const a = await spool('a', {
      'old-by-writer.ndjson': Date.UTC(2020, 0, 1),
      'future.ndjson': Date.now() + 3_600_000,
    });
    expect(await pruneDone([a], Date.now() - 60_000)).toBe(0);
    expect((await readdir(path.join(a, 'done'))).sort()).toEqual(['future.ndjson', 'old-by-writer.ndjson']);
  });
});
