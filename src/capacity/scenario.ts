import { z } from 'zod';
import { ErrorCodes, OverseerError } from '../errors/index.js';
import type { HostPool, TenantDemand } from './model.js';
import { policyFrom, policyOverridesSchema, type CapacityPolicy } from './policy.js';

/**
 * The scenario of `overseer capacity simulate` (issue 8, "Simulator"): hosts, tenants, the starting
 * routing table and ticks of demand and host events. The format is a contract; docs/capacity-simulator.md
 * describes it.
 */

/** Keep one run within minutes of CPU and its output readable: a fleet the size of the planner benchmark. */
export const SCENARIO_LIMITS = { hosts: 1000, tenants: 10_000, ticks: 10_000, eventsPerTick: 1000 } as const;

export const EVENT_KINDS = ['cordon', 'uncordon', 'drain', 'down', 'up'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'must be 1–128 of A-Z a-z 0-9 . _ : -');
const amount = z.number().min(0).max(Number.MAX_SAFE_INTEGER);

const hostSchema = z.strictObject({
  name,
  cpuCores: z.number().positive().max(100_000),
  memoryBytes: z
    .number()
    .positive()
    .max(2 ** 60),
  pool: z.enum(['shared', 'dedicated']).default('shared'),
  /** Load of the host itself (system, agents): cores and bytes, as tenant demand is. */
  background: z.strictObject({ cpu: amount, memoryBytes: amount }).default({ cpu: 0, memoryBytes: 0 }),
});

const tenantSchema = z.strictObject({
  name,
  pinned: z.array(name).max(SCENARIO_LIMITS.hosts).default([]),
  dedicated: z.number().int().min(0).max(SCENARIO_LIMITS.hosts).default(0),
});

const eventSchema = z
  .strictObject(
    Object.fromEntries(EVENT_KINDS.map((k) => [k, name.optional()])) as Record<
      EventKind,
      z.ZodOptional<typeof name>
    >,
  )
  .refine(
    (e) => Object.keys(e).length === 1,
    'an event is exactly one of {"cordon"|"uncordon"|"drain"|"down"|"up": "<host>"}',
  );

const tickSchema = z.strictObject({
  tick: z.number().int().min(0),
  demand: z.record(name, z.strictObject({ cpu: amount, memoryBytes: amount })).optional(),
  events: z.array(eventSchema).max(SCENARIO_LIMITS.eventsPerTick).default([]),
});

export const scenarioSchema = z.strictObject({
  intervalSeconds: z.number().positive().max(86_400).default(10),
  policy: policyOverridesSchema.prefault({}),
  hosts: z.array(hostSchema).min(1),
  tenants: z.array(tenantSchema).default([]),
  assignments: z.record(name, z.array(name).max(SCENARIO_LIMITS.hosts)).default({}),
  ticks: z.array(tickSchema).min(1),
});

export interface ScenarioHost {
  name: string;
  cpuCores: number;
  memoryBytes: number;
  pool: HostPool;
  background: TenantDemand;
}

export interface ScenarioTenant {
  name: string;
  pinned: string[];
  dedicated: number;
}

export interface ScenarioEvent {
  kind: EventKind;
  host: string;
}

export interface ScenarioTick {
  tick: number;
  /** Only the tenants whose demand changes at this tick; the others keep theirs. */
  demand: Record<string, TenantDemand>;
  events: ScenarioEvent[];
}

/** A checked scenario: every name declared once and known, ticks in order, the policy complete. */
export interface Scenario {
  intervalSeconds: number;
  policy: CapacityPolicy;
  hosts: ScenarioHost[];
  tenants: ScenarioTenant[];
  assignments: Record<string, string[]>;
  ticks: ScenarioTick[];
}

/** `hosts[2].cpuCores`: where a problem is, as a JSON path. */
export function jsonPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '$';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (typeof p === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(p)) out += `.${p}`;
    else out += `[${JSON.stringify(String(p))}]`;
  }
  return out;
}

function fail(
  code: (typeof ErrorCodes)[keyof typeof ErrorCodes],
  message: string,
  problems: string[],
  hint: string,
): never {
  const shown = problems.slice(0, 50);
  if (problems.length > shown.length) shown.push(`and ${problems.length - shown.length} more`);
  throw new OverseerError(code, message, { exitCode: 2, details: shown, hint });
}

const HINT = 'docs/capacity-simulator.md describes the format; test/fixtures/capacity/ has examples';

/** Sizes are checked on the raw JSON, before the schema: a huge scenario costs no more than reading it. */
function sizeProblems(json: unknown): string[] {
  if (typeof json !== 'object' || json === null) return [];
  const o = json as Record<string, unknown>;
  const problems: string[] = [];
  const count = (key: 'hosts' | 'tenants', max: number): void => {
    const v = o[key];
    if (Array.isArray(v) && v.length > max) problems.push(`$.${key}: ${v.length} ${key}, at most ${max}`);
  };
  count('hosts', SCENARIO_LIMITS.hosts);
  count('tenants', SCENARIO_LIMITS.tenants);
  const ticks = o.ticks;
  if (Array.isArray(ticks)) {
    if (ticks.length > SCENARIO_LIMITS.ticks)
      problems.push(`$.ticks: ${ticks.length} ticks, at most ${SCENARIO_LIMITS.ticks}`);
    ticks.forEach((t: unknown, i) => {
      const n = typeof t === 'object' && t !== null ? (t as { tick?: unknown }).tick : undefined;
      if (typeof n === 'number' && n >= SCENARIO_LIMITS.ticks)
        problems.push(`$.ticks[${i}].tick: ${n}; ticks run from 0 to at most ${SCENARIO_LIMITS.ticks - 1}`);
    });
  }
  return problems;
}

type Parsed = z.output<typeof scenarioSchema>;

/** Names declared once, every name used declared, ticks strictly increasing. */
function consistencyProblems(s: Parsed): string[] {
  const problems: string[] = [];
  const hosts = new Set<string>();
  const tenants = new Set<string>();
  s.hosts.forEach((h, i) => {
    if (hosts.has(h.name)) problems.push(`$.hosts[${i}].name: host ${h.name} is declared twice`);
    hosts.add(h.name);
  });
  s.tenants.forEach((t, i) => {
    if (tenants.has(t.name)) problems.push(`$.tenants[${i}].name: tenant ${t.name} is declared twice`);
    tenants.add(t.name);
  });
  const host = (where: ReadonlyArray<PropertyKey>, h: string): void => {
    if (!hosts.has(h)) problems.push(`${jsonPath(where)}: no host ${h} in $.hosts`);
  };
  const tenant = (where: ReadonlyArray<PropertyKey>, t: string): void => {
    if (!tenants.has(t)) problems.push(`${jsonPath(where)}: no tenant ${t} in $.tenants`);
  };
  s.tenants.forEach((t, i) => t.pinned.forEach((h, j) => host(['tenants', i, 'pinned', j], h)));
  for (const [t, list] of Object.entries(s.assignments)) {
    tenant(['assignments', t], t);
    list.forEach((h, j) => host(['assignments', t, j], h));
    if (new Set(list).size !== list.length)
      problems.push(`${jsonPath(['assignments', t])}: names a host twice`);
  }
  s.ticks.forEach((tk, i) => {
    const prev = s.ticks[i - 1];
    if (prev !== undefined && tk.tick <= prev.tick)
      problems.push(
        `$.ticks[${i}].tick: ${tk.tick} after ${prev.tick}; ticks must be listed in increasing order`,
      );
    for (const t of Object.keys(tk.demand ?? {})) tenant(['ticks', i, 'demand', t], t);
    tk.events.forEach((e, j) => {
      for (const [kind, h] of Object.entries(e))
        if (h !== undefined) host(['ticks', i, 'events', j, kind], h);
    });
  });
  return problems;
}

function toScenario(s: Parsed, policy: CapacityPolicy): Scenario {
  return {
    intervalSeconds: s.intervalSeconds,
    policy,
    hosts: s.hosts.map((h) => ({ ...h, background: { ...h.background } })),
    tenants: s.tenants,
    assignments: s.assignments,
    ticks: s.ticks.map((t) => ({
      tick: t.tick,
      demand: t.demand ?? {},
      events: t.events.flatMap((e) =>
        EVENT_KINDS.flatMap((kind) => (e[kind] === undefined ? [] : [{ kind, host: e[kind] }])),
      ),
    })),
  };
}

/**
 * Reads a scenario from JSON text. Each stage reports every problem it finds at once, naming its JSON
 * path: syntax (101820), sizes (101821), the schema (101803), names and tick order (101822), then the
 * policy as a whole (101801, from policyFrom).
 */
export function parseScenario(text: string, source: string): Scenario {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    fail(ErrorCodes.CAPACITY_SCENARIO_NOT_JSON, `${source} is not JSON`, [(e as Error).message], HINT);
  }
  const sizes = sizeProblems(json);
  if (sizes.length > 0)
    fail(
      ErrorCodes.CAPACITY_SCENARIO_TOO_LARGE,
      `${source} is larger than a simulation may be`,
      sizes,
      `at most ${SCENARIO_LIMITS.hosts} hosts, ${SCENARIO_LIMITS.tenants} tenants and ticks 0–${SCENARIO_LIMITS.ticks - 1}; split the scenario`,
    );
  const r = scenarioSchema.safeParse(json);
  if (!r.success)
    fail(
      ErrorCodes.CAPACITY_SCENARIO_INVALID,
      `${source} is not a valid capacity scenario`,
      r.error.issues.map((i) => `${jsonPath(i.path)}: ${i.message}`),
      HINT,
    );
  const problems = consistencyProblems(r.data);
  if (problems.length > 0)
    fail(
      ErrorCodes.CAPACITY_SCENARIO_INCONSISTENT,
      `${source} names hosts or tenants it does not declare, or lists ticks out of order`,
      problems,
      'declare every host and tenant once in $.hosts and $.tenants, and list ticks by increasing "tick"',
    );
  return toScenario(r.data, policyFrom(r.data.policy));
}
