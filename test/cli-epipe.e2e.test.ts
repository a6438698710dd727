import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bin, repoRoot } from './helpers/cli-process.js';

describe('overseer … | head', () => {
  it('stops printing when the reader goes away: no EPIPE stack trace, the exit code of the command', async () => {
    const child = spawn(
      process.execPath,
      [bin, 'capacity', 'simulate', path.join(repoRoot, 'test/fixtures/capacity/drain.json'), '--json'],
      {
        cwd: repoRoot,
        env: { PATH: process.env.PATH ?? '', HOME: '/tmp' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // Like `head -1`: read the first chunk, then close the pipe.
    const first = await new Promise<string>((resolve) =>
      child.stdout.once('data', (c: Buffer) => resolve(c.toString())),
    );
    child.stdout.destroy();
    expect(first).toMatch(/^\{"tick":0,/);
    expect(await exited).toBe(0);
    expect(err).not.toMatch(/EPIPE|Error|at /);
  });
});
