import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';

/** A file a child writes its stdout/stderr to (no pipe, so the child never blocks on the bench). */
export function openLog(file: string): number {
  return openSync(file, 'a');
}

export function closeLog(fd: number): void {
  closeSync(fd);
}

export function logTail(file: string, lines = 15): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}
