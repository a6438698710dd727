import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

export const repoRoot = path.resolve(import.meta.dirname, '../..');
export const bin = path.join(repoRoot, 'bin/overseer.js');

export interface Spawned {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts the built `overseer` binary as its own process with exactly `env` (plus PATH/HOME). */
export function spawnOverseer(args: string[], env: Record<string, string>, cwd = repoRoot): Spawned {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Runs the CLI to completion. */
export async function runOverseer(args: string[], env: Record<string, string>, cwd = repoRoot) {
  const s = spawnOverseer(args, env, cwd);
  const code = await s.exited;
  return { code, stdout: s.stdout(), stderr: s.stderr() };
}
