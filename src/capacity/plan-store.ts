import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { CapacityModel, Move } from './model.js';

/** The measurements that drove a plan, for the hosts and tenants its moves touch (kept in the audit log). */
export interface PlanInputs {
  hosts: Record<
    string,
    { cpu: number | null; memory: number | null; up: boolean; cordoned: boolean; draining: boolean }
  >;
  tenants: Record<string, { demand: { cpu: number; memoryBytes: number } | null; hosts: string[] }>;
}

/** The leader's last plan, as GET /capacity/plan serves it and POST /capacity/apply applies it. */
export interface PublishedPlan {
  /** Same table and same moves → same id: `apply` names the plan the operator saw. */
  planId: string;
  /** The routing table version the plan was made on. */
  basedOn: number;
  computedAt: string;
  mode: 'plan' | 'auto';
  /** The version it became when applied (auto mode, or `apply`), else null. */
  appliedVersion: number | null;
  moves: Move[];
  inputs: PlanInputs;
  notes: string[];
}

export function planIdOf(basedOn: number, moves: readonly Move[]): string {
  const h = createHash('sha256');
  h.update(String(basedOn));
  for (const m of moves) h.update(`\n${m.tenant}\t${m.from ?? ''}\t${m.to ?? ''}\t${m.reason}`);
  return h.digest('hex').slice(0, 16);
}

/** The inputs of the hosts and tenants that `moves` touch. */
export function inputsOf(model: CapacityModel, moves: readonly Move[]): PlanInputs {
  const hostNames = new Set<string>();
  const tenantNames = new Set<string>();
  for (const m of moves) {
    tenantNames.add(m.tenant);
    if (m.from !== null) hostNames.add(m.from);
    if (m.to !== null) hostNames.add(m.to);
  }
  const inputs: PlanInputs = { hosts: {}, tenants: {} };
  for (const h of model.hosts)
    if (hostNames.has(h.name))
      inputs.hosts[h.name] = {
        cpu: h.cpu,
        memory: h.memory,
        up: h.up,
        cordoned: h.cordoned,
        draining: h.draining,
      };
  for (const t of model.tenants)
    if (tenantNames.has(t.name))
      inputs.tenants[t.name] = { demand: t.demand, hosts: model.assignments[t.name] ?? [] };
  return inputs;
}

export async function savePlan(db: Kysely<Database>, p: PublishedPlan): Promise<void> {
  const values = {
    plan_id: p.planId,
    based_on: p.basedOn,
    computed_at: new Date(p.computedAt),
    mode: p.mode,
    applied_version: p.appliedVersion,
    moves: JSON.stringify(p.moves),
    inputs: JSON.stringify(p.inputs),
    notes: JSON.stringify(p.notes),
  };
  await db
    .insertInto('capacity_plan')
    .values({ id: 1, ...values })
    .onConflict((oc) =>
      oc.column('id').doUpdateSet({
        ...values,
        // The same plan published again (plan mode, cycle after cycle) keeps an apply made meanwhile: an
        // operator's apply between this cycle's read and write must not be undone.
        applied_version: sql<string | null>`case when capacity_plan.plan_id = excluded.plan_id
          then coalesce(excluded.applied_version, capacity_plan.applied_version)
          else excluded.applied_version end`,
      }),
    )
    .execute();
}

/** Marks the plan applied, if it is still the published one. */
export async function markApplied(db: Kysely<Database>, planId: string, version: number): Promise<void> {
  await db
    .updateTable('capacity_plan')
    .set({ applied_version: version })
    .where('id', '=', 1)
    .where('plan_id', '=', planId)
    .execute();
}

export async function loadPlan(db: Kysely<Database>): Promise<PublishedPlan | undefined> {
  const r = await db.selectFrom('capacity_plan').selectAll().where('id', '=', 1).executeTakeFirst();
  if (r === undefined) return undefined;
  return {
    planId: r.plan_id,
    basedOn: Number(r.based_on),
    computedAt: new Date(r.computed_at).toISOString(),
    mode: r.mode === 'auto' ? 'auto' : 'plan',
    appliedVersion: r.applied_version === null ? null : Number(r.applied_version),
    moves: r.moves as Move[],
    inputs: r.inputs as PlanInputs,
    notes: r.notes as string[],
  };
}
