import type { TenantModel } from './model.js';
import { pct, type Fleet, type HostView } from './planner-fleet.js';
import { dedicatedHostsOf, dedicatedWanted, hostSize, sharedHostsWanted } from './planner-sizing.js';

interface Candidate {
  tenant: TenantModel;
  cpu: number;
  memory: number;
}

/** Balancing applies to shared tenants the operator left to the planner, with a known demand. */
function balanceable(fleet: Fleet, t: TenantModel): boolean {
  return (
    !t.frozen &&
    t.pinned.length === 0 &&
    dedicatedWanted(fleet, t) === 0 &&
    dedicatedHostsOf(fleet, t.name).length === 0
  );
}

const over = (fleet: Fleet, h: HostView): boolean =>
  h.cpu > fleet.policy.cpuLowWatermark || h.memory > fleet.policy.memoryLowWatermark;

/**
 * Of the tenants on a hot host, the one to move: the smallest that alone brings the host to its low
 * watermarks, else the largest (the most relief per move, so the fewest moves).
 */
function pick(fleet: Fleet, h: HostView, candidates: Candidate[]): Candidate {
  const needCpu = h.cpu - fleet.policy.cpuLowWatermark;
  const needMemory = h.memory - fleet.policy.memoryLowWatermark;
  const weight = (c: Candidate): number => (needCpu > 0 ? c.cpu : 0) + (needMemory > 0 ? c.memory : 0);
  let best: Candidate | null = null;
  let largest = candidates[0]!;
  for (const c of candidates) {
    const enough = (needCpu <= 0 || c.cpu >= needCpu) && (needMemory <= 0 || c.memory >= needMemory);
    if (enough && (best === null || weight(c) < weight(best))) best = c;
    if (weight(c) > weight(largest)) largest = c;
  }
  return best ?? largest;
}

/**
 * Moves tenants off hot hosts (N of the last M samples above a high watermark) until each is projected at
 * or below its low watermarks. A tenant in its cooldown, or whose demand is unknown (moving it is a guess),
 * stays.
 */
export function relieveHotHosts(fleet: Fleet): void {
  const hot = [...fleet.hosts.values()]
    .filter((h) => h.hot && !h.down && h.model?.pool === 'shared' && over(fleet, h))
    .sort((a, b) => Math.max(b.cpu, b.memory) - Math.max(a.cpu, a.memory) || (a.name < b.name ? -1 : 1));
  for (const h of hot) {
    if (!fleet.budgetLeft()) {
      fleet.deferred++;
      continue;
    }
    const before = fleet.describeLoad(h);
    const candidates: Candidate[] = [];
    for (const name of [...(fleet.onHost.get(h.name) ?? [])].sort()) {
      const t = fleet.tenants.get(name)!;
      if (t.demand === null || fleet.coolingDown(name) || !balanceable(fleet, t)) continue;
      candidates.push({ tenant: t, ...fleet.share(t, h, fleet.hostsOf(name).length) });
    }
    while (over(fleet, h) && candidates.length > 0 && fleet.budgetLeft()) {
      const c = pick(fleet, h, candidates);
      candidates.splice(candidates.indexOf(c), 1);
      const to = fleet.target(c.tenant, { pool: 'shared', replacing: true });
      if (to === null) continue;
      // Friction: the least loaded fit must end clearly cooler than this host is now.
      const dst = fleet.hosts.get(to)!;
      const lands = fleet.share(c.tenant, dst, fleet.hostsOf(c.tenant.name).length);
      const after = Math.max(dst.cpu + lands.cpu, dst.memory + lands.memory);
      if (Math.max(h.cpu, h.memory) - after < fleet.policy.moveMargin) {
        fleet.note({
          tenant: c.tenant.name,
          host: h.name,
          reason: 'host-hot',
          detail: `${c.tenant.name} stays on ${h.name} (${fleet.describeLoad(h)}): ${to} would be at ${pct(after)}, not ${pct(fleet.policy.moveMargin)} below`,
        });
        continue;
      }
      const detail =
        `${h.name} is hot (${before}, above ${pct(fleet.policy.cpuHighWatermark)} cpu or ` +
        `${pct(fleet.policy.memoryHighWatermark)} memory in ${fleet.policy.hotSamples} of the last ` +
        `${fleet.policy.windowSamples} samples); ${c.tenant.name} takes ~${pct(c.cpu)} cpu, ~${pct(c.memory)} memory of it`;
      fleet.apply(c.tenant.name, h.name, to, { reason: 'host-hot', detail }, 'load');
    }
    if (over(fleet, h) && fleet.budgetLeft())
      fleet.note({
        tenant: null,
        host: h.name,
        reason: 'host-hot',
        detail: `${h.name} stays hot (${fleet.describeLoad(h)}): no movable tenant fits on another host`,
      });
  }
}

/** Adds shared hosts to tenants whose demand per host is above `growShare` (all needed at once). */
export function grow(fleet: Fleet): void {
  for (const t of fleet.sortedTenants()) {
    if (t.demand === null || !balanceable(fleet, t)) continue;
    const have = fleet.hostsOf(t.name).length;
    if (have === 0) continue;
    const want = sharedHostsWanted(fleet, t);
    for (let k = have; k < want; k++) {
      if (!fleet.budgetLeft()) {
        fleet.deferred += want - k;
        break;
      }
      const to = fleet.target(t, { pool: 'shared', hostsAfter: want });
      if (to === null) {
        fleet.note({
          tenant: t.name,
          host: null,
          reason: 'grow',
          detail: `${t.name} wants ${want} hosts, has ${k}: no shared host with room`,
        });
        break;
      }
      const detail = `${t.name} uses ${t.demand.cpu.toFixed(1)} cores over ${have} host(s), more than ${pct(fleet.policy.growShare)} of a host each; grows to ${want}`;
      if (!fleet.apply(t.name, null, to, { reason: 'grow', detail }, 'load', want)) break;
    }
  }
}

/**
 * Takes one host from a tenant whose share would stay below `shrinkShare` on one host fewer, and only
 * when its other hosts stay at or below the low watermarks. Never below `minHostsPerTenant`, never on
 * unknown demand, never during the tenant's cooldown.
 */
export function shrink(fleet: Fleet): void {
  const p = fleet.policy;
  for (const t of fleet.sortedTenants()) {
    if (!fleet.budgetLeft()) return;
    const d = t.demand;
    const mine = fleet.hostsOf(t.name);
    if (
      d === null ||
      mine.length <= p.minHostsPerTenant ||
      fleet.coolingDown(t.name) ||
      !balanceable(fleet, t)
    )
      continue;
    const size = hostSize(fleet, t);
    const k = mine.length - 1;
    if (d.cpu / k >= size.cores * p.shrinkShare || d.memoryBytes / k >= size.memory * p.shrinkShare) continue;
    const views = mine.map((h) => fleet.hosts.get(h)!);
    const drop = views.reduce((a, b) => (Math.max(b.cpu, b.memory) > Math.max(a.cpu, a.memory) ? b : a));
    const fits = views.every((v) => {
      if (v === drop) return true;
      const now = fleet.share(t, v, k + 1);
      const then = fleet.share(t, v, k);
      return (
        v.cpu - now.cpu + then.cpu <= p.cpuLowWatermark &&
        v.memory - now.memory + then.memory <= p.memoryLowWatermark
      );
    });
    if (!fits) continue;
    const detail = `${t.name} uses ${d.cpu.toFixed(1)} cores over ${k + 1} hosts, under ${pct(p.shrinkShare)} of a host each on one fewer`;
    fleet.apply(t.name, drop.name, null, { reason: 'shrink', detail }, 'load');
  }
}
