import { describe, expect, it } from 'vitest';
import { GiB, host, STEP, T0, tenant } from '../../test/helpers/capacity-model.js';
import type { CapacityModel, HostModel, TenantModel } from './model.js';
import { applyMoves, emptyPlannerState, plan, type PlanOutput } from './planner.js';
import { policyFrom, type CapacityPolicy } from './policy.js';

/** Small deterministic PRNG, so a failing seed can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a * 1664525 + 1013904223) >>> 0;
    return a / 2 ** 32;
  };
}

const LOAD_REASONS = new Set(['host-hot', 'shrink', 'undedicate']);

/** Checks one cycle's output against its input; returns every broken rule. */
function violations(
  m: CapacityModel,
  out: PlanOutput,
  p: CapacityPolicy,
  lastLoadMove: Map<string, number>,
  nowMs: number,
): string[] {
  const bad: string[] = [];
  const hosts = new Map(m.hosts.map((h) => [h.name, h]));
  const tenants = new Map(m.tenants.map((t) => [t.name, t]));
  const canonical = (a: Record<string, string[]>): string => JSON.stringify(Object.entries(a).sort());
  if (canonical(out.assignments) !== canonical(applyMoves(m.assignments, out.moves)))
    bad.push('assignments are not the input with the moves applied');
  if (m.frozen && out.moves.length > 0) bad.push('moves while frozen');
  let budgeted = 0;
  const incoming = new Map<string, number>();
  for (const mv of out.moves) {
    const t = tenants.get(mv.tenant);
    const id = `${mv.tenant} ${mv.from}>${mv.to} ${mv.reason}`;
    if (!mv.detail) bad.push(`${id}: no detail`);
    if (t?.frozen) bad.push(`${id}: tenant is frozen`);
    if (t && t.pinned.length > 0 && mv.reason !== 'pin') bad.push(`${id}: tenant is pinned`);
    const exempt = mv.reason === 'pin' || mv.reason === 'place';
    if (!exempt) budgeted++;
    if (mv.to !== null && mv.reason !== 'pin') {
      const h = hosts.get(mv.to);
      if (!h) bad.push(`${id}: no such host`);
      else {
        if (h.cordoned || h.draining || !h.up) bad.push(`${id}: target cordoned, draining or down`);
        if (!exempt) incoming.set(h.name, (incoming.get(h.name) ?? 0) + 1);
        const others = Object.entries(out.assignments).filter(
          ([x, l]) => x !== mv.tenant && l.includes(h.name),
        );
        if (
          h.pool === 'dedicated' &&
          (others.length > 0 || (h.dedicatedTo !== null && h.dedicatedTo !== mv.tenant))
        )
          bad.push(`${id}: dedicated host shared`);
      }
    }
    if (LOAD_REASONS.has(mv.reason)) {
      const last = lastLoadMove.get(mv.tenant);
      if (last !== undefined && last < nowMs && nowMs - last < p.tenantCooldownMs)
        bad.push(`${id}: within cooldown`);
    }
    if (mv.reason === 'shrink' && (out.assignments[mv.tenant]?.length ?? 0) < p.minHostsPerTenant)
      bad.push(`${id}: below min hosts`);
  }
  if (budgeted > p.maxMovesPerCycle) bad.push(`${budgeted} budgeted moves`);
  for (const [h, n] of incoming) if (n > p.maxMovesPerHostPerCycle) bad.push(`${n} moves into ${h}`);
  for (const [t, list] of Object.entries(out.assignments))
    if (new Set(list).size !== list.length) bad.push(`${t} twice on a host`);
  for (const mv of out.moves)
    if (LOAD_REASONS.has(mv.reason) || mv.reason === 'grow') lastLoadMove.set(mv.tenant, nowMs);
  return bad;
}

function randomWalk(seed: number, cyclesN: number): string[] {
  const r = rng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  const policy = policyFrom({
    minHostsPerTenant: 2,
    maxMovesPerCycle: 1 + Math.floor(r() * 8),
    maxMovesPerHostPerCycle: 1 + Math.floor(r() * 4),
    tenantCooldownMs: STEP * Math.floor(r() * 10),
    settleMs: STEP * Math.floor(r() * 10),
    dedicateCpuCores: 20,
  });
  const hosts: HostModel[] = Array.from({ length: 6 + Math.floor(r() * 10) }, (_, i) =>
    host(`h${i}`, { pool: i % 5 === 4 ? 'dedicated' : 'shared', cpu: r() * 0.9, memory: r() * 0.9 }),
  );
  const tenants: TenantModel[] = Array.from({ length: 5 + Math.floor(r() * 25) }, (_, i) =>
    tenant(`t${i}`, r() < 0.1 ? null : r() * 10, r() * 20),
  );
  let assignments: Record<string, string[]> = {};
  for (const t of tenants)
    if (r() < 0.7) assignments[t.name] = [...new Set([pick(hosts).name, pick(hosts).name])];
  let frozen = false;
  let state = emptyPlannerState();
  const lastLoadMove = new Map<string, number>();
  const problems: string[] = [];
  for (let i = 0; i < cyclesN; i++) {
    for (const h of hosts) {
      h.cpu = h.cpu === null ? r() : Math.min(1, Math.max(0, h.cpu + (r() - 0.5) * 0.2));
      h.memory = Math.min(1, Math.max(0, (h.memory ?? 0.5) + (r() - 0.5) * 0.1));
      if (r() < 0.03) h.up = !h.up;
      if (r() < 0.02) h.cordoned = !h.cordoned;
      if (r() < 0.02) h.draining = !h.draining;
      if (r() < 0.02) h.cpu = null;
    }
    for (const t of tenants) {
      if (r() < 0.05) t.demand = r() < 0.1 ? null : { cpu: r() * 30, memoryBytes: r() * 40 * GiB };
      if (r() < 0.01) t.pinned = t.pinned.length ? [] : [pick(hosts).name];
      if (r() < 0.01) t.frozen = !t.frozen;
      if (r() < 0.01) t.dedicated = t.dedicated ? 0 : 1;
    }
    if (r() < 0.02) frozen = !frozen;
    const model: CapacityModel = structuredClone({ hosts, tenants, assignments, frozen });
    const nowMs = T0 + i * STEP;
    const out = plan({ model, policy, state, nowMs });
    for (const v of violations(model, out, policy, lastLoadMove, nowMs))
      problems.push(`seed ${seed} cycle ${i}: ${v}`);
    state = JSON.parse(JSON.stringify(out.state)) as typeof state;
    assignments = out.assignments;
  }
  return problems;
}

describe('plan on random fleets', () => {
  it.each(Array.from({ length: 40 }, (_, i) => i + 1))('keeps every rule, seed %i', (seed) => {
    expect(randomWalk(seed, 80)).toEqual([]);
  });
});
