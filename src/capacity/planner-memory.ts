import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { emptyPlannerState, parsePlannerState, type PlannerState } from './planner-state.js';

/** What a leader carries from cycle to cycle, and hands to the next leader through Postgres. */
export interface PlannerMemory {
  state: PlannerState;
  /** The outcome of the published plan had it been applied: adopted once an operator applies it. */
  pending: { planId: string; state: PlannerState } | undefined;
}

export async function savePlannerMemory(
  db: Kysely<Database>,
  memory: PlannerMemory,
  savedAtMs: number,
): Promise<void> {
  const values = {
    state: JSON.stringify(memory.state),
    pending_plan_id: memory.pending?.planId ?? null,
    pending_state: memory.pending ? JSON.stringify(memory.pending.state) : null,
    saved_at: new Date(savedAtMs),
  };
  await db
    .insertInto('capacity_planner_memory')
    .values({ id: 1, ...values })
    .onConflict((oc) => oc.column('id').doUpdateSet(values))
    .execute();
}

/**
 * The memory the last leader saved, as of `nowMs`. Host sample histories whose newest sample is older
 * than `staleAfterMs` (the planner's window) are dropped: a leader running all along would have pushed
 * them out by now, and the planner waits N fresh samples for those hosts, the safe side. Cooldowns and
 * settling moves carry their own times and expire in the planner as usual. Nothing saved, or something
 * unreadable (another version): an empty memory.
 */
export async function loadPlannerMemory(
  db: Kysely<Database>,
  nowMs: number,
  staleAfterMs: number,
): Promise<PlannerMemory> {
  const r = await db.selectFrom('capacity_planner_memory').selectAll().where('id', '=', 1).executeTakeFirst();
  if (r === undefined) return { state: emptyPlannerState(), pending: undefined };
  const state = withoutStaleHosts(parsePlannerState(r.state), nowMs, staleAfterMs);
  const pending =
    r.pending_plan_id !== null && r.pending_state !== null
      ? {
          planId: r.pending_plan_id,
          state: withoutStaleHosts(parsePlannerState(r.pending_state), nowMs, staleAfterMs),
        }
      : undefined;
  return { state, pending };
}

export function withoutStaleHosts(state: PlannerState, nowMs: number, staleAfterMs: number): PlannerState {
  const hosts: PlannerState['hosts'] = {};
  for (const [name, h] of Object.entries(state.hosts))
    if (nowMs - h.lastMs <= staleAfterMs && h.lastMs <= nowMs) hosts[name] = h;
  return { ...state, hosts };
}
