import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../test/helpers/poll.js';
import { createTestDatabase, type TestDatabase } from '../../test/helpers/test-db.js';
import { openDatabase, pgPoolOf, type OpenedDatabase } from '../db/open.js';
import { processIdentity } from '../lock-file.js';
import {
  AdvisoryLock,
  FileLock,
  Leader,
  LEADER_LOCK_FILE,
  LEADER_LOCK_KEY,
  leaderLockFor,
  type LeaderLock,
} from './leader.js';

const logger = pino({ level: 'silent' });
const EVERY_SECOND = '* * * * * *';

/** Exactly one of them leads, and says so. */
async function oneLeader(leaders: readonly Leader[]): Promise<Leader> {
  return waitFor('exactly one leader', () => {
    const leading = leaders.filter((l) => l.isLeader());
    return leading.length === 1 ? leading[0] : undefined;
  });
}

const started: Leader[] = [];
async function startLeader(lock: LeaderLock, changes?: boolean[]): Promise<Leader> {
  const l = new Leader({
    lock,
    logger,
    role: 'test jobs',
    checkSchedule: EVERY_SECOND,
    ...(changes ? { onChange: (v: boolean) => changes.push(v) } : {}),
  });
  started.push(l);
  await l.start();
  return l;
}
afterEach(async () => {
  for (const l of started.splice(0)) await l.stop();
});

describe('Leader on real Postgres (session advisory lock)', () => {
  let testDb: TestDatabase;
  const opened: OpenedDatabase[] = [];
  beforeAll(async () => {
    testDb = await createTestDatabase();
    for (let i = 0; i < 3; i++)
      opened.push(await openDatabase({ url: testDb.url, dataDir: '/nonexistent', logger }));
  });
  afterAll(async () => {
    for (const o of opened) await o.close();
    await testDb?.drop();
  });
  const lockOn = (o: OpenedDatabase): AdvisoryLock => new AdvisoryLock(() => pgPoolOf(o.db));
  const holders = async (): Promise<number[]> =>
    (
      await sql<{ pid: number }>`
        select pid from pg_locks where locktype = 'advisory' and granted
          and classid::bigint = ${String(LEADER_LOCK_KEY >> 32n)}::bigint
          and objid::bigint = ${String(LEADER_LOCK_KEY & 0xffffffffn)}::bigint`.execute(opened[2]!.db)
    ).rows.map((r) => r.pid);

  it('two instances: exactly one leads; stopping it lets the other take over', async () => {
    const a = await startLeader(lockOn(opened[0]!));
    const b = await startLeader(lockOn(opened[1]!));
    const first = await oneLeader([a, b]);
    expect(first).toBe(a); // a tried first, at start()
    expect(await holders()).toHaveLength(1);
    await a.stop();
    expect(a.isLeader()).toBe(false);
    await waitFor('b to take over', () => (b.isLeader() ? true : undefined), { timeoutMs: 10_000 });
    expect(await holders()).toHaveLength(1);
  });

  it('each role has its own key: both lead at once, and each lock names its key', async () => {
    const billing = leaderLockFor({ dbKind: 'postgres', db: opened[0]!.db, dataDir: '/nonexistent' });
    const other = leaderLockFor(
      { dbKind: 'postgres', db: opened[1]!.db, dataDir: '/nonexistent' },
      { key: 42n, file: 'other.lock' },
    );
    try {
      expect(await billing.tryAcquire(() => undefined)).toBe(true);
      expect(await other.tryAcquire(() => undefined)).toBe(true);
      expect(billing.describe).toBe(`pg_advisory_lock(${LEADER_LOCK_KEY})`);
      expect(other.describe).toBe('pg_advisory_lock(42)');
    } finally {
      await billing.release();
      await other.release();
    }
  });

  it('a broken leader connection ends the lead at once; the lock is taken again afterwards', async () => {
    const changes: boolean[] = [];
    const a = await startLeader(lockOn(opened[0]!), changes);
    const b = await startLeader(lockOn(opened[1]!));
    expect(a.isLeader()).toBe(true);
    const [pid] = await holders();
    await sql`select pg_terminate_backend(${pid}::int)`.execute(opened[2]!.db);
    await waitFor('a to notice', () => (a.isLeader() ? undefined : true), { timeoutMs: 5_000 });
    expect(changes).toEqual([true, false]);
    // Whoever tries first after the session died leads; never both.
    const next = await oneLeader([a, b]);
    expect([a, b]).toContain(next);
    expect(await holders()).toHaveLength(1);
    expect((await holders())[0]).not.toBe(pid);
  });
});

describe('Leader on the embedded database (lock file)', () => {
  const dirs: string[] = [];
  const dataDir = (): string => {
    const d = mkdtempSync(path.join(tmpdir(), 'overseer-leader-'));
    dirs.push(d);
    return d;
  };
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('two instances in one process: exactly one leads; stopping it lets the other take over', async () => {
    const file = path.join(dataDir(), LEADER_LOCK_FILE);
    const a = await startLeader(new FileLock(file));
    const b = await startLeader(new FileLock(file));
    expect(await oneLeader([a, b])).toBe(a);
    expect(readFileSync(file, 'utf8').split('\n')[0]).toBe(String(process.pid));
    await a.stop();
    await waitFor('b to take over', () => (b.isLeader() ? true : undefined), { timeoutMs: 10_000 });
    await b.stop();
    expect(() => readFileSync(file)).toThrow(/ENOENT/);
  });

  it('takes over a stale lock whose process is gone', async () => {
    const file = path.join(dataDir(), LEADER_LOCK_FILE);
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(file, `${dead}\nold-token\n`);
    const lock = new FileLock(file);
    expect(await lock.holder()).toBeUndefined();
    const a = await startLeader(lock);
    expect(a.isLeader()).toBe(true);
    expect(await lock.holder()).toBe(process.pid);
  });

  // Only where start times are known (Linux /proc); elsewhere the pid alone decides.
  it.skipIf(processIdentity(process.ppid).start === null)(
    'takes over a lock whose pid is alive but is another process than the one that wrote it (pid reuse)',
    async () => {
      const file = path.join(dataDir(), LEADER_LOCK_FILE);
      const parent = processIdentity(process.ppid);
      writeFileSync(file, `${process.ppid}\nold-token\n${Number(parent.start) + 1}\n${parent.boot ?? ''}\n`);
      const lock = new FileLock(file);
      expect(await lock.holder()).toBeUndefined();
      const a = await startLeader(lock);
      expect(a.isLeader()).toBe(true);
      // The same parent with its true start time holds a lock.
      const other = path.join(dataDir(), LEADER_LOCK_FILE);
      writeFileSync(other, `${process.ppid}\nparent\n${parent.start}\n${parent.boot ?? ''}\n`);
      expect(await new FileLock(other).holder()).toBe(process.ppid);
    },
  );

  it('does not take over a lock of a live process, and loses the lead when its file is taken away', async () => {
    const file = path.join(dataDir(), LEADER_LOCK_FILE);
    writeFileSync(file, `${process.ppid}\nparent\n`);
    const a = await startLeader(new FileLock(file));
    expect(a.isLeader()).toBe(false);
    unlinkSync(file);
    await waitFor('a to lead', () => (a.isLeader() ? true : undefined), { timeoutMs: 5_000 });
    writeFileSync(file, `${process.ppid}\nsomeone else\n`);
    await waitFor('a to notice', () => (a.isLeader() ? undefined : true), { timeoutMs: 5_000 });
    // Stopping must not remove a lock that is not its own.
    await a.stop();
    expect(readFileSync(file, 'utf8')).toBe(`${process.ppid}\nsomeone else\n`);
  });
});
