import type { Kysely } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { migrateToLatest } from '../../src/db/migrate.js';
import { openDatabase, type OpenedDatabase } from '../../src/db/open.js';
import type { Database } from '../../src/db/schema.js';
import { createTestDatabase, type TestDatabase } from './test-db.js';

const logger = pino({ level: 'silent' });

export interface MigratedDatabase {
  /** The migrated database; only usable once beforeAll has run. */
  readonly db: Kysely<Database>;
  /** Its URL, for a second connection or a raw pg client. */
  readonly url: string;
}

/**
 * A fresh database in the run's Postgres cluster, migrated to the latest schema, for the current file or
 * describe block: registers beforeAll (create, open, migrate) and afterAll (close, drop) with vitest.
 * Call it during collection (at the top of a describe); read `db` and `url` only inside hooks and tests.
 */
export function useMigratedDatabase(): MigratedDatabase {
  let testDb: TestDatabase | undefined;
  let opened: OpenedDatabase | undefined;
  beforeAll(async () => {
    testDb = await createTestDatabase();
    opened = await openDatabase({ url: testDb.url, dataDir: '/nonexistent', logger });
    await migrateToLatest(opened.db, logger);
  });
  afterAll(async () => {
    await opened?.close();
    await testDb?.drop();
  });
  return {
    get db() {
      if (!opened)
        throw new Error('useMigratedDatabase: the database is not open yet (read it in a hook or test)');
      return opened.db;
    },
    get url() {
      if (!testDb)
        throw new Error('useMigratedDatabase: the database is not created yet (read it in a hook or test)');
      return testDb.url;
    },
  };
}
