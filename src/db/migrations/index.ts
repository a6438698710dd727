import type { Migration, MigrationProvider } from 'kysely';
import * as m0001 from './0001-foundation.js';
import * as m0002 from './0002-alarms.js';
import * as m0003 from './0003-billing.js';
import * as m0004 from './0004-capacity.js';
import * as m0005 from './0005-billing-changes.js';
import * as m0006 from './0006-capacity-planner-memory.js';

/**
 * Migrations are listed statically (not read from a folder) so the built service and the tests run the
 * same set whatever the working directory. Names sort in the order they must run.
 */
export const migrationProvider: MigrationProvider = {
  getMigrations(): Promise<Record<string, Migration>> {
    return Promise.resolve({
      '0001-foundation': m0001,
      '0002-alarms': m0002,
      '0003-billing': m0003,
      '0004-capacity': m0004,
      '0005-billing-changes': m0005,
      '0006-capacity-planner-memory': m0006,
    });
  },
};
