import type { CapacityModel, Move } from './model.js';
import { grow, relieveHotHosts, shrink } from './planner-balance.js';
import { dedicate } from './planner-dedicate.js';
import { Fleet, type Unmet } from './planner-fleet.js';
import { applyPins, evacuate, keepMinHosts, place } from './planner-safety.js';
import { advanceState, MAX_RECENT_DELTAS, type PendingMove, type PlannerState } from './planner-state.js';
import type { CapacityPolicy } from './policy.js';

export { emptyPlannerState, parsePlannerState, type PlannerState } from './planner-state.js';
export type { Unmet } from './planner-fleet.js';

export interface PlanInput {
  model: CapacityModel;
  policy: CapacityPolicy;
  /** The `state` of the previous cycle's output, or `emptyPlannerState()`. */
  state: PlannerState;
  nowMs: number;
}

export interface PlanOutput {
  /** In the order to apply them; a move (both ends set) adds its target before it leaves its source. */
  moves: Move[];
  /** `model.assignments` with `moves` applied. */
  assignments: Record<string, string[]>;
  /** Feed to the next cycle (only from the cycle that really ran: a preview's state is thrown away). */
  state: PlannerState;
  /** Hosts hot (N of the last M samples above a high watermark) and down, by name. */
  hot: string[];
  down: string[];
  /** Moves wanted this cycle that the budgets held back to a later one. */
  deferred: number;
  /** What the planner wanted but could not do (at most `MAX_UNMET`; `unmetTotal` counts them all). */
  unmet: Unmet[];
  unmetTotal: number;
  /** One human line each: frozen, hot and down hosts, deferred moves, then every unmet want. */
  notes: string[];
}

/**
 * One planning cycle: a pure function of the model, the policy, the previous state and the time. The
 * phases run by urgency and share the move budgets: pins, gone and down hosts, new tenants, min hosts,
 * dedication, hot hosts, drains, growth, shrinking. A frozen model plans nothing but still records its
 * samples, so N-of-M is right the moment it thaws.
 */
export function plan(input: PlanInput): PlanOutput {
  const { model, policy, nowMs } = input;
  const state = advanceState(input.state, model, policy, nowMs);
  const fleet = new Fleet(model, policy, state, nowMs);
  if (!model.frozen) {
    applyPins(fleet);
    evacuate(fleet, 'down');
    place(fleet);
    keepMinHosts(fleet);
    // Before hot hosts: a tenant leaving for dedicated hosts is often what made them hot.
    dedicate(fleet);
    relieveHotHosts(fleet);
    evacuate(fleet, 'drain');
    grow(fleet);
    shrink(fleet);
  }
  const assignments: Record<string, string[]> = {};
  for (const [tenant, hosts] of fleet.assignment)
    if (hosts.length > 0 || Object.hasOwn(model.assignments, tenant)) assignments[tenant] = hosts;
  const views = [...fleet.hosts.values()].filter((h) => h.model !== null);
  const hot = views.filter((h) => h.hot && !h.down).map((h) => h.name);
  const down = views.filter((h) => h.down).map((h) => h.name);
  return {
    moves: fleet.moves,
    assignments,
    // Only the moves the routing table shows by the next cycle will count: see advanceState.
    state: { ...state, pending: boundedPending(fleet.pending) },
    hot: hot.sort(),
    down: down.sort(),
    deferred: fleet.deferred,
    unmet: fleet.unmet,
    unmetTotal: fleet.unmetTotal,
    notes: notesFor(model.frozen, hot, down, fleet, policy),
  };
}

/** At most `MAX_RECENT_DELTAS` deltas over all moves (a first placement of a large fleet has many). */
function boundedPending(moves: PendingMove[]): PendingMove[] {
  let left = MAX_RECENT_DELTAS;
  return moves.map((m) => {
    const deltas = m.deltas.slice(0, Math.max(0, left));
    left -= deltas.length;
    return { ...m, deltas };
  });
}

function notesFor(frozen: boolean, hot: string[], down: string[], fleet: Fleet, p: CapacityPolicy): string[] {
  const list = (names: string[]): string =>
    names.slice(0, 20).join(', ') + (names.length > 20 ? ` and ${names.length - 20} more` : '');
  const notes: string[] = [];
  if (frozen) notes.push('capacity is frozen: no moves are planned until it is unfrozen');
  if (hot.length > 0) notes.push(`hot: ${list(hot)}`);
  if (down.length > 0) notes.push(`down: ${list(down)}`);
  if (fleet.deferred > 0)
    notes.push(
      `${fleet.deferred} move(s) wait for a later cycle: budgets of ${p.maxMovesPerCycle} moves per cycle, ` +
        `${p.maxMovesPerHostPerCycle} per target host`,
    );
  for (const u of fleet.unmet) notes.push(u.detail);
  if (fleet.unmetTotal > fleet.unmet.length) notes.push(`and ${fleet.unmetTotal - fleet.unmet.length} more`);
  return notes;
}

/** `assignments` with `moves` applied in order, as the routing table (and the simulator) applies them. */
export function applyMoves(
  assignments: Record<string, string[]>,
  moves: readonly Move[],
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [t, hosts] of Object.entries(assignments)) out[t] = [...hosts];
  for (const m of moves) {
    const hosts = (out[m.tenant] ??= []);
    const at = m.from === null ? -1 : hosts.indexOf(m.from);
    if (m.to !== null && hosts.includes(m.to)) {
      if (at >= 0) hosts.splice(at, 1);
    } else if (at >= 0 && m.to !== null) hosts[at] = m.to;
    else if (at >= 0) hosts.splice(at, 1);
    else if (m.to !== null) hosts.push(m.to);
  }
  return out;
}
