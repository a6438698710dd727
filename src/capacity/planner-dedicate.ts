import type { TenantModel } from './model.js';
import type { Fleet, MoveKind } from './planner-fleet.js';
import { dedicatedHostsOf, dedicatedWanted, sharedHostsWanted } from './planner-sizing.js';

const GiB = 1024 ** 3;

function describeDemand(t: TenantModel): string {
  const d = t.demand;
  return d === null
    ? 'demand unknown'
    : `demand ${d.cpu.toFixed(1)} cores, ${(d.memoryBytes / GiB).toFixed(1)} GiB`;
}

/**
 * Moves tenants onto (and off) dedicated hosts. Dedicated hosts are added first; the tenant leaves its
 * shared hosts only once it runs on every dedicated host it wants, all healthy, so it is never served by
 * fewer hosts during the change. Going back works the same way round.
 */
export function dedicate(fleet: Fleet): void {
  for (const t of fleet.sortedTenants()) {
    if (t.frozen || t.pinned.length > 0) continue;
    const wanted = dedicatedWanted(fleet, t);
    // Crossing the dedicate threshold needs no cooldown: the undedicate threshold is the hysteresis.
    if (wanted > 0) toDedicated(fleet, t, wanted, t.dedicated > 0 ? 'safety' : 'load');
    else if (dedicatedHostsOf(fleet, t.name).length > 0 && !fleet.coolingDown(t.name)) toShared(fleet, t);
  }
}

function toDedicated(fleet: Fleet, t: TenantModel, wanted: number, kind: MoveKind): void {
  const why =
    t.dedicated > 0
      ? `dedicated ${wanted} by an admin`
      : `${describeDemand(t)}: auto-dedicated to ${wanted} host(s)`;
  let mine = dedicatedHostsOf(fleet, t.name);
  while (mine.length < wanted) {
    if (!fleet.budgetLeft()) {
      fleet.deferred += wanted - mine.length;
      return;
    }
    const to = fleet.target(t, { pool: 'dedicated' });
    if (to === null) {
      fleet.note({
        tenant: t.name,
        host: null,
        reason: 'dedicate',
        detail: `${t.name} wants ${wanted} dedicated host(s) and has ${mine.length}: no free dedicated host`,
      });
      return;
    }
    if (!fleet.apply(t.name, null, to, { reason: 'dedicate', detail: `${why}; adds ${to}` }, kind)) return;
    mine = dedicatedHostsOf(fleet, t.name);
  }
  // Extra dedicated hosts go first when down, then by name: a deterministic choice.
  const extra = [...mine]
    .sort((a, b) => Number(fleet.healthy(a)) - Number(fleet.healthy(b)) || (a < b ? 1 : -1))
    .slice(0, mine.length - wanted);
  for (const h of extra)
    fleet.apply(t.name, h, null, { reason: 'dedicate', detail: `${why}; releases ${h}` }, kind);
  mine = dedicatedHostsOf(fleet, t.name);
  if (!mine.every((h) => fleet.healthy(h))) return;
  for (const h of fleet.hostsOf(t.name).filter((x) => !mine.includes(x)))
    fleet.apply(t.name, h, null, { reason: 'dedicate', detail: `${why}; leaves shared ${h}` }, kind);
}

function toShared(fleet: Fleet, t: TenantModel): void {
  const why = `${describeDemand(t)}: back to shared hosts`;
  const need = sharedHostsWanted(fleet, t);
  const sharedOf = (): string[] =>
    fleet.hostsOf(t.name).filter((h) => fleet.hosts.get(h)?.model?.pool === 'shared' && fleet.healthy(h));
  while (sharedOf().length < need) {
    // Its demand will be split over `need` shared hosts once the dedicated ones are released.
    const to = fleet.target(t, { pool: 'shared', hostsAfter: need });
    if (to === null) {
      fleet.note({
        tenant: t.name,
        host: null,
        reason: 'undedicate',
        detail: `${why}: no shared host with room`,
      });
      return;
    }
    const move = { reason: 'undedicate', detail: `${why}; adds ${to}` };
    if (!fleet.apply(t.name, null, to, move, 'load', need)) return;
  }
  for (const h of dedicatedHostsOf(fleet, t.name))
    fleet.apply(t.name, h, null, { reason: 'undedicate', detail: `${why}; releases ${h}` }, 'load');
}
