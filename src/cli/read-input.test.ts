import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readInput } from './read-input.js';

describe('readInput', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'overseer-read-input-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, bytes: number): string => {
    const f = path.join(dir, name);
    writeFileSync(f, 'x'.repeat(bytes));
    return f;
  };

  it.each([
    ['a file at the bound', () => file('ten', 10), 10],
    ['stdin at the bound', () => '-', 10],
  ])('%s: read whole', async (_, name, bytes) => {
    const got = await readInput(name(), 10, () => Promise.resolve(Buffer.alloc(bytes)));
    expect(got.length).toBe(bytes);
  });

  it.each([
    ['a file over the bound', () => file('eleven', 11)],
    ['stdin over the bound', () => '-'],
  ])('%s: refused, saying so', async (_, name) => {
    await expect(readInput(name(), 10, () => Promise.resolve(Buffer.alloc(11)))).rejects.toThrow(
      'more than 10 bytes',
    );
  });

  it('a file that is not there: the system error', async () => {
    await expect(readInput(path.join(dir, 'none'), 10, undefined)).rejects.toThrow(/ENOENT/);
  });
});
