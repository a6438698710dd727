import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { progress } from './progress.js';

// Everything the bench starts or creates is registered here, so errors, Ctrl-C and a normal end all
// stop the same set: no Prometheus or target server outlives the bench.
const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();
const hooks = new Set<() => Promise<void>>();

/** Anything else to stop at the end, on errors and on Ctrl-C (e.g. a Postgres started with pg_ctl). */
export function onCleanup(stop: () => Promise<void>): void {
  hooks.add(stop);
}

export function track<T extends ChildProcess>(child: T): T {
  children.add(child);
  child.once('exit', () => children.delete(child));
  child.once('error', () => children.delete(child));
  return child;
}

function running(child: ChildProcess): boolean {
  return child.pid !== undefined && child.exitCode === null && child.signalCode === null;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. Safe to call twice. */
export async function stopProcess(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (!running(child)) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

export async function cleanupAll(): Promise<void> {
  await Promise.all([...children].map((c) => stopProcess(c)));
  await Promise.all([...hooks].map((h) => h().catch(() => undefined)));
  hooks.clear();
  for (const dir of [...tempDirs]) removeTempDir(dir);
}

/** Ctrl-C / SIGTERM stop every child and delete temp dirs; a second Ctrl-C kills at once. */
export function installCleanupHandlers(): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    const code = signal === 'SIGINT' ? 130 : 143;
    if (stopping) process.exit(code);
    stopping = true;
    progress(`${signal}: stopping ${children.size} process(es), removing temp dirs…`);
    void cleanupAll().finally(() => process.exit(code));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Last resort when the bench dies some other way: synchronous, so only SIGKILL and rm.
  process.on('exit', () => {
    for (const child of children) if (running(child)) child.kill('SIGKILL');
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });
}
