import type { CapacityPolicy } from './policy.js';
import type { Scenario } from './scenario.js';
import type { SimTick } from './simulator.js';

/** Hosts a tenant must be routed to after every tick: the "every tenant stays on ≥ min hosts". */
export function requiredHosts(
  sc: Scenario,
  tenant: Scenario['tenants'][number],
  onDedicated: boolean,
): number | null {
  if (tenant.pinned.length > 0) return null; // exactly its pins, whatever their number
  if (tenant.dedicated > 0) return tenant.dedicated;
  return onDedicated ? sc.policy.minDedicatedHosts : sc.policy.minHostsPerTenant;
}

export interface BelowMin {
  tenant: string;
  hosts: string[];
  required: number;
}

/** Tenants routed to fewer hosts than they must be after this tick's moves. */
export function belowMinHosts(sc: Scenario, t: SimTick): BelowMin[] {
  const dedicated = new Set(sc.hosts.filter((h) => h.pool === 'dedicated').map((h) => h.name));
  const out: BelowMin[] = [];
  for (const tenant of sc.tenants) {
    const hosts = t.assignments[tenant.name] ?? [];
    const required = requiredHosts(
      sc,
      tenant,
      hosts.some((h) => dedicated.has(h)),
    );
    if (required !== null && hosts.length < required) out.push({ tenant: tenant.name, hosts, required });
  }
  return out;
}

/** Hosts remembered per tenant for back-and-forth: more than a tenant leaves within one cooldown. */
const MAX_LEFT_PER_TENANT = 32;

export function isHot(l: { cpu: number; memory: number }, p: CapacityPolicy): boolean {
  return l.cpu > p.cpuHighWatermark || l.memory > p.memoryHighWatermark;
}

export interface Peak {
  value: number;
  host: string | null;
  tick: number;
}

export interface SimSummary {
  ticks: number;
  moves: {
    total: number;
    byReason: Record<string, number>;
    /** Most moves of one tenant, and which. */
    maxPerTenant: number;
    busiestTenant: string | null;
    /** A tenant moved back onto a host it left less than `tenantCooldown` before. */
    backAndForth: number;
    /** Moves the budgets held back, summed over ticks (one wait can count in several ticks). */
    deferred: number;
  };
  /** After the moves, over hosts that are up. */
  peakCpu: Peak;
  peakMemory: Peak;
  /** Most consecutive ticks one up host stayed above a high watermark after the moves. */
  longestHot: { ticks: number; host: string | null; from: number };
  /** Ticks after which some tenant was on fewer hosts than required, and the first such. */
  belowMin: { ticks: number; first: (BelowMin & { tick: number }) | null };
  /** The last tick's notes: what still waits or cannot be done. */
  lastNotes: string[];
}

/** Summarises a simulation as it streams; bounded by hosts + tenants × 32, whatever the tick count. */
export class SimStats {
  private readonly perTenant = new Map<string, number>();
  /** tenant → host → when it left (ms); the newest `MAX_LEFT_PER_TENANT` per tenant. */
  private readonly left = new Map<string, Map<string, number>>();
  private readonly hotSince = new Map<string, number>();
  readonly s: SimSummary = {
    ticks: 0,
    moves: { total: 0, byReason: {}, maxPerTenant: 0, busiestTenant: null, backAndForth: 0, deferred: 0 },
    peakCpu: { value: 0, host: null, tick: 0 },
    peakMemory: { value: 0, host: null, tick: 0 },
    longestHot: { ticks: 0, host: null, from: 0 },
    belowMin: { ticks: 0, first: null },
    lastNotes: [],
  };

  constructor(private readonly sc: Scenario) {}

  add(t: SimTick): void {
    this.s.ticks++;
    this.s.lastNotes = t.notes;
    this.s.moves.deferred += t.deferred;
    for (const mv of t.moves) this.move(mv.tenant, mv.from, mv.to, mv.reason, t.nowMs);
    for (const [host, l] of Object.entries(t.hostLoad)) {
      if (!t.hosts[host]?.up) {
        this.hotSince.delete(host);
        continue;
      }
      if (l.cpu > this.s.peakCpu.value) this.s.peakCpu = { value: l.cpu, host, tick: t.tick };
      if (l.memory > this.s.peakMemory.value) this.s.peakMemory = { value: l.memory, host, tick: t.tick };
      if (!isHot(l, this.sc.policy)) {
        this.hotSince.delete(host);
        continue;
      }
      const from = this.hotSince.get(host) ?? t.tick;
      this.hotSince.set(host, from);
      if (t.tick - from + 1 > this.s.longestHot.ticks)
        this.s.longestHot = { ticks: t.tick - from + 1, host, from };
    }
    const below = belowMinHosts(this.sc, t);
    if (below.length > 0) {
      this.s.belowMin.ticks++;
      this.s.belowMin.first ??= { ...below[0]!, tick: t.tick };
    }
  }

  private move(tenant: string, from: string | null, to: string | null, reason: string, nowMs: number): void {
    const m = this.s.moves;
    m.total++;
    m.byReason[reason] = (m.byReason[reason] ?? 0) + 1;
    const n = (this.perTenant.get(tenant) ?? 0) + 1;
    this.perTenant.set(tenant, n);
    if (n > m.maxPerTenant) {
      m.maxPerTenant = n;
      m.busiestTenant = tenant;
    }
    let left = this.left.get(tenant);
    if (left === undefined) this.left.set(tenant, (left = new Map<string, number>()));
    if (to !== null) {
      const at = left.get(to);
      if (at !== undefined && nowMs - at < this.sc.policy.tenantCooldownMs) m.backAndForth++;
    }
    if (from !== null) {
      left.delete(from);
      left.set(from, nowMs);
      if (left.size > MAX_LEFT_PER_TENANT) left.delete(left.keys().next().value!);
    }
  }
}
