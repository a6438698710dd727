import type { HostModel, Move, TenantModel } from '../capacity/model.js';
import type { PublishedPlan } from '../capacity/plan-store.js';
import { table } from './output.js';

/** GET /api/v1/capacity/assignments. */
export interface AssignmentsView {
  version: number;
  mode: 'plan' | 'auto';
  frozen: boolean;
  hosts: Array<HostModel & { tenants: string[] }>;
  tenants: Array<TenantModel & { hosts: string[] }>;
}

/** GET /api/v1/capacity/plan. */
export interface PlanView {
  mode: 'plan' | 'auto';
  version: number;
  plan: PublishedPlan | null;
}

export const BAR_WIDTH = 10;

/** `[######----]  62%`; unknown load is `[??????????]   ?`. */
export function bar(ratio: number | null, width = BAR_WIDTH): string {
  if (ratio === null || !Number.isFinite(ratio)) return `[${'?'.repeat(width)}]    ?`;
  const r = Math.min(1, Math.max(0, ratio));
  const full = Math.round(r * width);
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}] ${`${Math.round(r * 100)}%`.padStart(4)}`;
}

export function hostState(h: HostModel): string {
  const s = [h.up ? 'up' : 'down'];
  if (h.draining) s.push('draining');
  else if (h.cordoned) s.push('cordoned');
  return s.join(',');
}

const pool = (h: HostModel): string =>
  h.pool === 'shared' ? 'shared' : `dedicated${h.dedicatedTo === null ? '' : `:${h.dedicatedTo}`}`;

const cores = (h: HostModel): string =>
  h.cpuCores > 0
    ? `${h.cpuCores}c/${(h.memoryBytes / 1024 ** 3).toFixed(h.memoryBytes >= 10 * 1024 ** 3 ? 0 : 1)}G`
    : '-';

/** `overseer capacity show`: one line per host with its load bars and tenants, then tenants with settings. */
export function renderAssignments(v: AssignmentsView): string {
  const lines = [
    `routing version ${v.version} · mode ${v.mode}${v.frozen ? ' · FROZEN (the planner proposes nothing)' : ''}`,
    '',
    v.hosts.length === 0
      ? 'no hosts (the collector reports none, and no settings or routes name any)'
      : table(
          ['HOST', 'STATE', 'POOL', 'SIZE', 'CPU', 'MEMORY', 'TENANTS'],
          v.hosts.map((h) => [
            h.name,
            hostState(h),
            pool(h),
            cores(h),
            bar(h.cpu),
            bar(h.memory),
            h.tenants.length === 0 ? '-' : h.tenants.join(' '),
          ]),
        ),
  ];
  const special = v.tenants.filter(
    (t) => t.pinned.length > 0 || t.dedicated > 0 || t.frozen || t.hosts.length === 0,
  );
  if (special.length > 0) {
    lines.push(
      '',
      table(
        ['TENANT', 'HOSTS', 'DEMAND', 'SETTINGS'],
        special.map((t) => [t.name, t.hosts.join(' ') || '-', demand(t), settings(t)]),
      ),
    );
  }
  return lines.join('\n');
}

function demand(t: TenantModel): string {
  if (t.demand === null) return 'unknown';
  return `${t.demand.cpu.toFixed(2)} cores, ${(t.demand.memoryBytes / 1024 ** 3).toFixed(2)} GiB`;
}

function settings(t: TenantModel & { hosts: string[] }): string {
  const s: string[] = [];
  if (t.pinned.length > 0) s.push(`pinned ${t.pinned.join(',')}`);
  if (t.dedicated > 0) s.push(`dedicated ${t.dedicated}`);
  if (t.frozen) s.push('frozen');
  if (t.hosts.length === 0) s.push('no hosts yet');
  return s.join(' · ');
}

/** One move as a diff line: `t1  h1 → h4`, `t2  + h5`, `t3  - h2`. */
export function moveLine(m: Move): string {
  if (m.from !== null && m.to !== null) return `${m.from} → ${m.to}`;
  if (m.to !== null) return `+ ${m.to}`;
  return `- ${m.from ?? '?'}`;
}

/** `overseer capacity plan`: the moves as a diff against the routing table, with the why of each. */
export function renderPlan(v: PlanView): string {
  const p = v.plan;
  if (p === null) return `no plan yet (mode ${v.mode}; the leader publishes one every capacity.interval)`;
  const status =
    p.appliedVersion !== null
      ? `applied as version ${p.appliedVersion}`
      : p.basedOn !== v.version
        ? `made on version ${p.basedOn}, the table is at ${v.version} now: a new plan comes next cycle`
        : v.mode === 'auto'
          ? 'auto mode'
          : 'not applied (plan mode: overseer capacity apply)';
  const lines = [`plan ${p.planId} on routing version ${p.basedOn}, computed ${p.computedAt} · ${status}`];
  if (p.moves.length === 0) lines.push('no moves: every tenant stays where it is');
  else
    lines.push(
      table(
        ['TENANT', 'CHANGE', 'REASON', 'WHY'],
        p.moves.map((m) => [m.tenant, moveLine(m), m.reason, m.detail]),
      ),
    );
  for (const n of p.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}
