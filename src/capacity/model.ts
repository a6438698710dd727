/**
 * What the capacity planner reads and returns. Plain, JSON-serialisable data: the planner is a pure
 * function of these, the simulator builds them from a scenario, the service builds them from the
 * collector, billing and the routing table.
 */

/** `shared` hosts take any shared tenant; `dedicated` hosts serve one tenant (or none yet). */
export type HostPool = 'shared' | 'dedicated';

export interface HostModel {
  name: string;
  cpuCores: number;
  memoryBytes: number;
  pool: HostPool;
  /** For a dedicated host: the tenant it serves, null while free. Always null on shared hosts. */
  dedicatedTo: string | null;
  /** Takes no new tenants; keeps the ones it has. */
  cordoned: boolean;
  /** Cordoned, and its tenants are moved away within the move budgets. */
  draining: boolean;
  up: boolean;
  /** Measured load ratios 0..1; null when unknown, which the planner treats as the worst case. */
  cpu: number | null;
  memory: number | null;
}

/** A tenant's demand over the estimate window, in absolute units. */
export interface TenantDemand {
  /** CPU cores in use on average. */
  cpu: number;
  memoryBytes: number;
}

export interface TenantModel {
  name: string;
  /** null when unknown: no shrinking on missing data. */
  demand: TenantDemand | null;
  /** Non-empty: the tenant runs exactly on these hosts and the planner never moves it. */
  pinned: string[];
  /** Dedicated hosts wanted (admin `dedicate <tenant> <n>`); 0 = shared, unless demand crosses the policy threshold. */
  dedicated: number;
  /** Admin `freeze --tenant`: the planner proposes no move for this tenant. */
  frozen: boolean;
}

export interface CapacityModel {
  hosts: HostModel[];
  tenants: TenantModel[];
  /** tenant → the hosts it runs on now (the applied routing table). */
  assignments: Record<string, string[]>;
  /** Admin `freeze` without a tenant: the planner proposes nothing at all. */
  frozen: boolean;
}

/**
 * One change to the assignments. `from: null` adds a host to the tenant, `to: null` removes one,
 * both set moves the tenant from one host to another.
 */
export interface Move {
  tenant: string;
  from: string | null;
  to: string | null;
  /** Machine-readable cause, e.g. `host-hot`, `host-down`, `drain`, `min-hosts`, `grow`, `shrink`, `dedicate`, `admin`. */
  reason: string;
  /** One human sentence with the numbers that drove it (shown in `plan` and kept in the audit log). */
  detail: string;
}
