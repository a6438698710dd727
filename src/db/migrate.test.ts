import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/helpers/test-db.js';
import { isOverseerError } from '../errors/index.js';
import { migrateToLatest } from './migrate.js';
import { migrationProvider } from './migrations/index.js';
import { openDatabase, type OpenedDatabase } from './open.js';

const logger = pino({ level: 'silent' });

async function tables(opened: OpenedDatabase): Promise<string[]> {
  const { rows } = await sql<{ table_name: string }>`
    select table_name from information_schema.tables where table_schema = 'public' order by table_name`.execute(
    opened.db,
  );
  return rows.map((r) => r.table_name);
}

async function exercise(opened: OpenedDatabase): Promise<void> {
  const all = Object.keys(await migrationProvider.getMigrations());
  expect(all.slice(0, 3)).toEqual(['0001-foundation', '0002-alarms', '0003-billing']);
  expect(await migrateToLatest(opened.db, logger)).toEqual(all);
  expect(await tables(opened)).toEqual(
    expect.arrayContaining([
      'alarms',
      'api_tokens',
      'audit_log',
      'billing_hourly',
      'kysely_migration',
      'silences',
    ]),
  );
  // A second run finds nothing to do: migrations are idempotent at start.
  expect(await migrateToLatest(opened.db, logger)).toEqual([]);
  // A transaction that fails leaves nothing behind.
  await expect(
    opened.db.transaction().execute(async (trx) => {
      await trx.insertInto('api_tokens').values({ name: 'x', role: 'viewer', token_sha256: 'h1' }).execute();
      throw new Error('boom');
    }),
  ).rejects.toThrow('boom');
  const inserted = await opened.db
    .insertInto('api_tokens')
    .values({ name: 'y', role: 'viewer', token_sha256: 'h2' })
    .executeTakeFirstOrThrow();
  expect(inserted.numInsertedOrUpdatedRows).toBe(1n);
  const rows = await opened.db.selectFrom('api_tokens').select(['name', 'token_sha256']).execute();
  expect(rows).toEqual([{ name: 'y', token_sha256: 'h2' }]);
  // The unique index holds.
  await expect(
    opened.db.insertInto('api_tokens').values({ name: 'z', role: 'viewer', token_sha256: 'h2' }).execute(),
  ).rejects.toThrow(/unique|duplicate/i);
}

describe('migrations on real Postgres', () => {
  let testDb: TestDatabase;
  let opened: OpenedDatabase;
  beforeAll(async () => {
    testDb = await createTestDatabase();
    opened = await openDatabase({ url: testDb.url, dataDir: '/nonexistent', logger });
  });
  afterAll(async () => {
    await opened?.close();
    await testDb?.drop();
  });

  it('creates the schema once, transactions roll back, constraints hold', async () => {
    expect(opened.kind).toBe('postgres');
    await exercise(opened);
  });
});

describe('migrations on embedded PGlite', () => {
  let dir: string;
  let opened: OpenedDatabase;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'overseer-pglite-'));
    opened = await openDatabase({ url: undefined, dataDir: dir, logger });
  });
  afterAll(async () => {
    await opened?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the schema once, transactions roll back, constraints hold', async () => {
    expect(opened.kind).toBe('pglite');
    await exercise(opened);
  });

  it('keeps its data across a close and reopen of the data dir', async () => {
    await opened.close();
    opened = await openDatabase({ url: undefined, dataDir: dir, logger });
    expect(await migrateToLatest(opened.db, logger)).toEqual([]);
    expect(await opened.db.selectFrom('api_tokens').select('name').execute()).toEqual([{ name: 'y' }]);
  });
});

describe('database errors', () => {
  it.each([
    ['not a URL', 'nonsense', 100204],
    ['wrong scheme', 'mysql://localhost/x', 100204],
    ['nothing listening', 'postgres://postgres@127.0.0.1:1/x', 100201],
  ])('%s gives a coded error', async (_name, url, code) => {
    const err = await openDatabase({ url, dataDir: '/nonexistent', logger, connectTimeoutMs: 2000 }).catch(
      (e: unknown) => e,
    );
    expect(isOverseerError(err) && err.code).toBe(code);
  });
});
