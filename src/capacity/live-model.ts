import type { Kysely } from 'kysely';
import type { HostLoad, MetricsSource } from '../collector/metrics-source.js';
import type { Database } from '../db/schema.js';
import { billedDemand } from './demand.js';
import type { CapacityModel, HostModel, TenantDemand, TenantModel } from './model.js';
import { readRouting } from './routing-table.js';
import {
  CapacityStore,
  defaultHostSettings,
  defaultTenantSettings,
  type HostSettings,
  type TenantSettings,
} from './store.js';

/** Everything the live model is made of, read from the collector, billing and the capacity tables. */
export interface LiveInputs {
  hosts: readonly HostLoad[];
  hostSettings: readonly HostSettings[];
  tenantSettings: readonly TenantSettings[];
  routes: Readonly<Record<string, readonly string[]>>;
  demand: ReadonlyMap<string, TenantDemand>;
  frozen: boolean;
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The planner's model of the fleet as it is now. Hosts: every host the collector reports, plus every
 * host only named in settings, the routing table or a pin; those were never scraped (or not any more)
 * and are down with unknown load, the worst case. A draining host is cordoned too. Tenants: every tenant
 * in the routing table, in settings or billed in the demand window; demand is null (unknown) for a
 * tenant billing has not seen in the window. Everything is sorted by name, so the same inputs give the
 * same model.
 */
export function buildModel(inputs: LiveInputs): CapacityModel {
  const loads = new Map(inputs.hosts.map((h) => [h.host, h]));
  const settings = new Map(inputs.hostSettings.map((s) => [s.host, s]));
  const tenantSettings = new Map(inputs.tenantSettings.map((s) => [s.tenant, s]));
  const hostNames = new Set<string>([...loads.keys(), ...settings.keys()]);
  for (const hosts of Object.values(inputs.routes)) for (const h of hosts) hostNames.add(h);
  for (const s of inputs.tenantSettings) for (const h of s.pinned) hostNames.add(h);

  const hosts: HostModel[] = [...hostNames].sort(byName).map((name) => {
    const load = loads.get(name);
    const s = settings.get(name) ?? defaultHostSettings(name);
    return {
      name,
      cpuCores: load?.cpuCores ?? 0,
      memoryBytes: load?.memoryBytes ?? 0,
      pool: s.pool,
      dedicatedTo: s.pool === 'dedicated' ? s.dedicatedTo : null,
      cordoned: s.cordoned || s.draining,
      draining: s.draining,
      up: load?.up ?? false,
      cpu: load?.cpu ?? null,
      memory: load?.memory ?? null,
    };
  });

  const tenantNames = new Set<string>([
    ...Object.keys(inputs.routes),
    ...tenantSettings.keys(),
    ...inputs.demand.keys(),
  ]);
  const tenants: TenantModel[] = [...tenantNames].sort(byName).map((name) => {
    const s = tenantSettings.get(name) ?? defaultTenantSettings(name);
    return {
      name,
      demand: inputs.demand.get(name) ?? null,
      pinned: [...s.pinned],
      dedicated: s.dedicated,
      frozen: s.frozen,
    };
  });

  const assignments: Record<string, string[]> = {};
  for (const t of tenants) assignments[t.name] = [...(inputs.routes[t.name] ?? [])].sort(byName);
  return { hosts, tenants, assignments, frozen: inputs.frozen };
}

export interface LiveModel {
  model: CapacityModel;
  /** The routing table version the assignments are from. */
  version: number;
}

/** Reads every input now and builds the model (the routing table and its version from one snapshot). */
export async function readLiveModel(deps: {
  db: Kysely<Database>;
  source: MetricsSource;
  nowMs: number;
  demandWindowMs: number;
}): Promise<LiveModel> {
  const store = new CapacityStore(deps.db);
  const [hosts, hostSettings, tenantSettings, routing, demand, frozen] = await Promise.all([
    deps.source.hosts(),
    store.hosts(),
    store.tenants(),
    readRouting(deps.db),
    billedDemand(deps.db, deps.nowMs, deps.demandWindowMs),
    store.frozen(),
  ]);
  return {
    model: buildModel({ hosts, hostSettings, tenantSettings, routes: routing.routes, demand, frozen }),
    version: routing.version,
  };
}
