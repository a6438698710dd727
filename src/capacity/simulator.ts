import type { CapacityModel, HostModel, Move, TenantDemand, TenantModel } from './model.js';
import { emptyPlannerState, plan, type PlannerState } from './planner.js';
import type { Scenario, ScenarioEvent, ScenarioHost } from './scenario.js';

/** Load ratios of one host: 1 is full; above 1 is more than it has. */
export interface HostLoad {
  cpu: number;
  memory: number;
}

export interface HostFlags {
  cordoned: boolean;
  draining: boolean;
  up: boolean;
}

/** One tick of a simulation: what happened, what the planner did, and the fleet after its moves. */
export interface SimTick {
  tick: number;
  /** The fake clock: tick × intervalSeconds. */
  nowMs: number;
  events: ScenarioEvent[];
  /** Tenants whose demand this tick set. */
  demandSet: string[];
  /** Host loads from the assignments before this tick's moves: what the planner measured. */
  measured: Record<string, HostLoad>;
  moves: Move[];
  /** Every tenant of the scenario, in its order, after the moves. */
  assignments: Record<string, string[]>;
  /** Every host of the scenario, in its order, after the moves. */
  hostLoad: Record<string, HostLoad>;
  /** Host flags after this tick's events. */
  hosts: Record<string, HostFlags>;
  hot: string[];
  down: string[];
  deferred: number;
  notes: string[];
}

/**
 * Host load = (background + each assigned tenant's demand split evenly over all of its hosts) / capacity,
 * for CPU (cores) and memory (bytes). A tenant whose demand is not known yet adds nothing.
 */
export function hostLoads(
  hosts: readonly ScenarioHost[],
  demand: ReadonlyMap<string, TenantDemand | null>,
  assignments: Readonly<Record<string, readonly string[]>>,
): Record<string, HostLoad> {
  const used = new Map<string, TenantDemand>(
    hosts.map((h) => [h.name, { cpu: h.background.cpu, memoryBytes: h.background.memoryBytes }]),
  );
  for (const [tenant, list] of Object.entries(assignments)) {
    const d = demand.get(tenant);
    if (d === undefined || d === null || list.length === 0) continue;
    for (const h of list) {
      const u = used.get(h);
      if (u === undefined) continue;
      u.cpu += d.cpu / list.length;
      u.memoryBytes += d.memoryBytes / list.length;
    }
  }
  const out: Record<string, HostLoad> = {};
  for (const h of hosts) {
    const u = used.get(h.name)!;
    out[h.name] = { cpu: u.cpu / h.cpuCores, memory: u.memoryBytes / h.memoryBytes };
  }
  return out;
}

function applyEvent(flags: HostFlags, e: ScenarioEvent): void {
  // As the admin commands do: drain cordons too, uncordon ends a drain.
  if (e.kind === 'cordon') flags.cordoned = true;
  else if (e.kind === 'drain') flags.cordoned = flags.draining = true;
  else if (e.kind === 'uncordon') flags.cordoned = flags.draining = false;
  else flags.up = e.kind === 'up';
}

/** Tenants in the scenario's order, each with a list (empty when it runs nowhere). */
function ordered(sc: Scenario, assignments: Record<string, string[]>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const t of sc.tenants) out[t.name] = [...(assignments[t.name] ?? [])];
  return out;
}

/**
 * Runs the real planner over a scenario, one tick at a time from 0 to the last tick listed; a tick not
 * listed has no events and keeps every demand. Each tick: apply its events and demand, measure the
 * hosts from the current assignments, `plan()` with the previous tick's state at nowMs = tick ×
 * interval, apply the moves, measure again. Every move is applied (auto mode). Pure: no clock, no I/O;
 * a generator, so a long run streams in bounded memory.
 */
export function* simulate(sc: Scenario): Generator<SimTick, void, undefined> {
  const flags = new Map<string, HostFlags>(
    sc.hosts.map((h) => [h.name, { cordoned: false, draining: false, up: true }]),
  );
  const demand = new Map<string, TenantDemand | null>(sc.tenants.map((t) => [t.name, null]));
  const tenants: TenantModel[] = sc.tenants.map((t) => ({
    name: t.name,
    demand: null,
    pinned: t.pinned,
    dedicated: t.dedicated,
    frozen: false,
  }));
  let assignments = ordered(sc, sc.assignments);
  let state: PlannerState = emptyPlannerState();
  const last = sc.ticks[sc.ticks.length - 1]!.tick;
  let next = 0;

  for (let tick = 0; tick <= last; tick++) {
    const listed = sc.ticks[next]?.tick === tick ? sc.ticks[next++] : undefined;
    const events = listed?.events ?? [];
    for (const e of events) applyEvent(flags.get(e.host)!, e);
    const demandSet = Object.keys(listed?.demand ?? {});
    for (const t of demandSet) demand.set(t, { ...listed!.demand[t]! });
    for (const t of tenants) t.demand = demand.get(t.name) ?? null;

    const nowMs = Math.round(tick * sc.intervalSeconds * 1000);
    const measured = hostLoads(sc.hosts, demand, assignments);
    const hosts: HostModel[] = sc.hosts.map((h) => {
      const f = flags.get(h.name)!;
      return {
        name: h.name,
        cpuCores: h.cpuCores,
        memoryBytes: h.memoryBytes,
        pool: h.pool,
        dedicatedTo: null,
        cordoned: f.cordoned,
        draining: f.draining,
        up: f.up,
        // A down host reports nothing: the planner sees its load as unknown.
        cpu: f.up ? measured[h.name]!.cpu : null,
        memory: f.up ? measured[h.name]!.memory : null,
      };
    });
    const model: CapacityModel = {
      hosts,
      tenants: tenants.map((t) => ({ ...t })),
      assignments,
      frozen: false,
    };
    const out = plan({ model, policy: sc.policy, state, nowMs });
    state = out.state;
    assignments = ordered(sc, out.assignments);
    yield {
      tick,
      nowMs,
      events,
      demandSet,
      measured,
      moves: out.moves,
      assignments,
      hostLoad: hostLoads(sc.hosts, demand, assignments),
      hosts: Object.fromEntries([...flags].map(([h, f]) => [h, { ...f }])),
      hot: out.hot,
      down: out.down,
      deferred: out.deferred,
      notes: out.notes,
    };
  }
}
