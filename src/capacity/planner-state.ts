import { z } from 'zod';
import type { CapacityModel } from './model.js';
import type { CapacityPolicy } from './policy.js';

/** The last M samples of one host, oldest first; a sample is null where the load was unknown. */
export interface HostHistory {
  cpu: Array<number | null>;
  memory: Array<number | null>;
  up: boolean[];
  /** When the newest sample was taken. */
  lastMs: number;
}

/** Load a move put on (positive) or took off (negative) a host, as ratios of that host. */
export interface LoadDelta {
  host: string;
  cpu: number;
  memory: number;
  atMs: number;
  /**
   * The host's measured ratios when the move was decided (null: unknown). The part of the delta the
   * measure already shows is not projected again: a measure that lags (a CPU rate over minutes) gets the
   * whole delta added, one that is immediate gets none of it.
   */
  baseCpu?: number | null;
  baseMemory?: number | null;
}

/** A move the last cycle proposed: it counts (load, cooldown) only once the routing table shows it. */
export interface PendingMove {
  tenant: string;
  from: string | null;
  to: string | null;
  /** Moved for load: starts the tenant's cooldown. */
  load: boolean;
  atMs: number;
  deltas: LoadDelta[];
}

/**
 * What the planner remembers between cycles; JSON-serialisable, and bounded: M samples per host in the
 * model, tenants only while their cooldown runs, deltas only while they settle (and never more than
 * `MAX_RECENT_DELTAS`), the last cycle's moves until the next one.
 */
export interface PlannerState {
  version: 1;
  hosts: Record<string, HostHistory>;
  /** Tenant → when it last moved for load. */
  cooldowns: Record<string, number>;
  recent: LoadDelta[];
  pending: PendingMove[];
}

export const MAX_RECENT_DELTAS = 20_000;

export function emptyPlannerState(): PlannerState {
  return { version: 1, hosts: {}, cooldowns: {}, recent: [], pending: [] };
}

const sample = z.number().min(0).max(1).nullable();
const delta = z.object({
  host: z.string(),
  cpu: z.number(),
  memory: z.number(),
  atMs: z.number(),
  baseCpu: z.number().nullable().optional(),
  baseMemory: z.number().nullable().optional(),
});
const stateSchema = z.object({
  version: z.literal(1),
  hosts: z.record(
    z.string(),
    z.object({
      cpu: z.array(sample),
      memory: z.array(sample),
      up: z.array(z.boolean()),
      lastMs: z.number(),
    }),
  ),
  cooldowns: z.record(z.string(), z.number()),
  recent: z.array(delta),
  pending: z.array(
    z.object({
      tenant: z.string(),
      from: z.string().nullable(),
      to: z.string().nullable(),
      load: z.boolean(),
      atMs: z.number(),
      deltas: z.array(delta),
    }),
  ),
});

/**
 * A state read back from storage. Anything that is not a state of this version starts afresh: the
 * planner then waits N samples before it calls a host hot, which is the safe side.
 */
export function parsePlannerState(value: unknown): PlannerState {
  const r = stateSchema.safeParse(value);
  return r.success ? r.data : emptyPlannerState();
}

function pushBounded<T>(list: readonly T[] | undefined, value: T, max: number): T[] {
  const next = list ? list.slice(Math.max(0, list.length + 1 - max)) : [];
  next.push(value);
  return next;
}

const clampRatio = (v: number | null): number | null =>
  v === null || Number.isNaN(v) ? null : Math.min(1, Math.max(0, v));

/** Whether the routing table shows the move: the tenant is on `to` and no longer on `from`. */
function applied(m: PendingMove, assignments: Record<string, string[]>): boolean {
  const hosts = Object.hasOwn(assignments, m.tenant) ? assignments[m.tenant]! : [];
  return (m.to === null || hosts.includes(m.to)) && (m.from === null || !hosts.includes(m.from));
}

/**
 * The state with this cycle's samples added, the last cycle's moves confirmed against the routing table
 * (a move not applied — plan mode, a failed or overridden apply — leaves no load and no cooldown behind),
 * and everything expired dropped. A second call at the same `nowMs` (a preview next to the apply loop)
 * replaces that cycle's sample instead of adding one.
 */
export function advanceState(
  prev: PlannerState,
  model: CapacityModel,
  policy: CapacityPolicy,
  nowMs: number,
): PlannerState {
  const m = policy.windowSamples;
  const hosts: Record<string, HostHistory> = {};
  for (const h of model.hosts) {
    const old = Object.hasOwn(prev.hosts, h.name) ? prev.hosts[h.name] : undefined;
    const base = old && old.lastMs === nowMs ? dropLast(old) : old;
    hosts[h.name] = {
      cpu: pushBounded(base?.cpu, h.up ? clampRatio(h.cpu) : null, m),
      memory: pushBounded(base?.memory, h.up ? clampRatio(h.memory) : null, m),
      up: pushBounded(base?.up, h.up, m),
      lastMs: nowMs,
    };
  }
  const cooldowns: Record<string, number> = { ...prev.cooldowns };
  const recent = [...prev.recent];
  for (const p of prev.pending) {
    if (!applied(p, model.assignments)) continue;
    recent.push(...p.deltas);
    if (p.load) cooldowns[p.tenant] = Math.max(cooldowns[p.tenant] ?? 0, p.atMs);
  }
  for (const [tenant, at] of Object.entries(cooldowns))
    if (!(nowMs - at < policy.tenantCooldownMs)) delete cooldowns[tenant];
  const settling = recent.filter((d) => nowMs - d.atMs < policy.settleMs && d.atMs <= nowMs);
  return { version: 1, hosts, cooldowns, recent: settling.slice(-MAX_RECENT_DELTAS), pending: [] };
}

function dropLast(h: HostHistory): HostHistory {
  return { cpu: h.cpu.slice(0, -1), memory: h.memory.slice(0, -1), up: h.up.slice(0, -1), lastMs: h.lastMs };
}
