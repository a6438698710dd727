import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCodes, OverseerError } from '../errors/index.js';
import { apiFailureOf, type ApiClient } from './client.js';
import type { AssignmentsView, PlanView } from './capacity-render.js';
import type { CliContext } from './context.js';

export interface DrainOptions {
  host: string;
  timeoutMs: number;
  pollMs: number;
  json: boolean;
}

export interface DrainResult {
  host: string;
  drained: boolean;
  moved: number;
  left: string[];
  seconds: number;
}

/**
 * Marks the host draining, then follows it until no tenant is left on it or the deadline passes, one
 * progress line per poll. The planner moves the tenants away within its move budgets; in plan mode this
 * command applies the plan's drain moves itself (the operator asked for the drain), and nothing else.
 */
export async function drainHost(ctx: CliContext, client: ApiClient, o: DrainOptions): Promise<DrainResult> {
  const host = encodeURIComponent(o.host);
  await client.request('POST', `/api/v1/capacity/hosts/${host}/drain`);
  const t0 = performance.now();
  const seconds = (): number => Math.round((performance.now() - t0) / 100) / 10;
  let first: number | undefined;
  for (;;) {
    const view = await client.request<AssignmentsView>('GET', '/api/v1/capacity/assignments');
    const left = view.hosts.find((h) => h.name === o.host)?.tenants ?? [];
    first ??= left.length;
    const moved = Math.max(0, first - left.length);
    const progress = { host: o.host, left: left.length, moved, seconds: seconds() };
    ctx.output.err(
      o.json
        ? JSON.stringify(progress)
        : `${o.host}: ${left.length} tenant(s) left, ${moved} moved (${progress.seconds}s)`,
    );
    if (left.length === 0) return { host: o.host, drained: true, moved, left, seconds: seconds() };
    if (performance.now() - t0 > o.timeoutMs)
      throw new OverseerError(
        ErrorCodes.CAPACITY_DRAIN_TIMEOUT,
        `${o.host} still has ${left.length} tenant(s) after ${Math.round(o.timeoutMs / 1000)} s`,
        {
          details: [`left: ${left.join(', ')}`],
          hint: 'the host stays draining and the planner keeps moving tenants within its budgets; run drain again to follow it, or look at overseer capacity plan for why a tenant cannot move (pinned, no room)',
        },
      );
    if (view.mode === 'plan') await applyDrainMoves(client, o.host);
    await sleep(o.pollMs);
  }
}

/**
 * Applies the current plan's drain moves when it has one off `host` and is current and not applied yet (the
 * apply takes every drain move of that plan, off any draining host: they were all asked for).
 */
async function applyDrainMoves(client: ApiClient, host: string): Promise<void> {
  const { plan, version } = await client.request<PlanView>('GET', '/api/v1/capacity/plan');
  if (plan === null || plan.appliedVersion !== null || plan.basedOn !== version) return;
  if (!plan.moves.some((m) => m.reason === 'drain' && m.from === host)) return;
  // Another operator (or a second drain, or the loop's next cycle) may get there first: a 409 (no plan
  // yet, a newer plan, the table changed) and the next poll sees a new plan. Anything else (no permission,
  // the server down) is the command's failure.
  await client
    .request('POST', '/api/v1/capacity/apply', { planId: plan.planId, reasons: ['drain'] })
    .catch((err: unknown) => {
      if (apiFailureOf(err)?.status !== 409) throw err;
    });
}
