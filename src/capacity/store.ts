import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { HostPool } from './model.js';

/** What operators set on a host. A host without settings is shared, schedulable and not draining. */
export interface HostSettings {
  host: string;
  pool: HostPool;
  dedicatedTo: string | null;
  cordoned: boolean;
  draining: boolean;
}

/** What operators set on a tenant. */
export interface TenantSettings {
  tenant: string;
  pinned: string[];
  dedicated: number;
  frozen: boolean;
}

export const defaultHostSettings = (host: string): HostSettings => ({
  host,
  pool: 'shared',
  dedicatedTo: null,
  cordoned: false,
  draining: false,
});

export const defaultTenantSettings = (tenant: string): TenantSettings => ({
  tenant,
  pinned: [],
  dedicated: 0,
  frozen: false,
});

/** Operator settings of hosts and tenants, and the global freeze (tables of migration 0004). */
export class CapacityStore {
  constructor(private readonly db: Kysely<Database>) {}

  async hosts(): Promise<HostSettings[]> {
    const rows = await this.db.selectFrom('capacity_hosts').selectAll().orderBy('host').execute();
    return rows.map((r) => ({
      host: r.host,
      pool: r.pool,
      dedicatedTo: r.dedicated_to,
      cordoned: r.cordoned,
      draining: r.draining,
    }));
  }

  async tenants(): Promise<TenantSettings[]> {
    const rows = await this.db.selectFrom('capacity_tenants').selectAll().orderBy('tenant').execute();
    return rows.map((r) => ({
      tenant: r.tenant,
      pinned: r.pinned,
      dedicated: r.dedicated,
      frozen: r.frozen,
    }));
  }

  async tenant(tenant: string): Promise<TenantSettings> {
    const r = await this.db
      .selectFrom('capacity_tenants')
      .selectAll()
      .where('tenant', '=', tenant)
      .executeTakeFirst();
    return r === undefined
      ? defaultTenantSettings(tenant)
      : { tenant, pinned: r.pinned, dedicated: r.dedicated, frozen: r.frozen };
  }

  async frozen(): Promise<boolean> {
    const r = await this.db
      .selectFrom('capacity_state')
      .select('frozen')
      .where('id', '=', 1)
      .executeTakeFirst();
    return r?.frozen ?? false;
  }

  /** Writes the whole settings of a host (read, change, write: callers pass the merged value). */
  async saveHost(s: HostSettings, actor: string, db: Kysely<Database> = this.db): Promise<void> {
    const values = {
      pool: s.pool,
      dedicated_to: s.dedicatedTo,
      cordoned: s.cordoned,
      draining: s.draining,
      updated_at: sql<Date>`now()`,
      updated_by: actor,
    };
    await db
      .insertInto('capacity_hosts')
      .values({ host: s.host, ...values })
      .onConflict((oc) => oc.column('host').doUpdateSet(values))
      .execute();
  }

  async saveTenant(s: TenantSettings, actor: string, db: Kysely<Database> = this.db): Promise<void> {
    const values = {
      pinned: JSON.stringify(s.pinned),
      dedicated: s.dedicated,
      frozen: s.frozen,
      updated_at: sql<Date>`now()`,
      updated_by: actor,
    };
    await db
      .insertInto('capacity_tenants')
      .values({ tenant: s.tenant, ...values })
      .onConflict((oc) => oc.column('tenant').doUpdateSet(values))
      .execute();
  }

  async setFrozen(frozen: boolean, db: Kysely<Database> = this.db): Promise<void> {
    await db
      .updateTable('capacity_state')
      .set({ frozen, updated_at: sql<Date>`now()` })
      .where('id', '=', 1)
      .execute();
  }
}
