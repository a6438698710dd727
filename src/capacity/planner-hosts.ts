import type { CapacityModel, HostModel } from './model.js';
import type { PlannerState } from './planner-state.js';
import type { CapacityPolicy } from './policy.js';

export interface HostView {
  name: string;
  /** null: the routing table names a host the model no longer has. */
  model: HostModel | null;
  /** Projected load ratios: the newest sample (unknown counts as full) plus the load of recent moves. */
  cpu: number;
  memory: number;
  down: boolean;
  hot: boolean;
  /** Up in every kept sample: a flapping host takes no tenants. */
  steady: boolean;
  /** Load was moved off it within the settle time; its measure may already show it, so it takes none. */
  relieved: boolean;
  incoming: number;
}

interface Settling {
  cpu: number;
  memory: number;
  neg: boolean;
  atMs: number;
  baseCpu: number | null;
  baseMemory: number | null;
}

/**
 * The part of a settling load change `delta` the measure does not show yet: the measure has moved from
 * `base` (before the moves) to `now`. Without both readings, all of it (the cautious side: load added is
 * counted, load removed is not trusted twice).
 */
export function unseen(delta: number, base: number | null, now: number | null): number {
  if (delta === 0) return 0;
  if (base === null || now === null || !Number.isFinite(base) || !Number.isFinite(now)) return delta;
  const left = base + delta - now;
  return delta > 0 ? Math.min(delta, Math.max(0, left)) : Math.max(delta, Math.min(0, left));
}

/** A load ratio; unknown (or not a number) is the worst case. */
const known = (v: number | null): number => (v === null || !Number.isFinite(v) ? 1 : v);

/**
 * Sample i of a host counts as hot: above a high watermark (unknown counts as full) and, in absolute
 * terms, at or above that resource's floor; host up.
 */
function hotSample(h: PlannerState['hosts'][string], i: number, p: CapacityPolicy, host: HostModel): boolean {
  if (!h.up[i]) return false;
  const cpu = h.cpu[i] ?? 1;
  const memory = h.memory[i] ?? 1;
  return (
    (cpu > p.cpuHighWatermark && cpu * host.cpuCores >= p.hotFloorCpuCores) ||
    (memory > p.memoryHighWatermark && memory * host.memoryBytes >= p.hotFloorMemoryBytes)
  );
}

/**
 * What each host is this cycle: down and hot by N of its last M samples, steady when up in all of them,
 * its load projected from the newest sample plus the moves still settling.
 */
export function hostViews(model: CapacityModel, policy: CapacityPolicy, state: PlannerState): HostView[] {
  const views: HostView[] = [];
  const pending = new Map<string, Settling>();
  for (const d of state.recent) {
    let acc = pending.get(d.host);
    if (acc === undefined) {
      acc = { cpu: 0, memory: 0, neg: false, atMs: d.atMs, baseCpu: null, baseMemory: null };
      pending.set(d.host, acc);
    }
    acc.cpu += d.cpu;
    acc.memory += d.memory;
    acc.neg ||= d.cpu < 0 || d.memory < 0;
    // The measure before the first settling move: what the host was before any of them.
    if (d.atMs <= acc.atMs) {
      acc.atMs = d.atMs;
      acc.baseCpu = d.baseCpu ?? null;
      acc.baseMemory = d.baseMemory ?? null;
    }
  }
  for (const h of model.hosts) {
    const hist = Object.hasOwn(state.hosts, h.name) ? state.hosts[h.name] : undefined;
    const n = hist?.up.length ?? 0;
    let downs = 0;
    let hots = 0;
    for (let i = 0; i < n; i++) {
      if (!hist!.up[i]) downs++;
      else if (hotSample(hist!, i, policy, h)) hots++;
    }
    const adj = pending.get(h.name);
    const view: HostView = {
      name: h.name,
      model: h,
      cpu: (h.up ? known(h.cpu) : 1) + unseen(adj?.cpu ?? 0, adj?.baseCpu ?? null, h.up ? h.cpu : null),
      memory:
        (h.up ? known(h.memory) : 1) +
        unseen(adj?.memory ?? 0, adj?.baseMemory ?? null, h.up ? h.memory : null),
      down: downs >= policy.downSamples,
      hot: hots >= policy.hotSamples,
      steady: h.up && downs === 0,
      relieved: adj?.neg ?? false,
      incoming: 0,
    };
    views.push(view);
  }
  return views;
}

/** A host the routing table names but the model no longer has: down for good, its tenants must leave. */
export function goneHost(name: string): HostView {
  return {
    name,
    model: null,
    cpu: 1,
    memory: 1,
    down: true,
    hot: false,
    steady: false,
    relieved: false,
    incoming: 0,
  };
}
