import type { TenantModel } from './model.js';
import type { Fleet } from './planner-fleet.js';

/** How many hosts a tenant should run on: shared by its demand, dedicated by the admin or its demand. */

/** Mean size of the tenant's hosts, or of the shared pool while it has none. */
export function hostSize(fleet: Fleet, t: TenantModel): { cores: number; memory: number } {
  const models = fleet
    .hostsOf(t.name)
    .map((h) => fleet.hosts.get(h)?.model)
    .filter((m) => m != null);
  if (models.length === 0) return fleet.poolMeans('shared');
  return {
    cores: models.reduce((a, m) => a + m.cpuCores, 0) / models.length,
    memory: models.reduce((a, m) => a + m.memoryBytes, 0) / models.length,
  };
}

/** Shared hosts the tenant's demand asks for: per-host share at most `growShare`, within min..max hosts. */
export function sharedHostsWanted(fleet: Fleet, t: TenantModel): number {
  const p = fleet.policy;
  const d = t.demand;
  if (d === null) return p.minHostsPerTenant;
  const size = hostSize(fleet, t);
  const byCpu = size.cores > 0 ? Math.ceil(d.cpu / (size.cores * p.growShare)) : 0;
  const byMemory = size.memory > 0 ? Math.ceil(d.memoryBytes / (size.memory * p.growShare)) : 0;
  return Math.min(p.maxHostsPerTenant, Math.max(p.minHostsPerTenant, byCpu, byMemory));
}

/** The tenant's hosts that are in the dedicated pool (or gone: the model no longer says). */
export function dedicatedHostsOf(fleet: Fleet, tenant: string): string[] {
  return fleet.hostsOf(tenant).filter((h) => fleet.hosts.get(h)?.model?.pool === 'dedicated');
}

function overThreshold(fleet: Fleet, t: TenantModel, scale: number): boolean {
  const p = fleet.policy;
  const d = t.demand;
  if (d === null) return false;
  return (
    (p.dedicateCpuCores !== null && d.cpu >= p.dedicateCpuCores * scale) ||
    (p.dedicateMemoryBytes !== null && d.memoryBytes >= p.dedicateMemoryBytes * scale)
  );
}

/**
 * Dedicated hosts the tenant should have: the admin's count, else (auto) enough hosts of the dedicated
 * pool to hold its demand at the low watermarks once it crosses a dedicate threshold. It stays dedicated
 * until its demand falls below `undedicateRatio` of the thresholds, or while its demand is unknown.
 */
export function dedicatedWanted(fleet: Fleet, t: TenantModel): number {
  if (t.dedicated > 0) return t.dedicated;
  const current = dedicatedHostsOf(fleet, t.name).length;
  const p = fleet.policy;
  const start = overThreshold(fleet, t, 1);
  const stay = current > 0 && (t.demand === null || overThreshold(fleet, t, p.undedicateRatio));
  if (!start && !stay) return 0;
  if (t.demand === null) return current;
  const { cores, memory } = fleet.poolMeans('dedicated');
  const need = Math.max(
    p.minDedicatedHosts,
    cores > 0 ? Math.ceil(t.demand.cpu / (cores * p.cpuLowWatermark)) : 0,
    memory > 0 ? Math.ceil(t.demand.memoryBytes / (memory * p.memoryLowWatermark)) : 0,
  );
  return Math.min(need, p.maxHostsPerTenant);
}
