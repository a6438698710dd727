import { randomUUID } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import * as path from 'node:path';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import { pgPoolOf } from '../db/open.js';
import {
  createExclusive,
  identityAlive,
  ignoreMissing,
  processIdentity,
  readOrUndefined,
  type ProcessIdentity,
} from '../lock-file.js';
import type { Database } from '../db/schema.js';

/** One way to hold leadership: a Postgres session lock, or a lock file next to the embedded database. */
export interface LeaderLock {
  /** For logs. */
  readonly describe: string;
  /** One attempt; true when this instance holds the lock now. `onLost` hears of a loss noticed later. */
  tryAcquire(onLost: (reason: string) => void): Promise<boolean>;
  /** While held: false (or a throw) once it is not ours any more. */
  stillHeld(): Promise<boolean>;
  /** Gives the lock up if held; safe to call at any time, twice, or after a loss. */
  release(): Promise<void>;
}

/** Any constant, distinct from the partition DDL lock (7_302_110_001). */
export const LEADER_LOCK_KEY = 7_302_110_002n;
export const LEADER_LOCK_FILE = 'billing.leader.lock';
const QUERY_TIMEOUT_MS = 5_000;

/**
 * Real Postgres: a session-level advisory lock held on one pooled connection for as long as this process
 * leads. The server frees it when that session ends: at once for a leader that crashed or was stopped, and
 * for one cut off by the network once the server notices its connection is dead. It uses the pg client
 * itself, not a Kysely connection: an error on a checked-out pg client is emitted on the client, and with
 * no listener of ours it would crash the process instead of ending a lead.
 */
export class AdvisoryLock implements LeaderLock {
  readonly describe: string;
  private held: pg.PoolClient | undefined;

  constructor(
    private readonly pool: () => pg.Pool | undefined,
    private readonly key: bigint = LEADER_LOCK_KEY,
  ) {
    this.describe = `pg_advisory_lock(${key})`;
  }

  async tryAcquire(onLost: (reason: string) => void): Promise<boolean> {
    const pool = this.pool();
    if (pool === undefined) throw new Error('no pg pool behind this database (not opened by openDatabase)');
    const client = await pool.connect();
    const onError = (err: Error): void => {
      if (this.held === client) onLost(`leader connection failed: ${err.message}`);
    };
    client.on('error', onError);
    let ok: boolean;
    try {
      const r = await client.query<{ ok: boolean }>(
        q('select pg_try_advisory_lock($1::bigint) as ok', [String(this.key)]),
      );
      ok = r.rows[0]?.ok === true;
    } catch (e) {
      client.release(e as Error);
      throw e;
    }
    if (!ok) {
      // Not ours: the connection goes back to the pool holding nothing.
      client.removeListener('error', onError);
      client.release();
      return false;
    }
    this.held = client;
    return true;
  }

  async stillHeld(): Promise<boolean> {
    const client = this.held;
    if (client === undefined) return false;
    // Asks the server, on the lock's own session, whether the session still holds it: a reply proves both.
    const r = await client.query<{ n: string }>(
      q(
        `select count(*) as n from pg_locks where locktype = 'advisory' and granted
           and pid = pg_backend_pid() and classid::bigint = $1::bigint and objid::bigint = $2::bigint
           and objsubid = 1`,
        [String(this.key >> 32n), String(this.key & 0xffffffffn)],
      ),
    );
    return Number(r.rows[0]?.n) > 0;
  }

  release(): Promise<void> {
    const client = this.held;
    this.held = undefined;
    // Destroyed, not returned to the pool: closing the session is what frees the lock, even one whose
    // unlock would fail, and no pooled session can keep it by accident.
    client?.release(true);
    return Promise.resolve();
  }
}

// pg reads `query_timeout` per query; its types only know it on the client config.
const q = (text: string, values: string[]): pg.QueryConfig =>
  ({ text, values, query_timeout: QUERY_TIMEOUT_MS }) as pg.QueryConfig;

/**
 * PGlite: only one process can use the embedded database, and this file says which one runs its billing
 * jobs (the CLI checks it before opening the database offline). It holds `<pid>\n<token>\n<start>\n<boot>\n`
 * (see ProcessIdentity: a pid reused after a restart, pid 1 in a container, is not the holder); a file
 * whose holder is not alive is stale and taken over. The token tells two holders in one process apart.
 */
export class FileLock implements LeaderLock {
  readonly describe: string;
  private held: string | undefined;

  constructor(
    readonly file: string,
    private readonly pid: number = process.pid,
  ) {
    this.describe = `lock file ${file}`;
  }

  async tryAcquire(): Promise<boolean> {
    const me = processIdentity(this.pid);
    const content = `${me.pid}\n${randomUUID()}\n${me.start ?? ''}\n${me.boot ?? ''}\n`;
    if (await this.create(content)) return this.hold(content);
    const existing = await readOrUndefined(this.file);
    if (existing === undefined || holderAlive(existing)) return false;
    // Stale. Removed only while it is still the same stale file: a racing process may have just taken
    // it over (a small window remains between this read and the unlink; both then re-create with link).
    if ((await readOrUndefined(this.file)) !== existing) return false;
    await unlink(this.file).catch(ignoreMissing);
    return (await this.create(content)) ? this.hold(content) : false;
  }

  async stillHeld(): Promise<boolean> {
    return this.held !== undefined && (await readOrUndefined(this.file)) === this.held;
  }

  async release(): Promise<void> {
    const mine = this.held;
    this.held = undefined;
    if (mine !== undefined && (await readOrUndefined(this.file)) === mine)
      await unlink(this.file).catch(ignoreMissing);
  }

  /** The pid of a live process holding the lock, if any (this process included). */
  async holder(): Promise<number | undefined> {
    const content = await readOrUndefined(this.file);
    return content !== undefined && holderAlive(content) ? identityOf(content)?.pid : undefined;
  }

  private hold(content: string): boolean {
    this.held = content;
    return true;
  }

  /** Exclusive, and never seen half-written (see createExclusive). */
  private async create(content: string): Promise<boolean> {
    return createExclusive(this.file, content);
  }
}

/** The holder a lock file names; lines 3 and 4 are absent in files of older versions. */
function identityOf(content: string): ProcessIdentity | undefined {
  const [pidText, , start, boot] = content.split('\n');
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  return { pid, start: start || null, boot: boot || null };
}

function holderAlive(content: string): boolean {
  const id = identityOf(content);
  return id !== undefined && identityAlive(id);
}

/**
 * The lock that fits the database: an advisory lock on real Postgres, a file next to PGlite. Each role
 * that leads on its own (billing jobs, the capacity loop) names its own key and file; billing's by default.
 */
export function leaderLockFor(
  opts: { dbKind: 'postgres' | 'pglite'; db: Kysely<Database>; dataDir: string },
  which: { key: bigint; file: string } = { key: LEADER_LOCK_KEY, file: LEADER_LOCK_FILE },
): LeaderLock {
  return opts.dbKind === 'postgres'
    ? new AdvisoryLock(() => pgPoolOf(opts.db), which.key)
    : new FileLock(path.join(opts.dataDir, which.file));
}
