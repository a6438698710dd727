import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import { ShipLock, shipLockPath } from './ship-lock.js';

const clock = new ManualClock(Date.parse('2026-11-25T07:00:00Z'));
let dir: string;
let file: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'overseer-ship-lock-'));
  file = shipLockPath(dir);
  mkdirSync(join(dir, 'logs'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const lockOf = (owner = 'overseer serve') => new ShipLock(file, owner, clock);
const content = () => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
const procStart = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
};
const bootId = () => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
/** The pid of a process that has exited. */
const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid;

describe('ShipLock', () => {
  it('is taken once: a second holder learns who has it, and gets it after the release', async () => {
    const a = lockOf('overseer serve');
    const b = lockOf('overseer logs ship');
    expect(await a.acquire()).toBeUndefined();
    expect(await a.acquire()).toBeUndefined(); // already ours
    expect(content()).toMatchObject({
      pid: process.pid,
      owner: 'overseer serve',
      since: '2026-11-25T07:00:00.000Z',
    });
    expect(await b.acquire()).toEqual({
      pid: process.pid,
      owner: 'overseer serve',
      since: '2026-11-25T07:00:00.000Z',
    });
    await b.release(); // not b's: nothing happens
    expect(existsSync(file)).toBe(true);
    await a.release();
    await a.release();
    expect(existsSync(file)).toBe(false);
    expect(await b.acquire()).toBeUndefined();
    expect(content()).toMatchObject({ owner: 'overseer logs ship' });
  });

  it('is held by a live process elsewhere', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      const pid = child.pid!;
      // The child's start may not be readable until it runs; the pid alone then decides.
      const start = existsSync(`/proc/${pid}/stat`) ? procStart(pid) : null;
      writeFileSync(
        file,
        JSON.stringify({ pid, owner: 'overseer serve', since: 'then', token: 't', start, boot: bootId() }),
      );
      expect(await lockOf().acquire()).toEqual({ pid, owner: 'overseer serve', since: 'then' });
    } finally {
      child.kill('SIGKILL');
    }
  });

  it.each<[string, () => Record<string, unknown> | string]>([
    [
      'its pid is gone (a SIGKILLed holder)',
      () => ({ pid: deadPid(), owner: 'x', since: 's', token: 't', start: null, boot: null }),
    ],
    // A container restarted with the same volume: the new process is pid 1 again, like the old holder.
    [
      'its pid is ours now but started at another time',
      () => ({ pid: process.pid, owner: 'x', since: 's', token: 't', start: '1', boot: bootId() }),
    ],
    [
      'it was taken before the last boot',
      () => ({
        pid: process.pid,
        owner: 'x',
        since: 's',
        token: 't',
        start: procStart(process.pid),
        boot: 'another-boot',
      }),
    ],
    ['it is junk (a full disk, a hand edit)', () => 'not json at all'],
    ['it names no pid', () => ({ owner: 'x' })],
  ])('is taken over when %s', async (_name, stale) => {
    const c = stale();
    writeFileSync(file, typeof c === 'string' ? c : JSON.stringify(c));
    const lock = lockOf('overseer logs ship');
    expect(await lock.acquire()).toBeUndefined();
    expect(content()).toMatchObject({ pid: process.pid, owner: 'overseer logs ship' });
    await lock.release();
    expect(existsSync(file)).toBe(false);
  });

  it('leaves no temp files behind, and never removes a lock someone else took meanwhile', async () => {
    const lock = lockOf();
    expect(await lock.acquire()).toBeUndefined();
    writeFileSync(
      file,
      JSON.stringify({ pid: process.pid, owner: 'someone else', since: 's', token: 'other' }),
    );
    await lock.release();
    expect(content()).toMatchObject({ owner: 'someone else' });
    expect(spawnSync('ls', [join(dir, 'logs')], { encoding: 'utf8' }).stdout.trim()).toBe('ship.lock');
  });
});
