import { Migrator, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import { ErrorCodes, OverseerError } from '../errors/index.js';
import { migrationProvider } from './migrations/index.js';

/** Runs every pending migration; aborts (throws) on the first failure, leaving the failed one rolled back. */
export async function migrateToLatest(db: Kysely<any>, logger: Logger): Promise<string[]> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results = [] } = await migrator.migrateToLatest();
  for (const r of results) {
    if (r.status === 'Success') logger.info({ migration: r.migrationName }, 'migration applied');
  }
  if (error) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName ?? '(before any migration)';
    throw new OverseerError(ErrorCodes.DB_MIGRATION_FAILED, `database migration ${failed} failed`, {
      hint: 'the database is left at the last good migration; fix the cause below and start again',
      details: [error instanceof Error ? error.message : JSON.stringify(error)],
      cause: error,
    });
  }
  return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
