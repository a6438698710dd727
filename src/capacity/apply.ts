import { ErrorCodes, OverseerError } from '../errors/index.js';
import type { AdminDeps } from './admin-ops.js';
import { loadPlan, markApplied } from './plan-store.js';
import { applyChange, type AppliedChange } from './routing-table.js';

export type AppliedPlan = AppliedChange & { planId: string };

/**
 * Applies the published plan the operator saw (by id), or only its moves of the given reasons (a drain
 * applies its own moves in plan mode). Refused when there is no plan, another plan replaced it, or the
 * table changed since it was made.
 */
export async function applyPlan(
  deps: Pick<AdminDeps, 'db' | 'metrics'>,
  planId: string,
  actor: string,
  reasons?: readonly string[],
): Promise<AppliedPlan> {
  const p = await loadPlan(deps.db);
  if (p === undefined)
    throw new OverseerError(ErrorCodes.CAPACITY_NO_PLAN, 'no capacity plan has been made yet', {
      status: 409,
      hint: 'the leader publishes one every capacity.interval; look again in a moment (overseer capacity plan)',
    });
  if (p.planId !== planId)
    throw new OverseerError(
      ErrorCodes.CAPACITY_PLAN_STALE,
      `plan ${planId} is not the current plan (${p.planId})`,
      {
        status: 409,
        hint: 'the planner has made a newer plan; look at it (overseer capacity plan) and apply that one',
      },
    );
  const moves = reasons === undefined ? p.moves : p.moves.filter((m) => reasons.includes(m.reason));
  const r = await applyChange(deps.db, {
    actor,
    reason: 'apply',
    tenants: moves.map((m) => m.tenant),
    moves: () => moves,
    expectVersion: p.basedOn,
    audit: {
      action: 'capacity.apply',
      subject: `plan/${p.planId}`,
      detail: { planId: p.planId, mode: 'manual', ...(reasons ? { reasons } : {}), inputs: p.inputs },
    },
  });
  // Only a whole plan counts as applied: the leader then takes its moves as made (cooldowns, settling).
  if (r.version !== r.previous && reasons === undefined) await markApplied(deps.db, p.planId, r.version);
  deps.metrics.changed(r);
  return { ...r, planId: p.planId };
}
