import type { CapacityModel, HostModel, Move, TenantModel } from '../../src/capacity/model.js';
import { emptyPlannerState, plan, type PlanOutput } from '../../src/capacity/planner.js';
import { policyFrom, type CapacityPolicy } from '../../src/capacity/policy.js';

export const GiB = 1024 ** 3;

/** A 16-core, 64 GiB shared host, up, at 30% cpu and memory unless told otherwise. */
export function host(name: string, o: Partial<HostModel> = {}): HostModel {
  return {
    name,
    cpuCores: 16,
    memoryBytes: 64 * GiB,
    pool: 'shared',
    dedicatedTo: null,
    cordoned: false,
    draining: false,
    up: true,
    cpu: 0.3,
    memory: 0.3,
    ...o,
  };
}

/** A shared tenant using `cpu` cores and `memGiB` GiB in all. */
export function tenant(
  name: string,
  cpu: number | null = 1,
  memGiB = 2,
  o: Partial<TenantModel> = {},
): TenantModel {
  return {
    name,
    demand: cpu === null ? null : { cpu, memoryBytes: memGiB * GiB },
    pinned: [],
    dedicated: 0,
    frozen: false,
    ...o,
  };
}

export function model(
  hosts: HostModel[],
  tenants: TenantModel[],
  assignments: Record<string, string[]>,
  frozen = false,
): CapacityModel {
  return { hosts, tenants, assignments, frozen };
}

/** Policy for tests: min 2 hosts, the rest default. */
export function testPolicy(o: Partial<CapacityPolicy> = {}): CapacityPolicy {
  return policyFrom({ minHostsPerTenant: 2, ...o });
}

export const T0 = 1_800_000_000_000;
export const STEP = 10_000;

/** A cycle's output with the model it planned on. */
export type Cycle = PlanOutput & { input: CapacityModel };

/**
 * Plans `n` times, `STEP` apart, on models from `at(i)`; with `applyEach` every cycle starts from the
 * previous cycle's assignments (auto mode), else from the model's (plan mode).
 */
export function cycles(
  at: (i: number) => CapacityModel,
  policy: CapacityPolicy,
  n: number,
  applyEach = false,
): Cycle[] {
  const outs: Cycle[] = [];
  let state = emptyPlannerState();
  let assignments: Record<string, string[]> | undefined;
  for (let i = 0; i < n; i++) {
    const m = at(i);
    if (applyEach && assignments) m.assignments = assignments;
    const out = plan({ model: m, policy, state, nowMs: T0 + i * STEP });
    state = out.state;
    assignments = out.assignments;
    outs.push({ ...out, input: m });
  }
  return outs;
}

export const brief = (moves: readonly Move[]): string[] =>
  moves.map((m) => `${m.tenant}:${m.from ?? '+'}>${m.to ?? '-'}:${m.reason}`);

/**
 * Four 16-core shared hosts at 30%. t1 (4 cores) on a+b: 12.5% of a host each; t2 (2 cores) on a+c:
 * 6.25%; t3 (8 cores) on a+d: 25%.
 */
export function fleet(
  o: {
    hosts?: Partial<Record<string, Partial<HostModel>>>;
    extraHosts?: HostModel[];
    tenants?: Partial<Record<string, Partial<TenantModel>>>;
    extraTenants?: TenantModel[];
    assignments?: Record<string, string[]>;
    frozen?: boolean;
  } = {},
): CapacityModel {
  const hosts = ['a', 'b', 'c', 'd'].map((n) => host(n, o.hosts?.[n] ?? {}));
  const tenants = [tenant('t1', 4), tenant('t2', 2), tenant('t3', 8)].map((t) => ({
    ...t,
    ...o.tenants?.[t.name],
  }));
  return model(
    [...hosts, ...(o.extraHosts ?? [])],
    [...tenants, ...(o.extraTenants ?? [])],
    { t1: ['a', 'b'], t2: ['a', 'c'], t3: ['a', 'd'], ...o.assignments },
    o.frozen ?? false,
  );
}

export const hotA = { a: { cpu: 0.95 } };

/** One table row of planner tests. */
export interface PlanCase {
  name: string;
  /** Model of cycle i (plan mode: the table is not applied between cycles unless `apply`). */
  at: (i: number) => CapacityModel;
  cycles: number;
  policy?: Partial<CapacityPolicy>;
  apply?: boolean;
  /** Moves of every cycle, in order. */
  moves: string[][];
}
