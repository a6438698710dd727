import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import { ErrorCodes, OverseerError } from '../errors/index.js';
import { pgListen, pgliteListen, type Listen } from './listen.js';
import { PGliteDialect } from './pglite-dialect.js';
import type { Database } from './schema.js';

export interface OpenedDatabase {
  db: Kysely<Database>;
  /** `postgres` for a real server, `pglite` for the embedded one. */
  kind: 'postgres' | 'pglite';
  /** Where it is, with any password removed: safe to log. */
  where: string;
  /** LISTEN to a channel of this database (NOTIFY from triggers; see listen.ts). */
  listen: Listen;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  url: string | undefined;
  dataDir: string;
  logger: Logger;
  connectTimeoutMs?: number;
  poolSize?: number;
}

// The pg pool behind each Kysely on real Postgres, for the few paths that need the driver itself (COPY
// for billing ingest). A side table by instance, not a global: it holds nothing once a Kysely is gone.
const pools = new WeakMap<Kysely<Database>, pg.Pool>();

/** The pg pool of a Kysely opened on real Postgres; undefined for the embedded database. */
export function pgPoolOf(db: Kysely<Database>): pg.Pool | undefined {
  return pools.get(db);
}

/** Opens real Postgres when a URL is given, else embedded PGlite in `<dataDir>/pglite`, and checks it answers. */
export async function openDatabase(opts: OpenDatabaseOptions): Promise<OpenedDatabase> {
  return opts.url === undefined ? openEmbedded(opts) : openPostgres(opts.url, opts);
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

async function openPostgres(url: string, opts: OpenDatabaseOptions): Promise<OpenedDatabase> {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:')) {
    throw new OverseerError(ErrorCodes.DB_URL_INVALID, `database URL is not a postgres:// URL`, {
      hint: 'use postgres://user:password@host:5432/dbname, or leave database.url unset for the embedded database',
    });
  }
  const where = redactUrl(url);
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.poolSize ?? 10,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
  });
  // An idle client that loses its server must not crash the process; the next query reconnects.
  pool.on('error', (err) => opts.logger.warn({ err }, 'idle postgres connection failed'));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    await sql`select 1`.execute(db);
  } catch (cause) {
    await db.destroy().catch(() => undefined);
    throw new OverseerError(ErrorCodes.DB_UNREACHABLE, `cannot connect to Postgres at ${where}`, {
      hint: 'check that the server runs and the URL (host, port, user, password, database) is right',
      details: [String((cause as Error).message || cause)],
      cause,
    });
  }
  pools.set(db, pool);
  return { db, kind: 'postgres', where, listen: pgListen(url, opts.logger), close: () => db.destroy() };
}

async function openEmbedded(opts: OpenDatabaseOptions): Promise<OpenedDatabase> {
  const dir = path.join(opts.dataDir, 'pglite');
  let db: Kysely<Database>;
  let listen: Listen;
  try {
    await mkdir(dir, { recursive: true });
    // Imported lazily: PGlite loads a WebAssembly Postgres, which a server on real Postgres never needs.
    const { PGlite } = await import('@electric-sql/pglite');
    const pglite = await PGlite.create(dir);
    db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
    listen = pgliteListen(pglite);
    await sql`select 1`.execute(db);
  } catch (cause) {
    throw new OverseerError(
      ErrorCodes.DB_EMBEDDED_OPEN_FAILED,
      `cannot open the embedded database in ${dir}`,
      {
        hint: 'another overseer may hold it open, or the folder is not writable; or set database.url to a Postgres server',
        details: [String((cause as Error).message || cause)],
        cause,
      },
    );
  }
  return { db, kind: 'pglite', where: dir, listen, close: () => db.destroy() };
}
