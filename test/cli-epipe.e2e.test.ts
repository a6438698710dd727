import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bin, repoRoot } from './helpers/cli-process.js';

describe('overseer … | head', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'overseer-epipe-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // Far more than a pipe holds (64 KiB): the command is still writing when the reader goes away.
  const body = path.join(dir, 'big.prom');
  writeFileSync(
    body,
    ['# TYPE m gauge', ...Array.from({ length: 20_000 }, (_, i) => `m{instance="host-${i}"} ${i}`), ''].join(
      '\n',
    ),
  );

  it('stops printing when the reader goes away: no EPIPE stack trace, the exit code of the command', async () => {
    const child = spawn(process.execPath, [bin, 'metrics', 'parse', body, '--json'], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', HOME: '/tmp' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // Like `head -1`: read the first chunk, then close the pipe.
    const first = await new Promise<string>((resolve) =>
      child.stdout.once('data', (c: Buffer) => resolve(c.toString())),
    );
    child.stdout.destroy();
    expect(first).toMatch(/^[[{]/);
    expect(await exited).toBe(0);
    expect(err).not.toMatch(/EPIPE|Error|at /);
  });
});
