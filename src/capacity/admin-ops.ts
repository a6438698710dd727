import type { Kysely } from 'kysely';
import { AuditLog } from '../db/audit-log.js';
import type { Database } from '../db/schema.js';
import { ErrorCodes, OverseerError } from '../errors/index.js';
import type { LiveModel } from './live-model.js';
import type { CapacityMetrics } from './metrics.js';
import type { CapacityModel, HostModel, HostPool, Move } from './model.js';
import { applyPlan, type AppliedPlan } from './apply.js';
import { inputsOf } from './plan-store.js';
import { applyChange, type AppliedChange } from './routing-table.js';
import { CapacityStore, defaultHostSettings, type HostSettings, type TenantSettings } from './store.js';

export const HOST_ACTIONS = ['drain', 'cordon', 'uncordon'] as const;
export type HostAction = (typeof HOST_ACTIONS)[number];

export interface TenantPatch {
  pinned?: string[] | undefined;
  dedicated?: number | undefined;
  frozen?: boolean | undefined;
}

export interface AdminDeps {
  db: Kysely<Database>;
  /** The live model now (collector + billing + tables). */
  liveModel: () => Promise<LiveModel>;
  metrics: CapacityMetrics;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,252}$/;

/** Host and tenant names as they appear in labels and billing: no spaces, slashes or control characters. */
export function assertName(kind: 'host' | 'tenant', value: string): string {
  if (NAME.test(value)) return value;
  throw new OverseerError(
    ErrorCodes.CAPACITY_NAME_INVALID,
    `${JSON.stringify(value)} is not a valid ${kind} name`,
    {
      status: 400,
      hint: 'names start with a letter or digit and hold only letters, digits and . _ : - (at most 253)',
    },
  );
}

function hostIn(model: CapacityModel, host: string): HostModel {
  const h = model.hosts.find((x) => x.name === host);
  if (h !== undefined) return h;
  throw new OverseerError(ErrorCodes.CAPACITY_HOST_UNKNOWN, `no host ${host} in the capacity model`, {
    status: 404,
    hint: 'hosts are what the collector scrapes (the host label of node targets) or what the routing table names; see overseer capacity show',
  });
}

/** Why `host` cannot take `tenant` now; [] when it can. */
export function placementProblems(host: HostModel, tenant: string): string[] {
  const p: string[] = [];
  if (!host.up) p.push(`${host.name} is down (or not scraped)`);
  if (host.draining) p.push(`${host.name} is draining`);
  else if (host.cordoned) p.push(`${host.name} is cordoned`);
  if (host.pool === 'dedicated' && host.dedicatedTo !== tenant)
    p.push(
      `${host.name} is in the dedicated pool (${host.dedicatedTo === null ? 'free' : `serving ${host.dedicatedTo}`})`,
    );
  return p;
}

/** The worst load of a host, unknown counting as full: the host a move without --from takes a tenant off. */
const worst = (h: HostModel | undefined): number =>
  h === undefined || h.cpu === null || h.memory === null ? Infinity : Math.max(h.cpu, h.memory);

/**
 * The capacity admin commands behind the API: each checks its input against the live model, writes the
 * settings and/or a routing table version, and records who did it, why and the inputs in the audit log.
 */
export class CapacityAdmin {
  private readonly store: CapacityStore;

  constructor(private readonly deps: AdminDeps) {
    this.store = new CapacityStore(deps.db);
  }

  async hostAction(host: string, action: HostAction, actor: string): Promise<HostSettings> {
    const live = await this.deps.liveModel();
    const h = hostIn(live.model, assertName('host', host));
    const before = (await this.store.hosts()).find((s) => s.host === host) ?? defaultHostSettings(host);
    const after: HostSettings = {
      ...before,
      cordoned: action !== 'uncordon',
      // A cordon keeps a drain going (as the simulator has it); uncordon ends both.
      draining: action === 'drain' || (action === 'cordon' && before.draining),
    };
    await this.deps.db.transaction().execute(async (trx) => {
      await this.store.saveHost(after, actor, trx);
      await new AuditLog({ db: trx }).record(actor, `capacity.host.${action}`, `host/${host}`, {
        before,
        after,
        inputs: { host: { cpu: h.cpu, memory: h.memory, up: h.up }, tenants: tenantsOn(live.model, host) },
      });
    });
    return after;
  }

  async setPool(
    host: string,
    pool: HostPool,
    dedicatedTo: string | null,
    actor: string,
  ): Promise<HostSettings> {
    const live = await this.deps.liveModel();
    hostIn(live.model, assertName('host', host));
    if (dedicatedTo !== null) assertName('tenant', dedicatedTo);
    const before = (await this.store.hosts()).find((s) => s.host === host) ?? defaultHostSettings(host);
    const after: HostSettings = { ...before, pool, dedicatedTo: pool === 'dedicated' ? dedicatedTo : null };
    await this.deps.db.transaction().execute(async (trx) => {
      await this.store.saveHost(after, actor, trx);
      await new AuditLog({ db: trx }).record(actor, 'capacity.host.pool', `host/${host}`, {
        before,
        after,
        inputs: { tenants: tenantsOn(live.model, host) },
      });
    });
    return after;
  }

  /** Settings first; a new pin then moves the tenant onto exactly its pinned hosts (a routing version). */
  async updateTenant(
    tenant: string,
    patch: TenantPatch,
    actor: string,
  ): Promise<{ settings: TenantSettings; routing: AppliedChange | undefined }> {
    assertName('tenant', tenant);
    const live = await this.deps.liveModel();
    const pinned = patch.pinned === undefined ? undefined : [...new Set(patch.pinned)].sort();
    for (const h of pinned ?? []) hostIn(live.model, assertName('host', h));
    const before = await this.store.tenant(tenant);
    const settings: TenantSettings = {
      tenant,
      pinned: pinned ?? before.pinned,
      dedicated: patch.dedicated ?? before.dedicated,
      frozen: patch.frozen ?? before.frozen,
    };
    const t = live.model.tenants.find((x) => x.name === tenant);
    await this.deps.db.transaction().execute(async (trx) => {
      await this.store.saveTenant(settings, actor, trx);
      await new AuditLog({ db: trx }).record(actor, 'capacity.tenant.update', `tenant/${tenant}`, {
        before,
        after: settings,
        inputs: { demand: t?.demand ?? null, hosts: live.model.assignments[tenant] ?? [] },
      });
    });
    let routing: AppliedChange | undefined;
    if (pinned !== undefined && pinned.length > 0) {
      routing = await applyChange(this.deps.db, {
        actor,
        reason: 'pin',
        tenants: [tenant],
        moves: (current) => {
          const now = current.get(tenant) ?? [];
          const detail = `pinned by ${actor} to ${pinned.join(', ')}`;
          return [
            ...now
              .filter((h) => !pinned.includes(h))
              .map((h): Move => ({ tenant, from: h, to: null, reason: 'pin', detail })),
            ...pinned
              .filter((h) => !now.includes(h))
              .map((h): Move => ({ tenant, from: null, to: h, reason: 'pin', detail })),
          ];
        },
        audit: {
          action: 'capacity.pin',
          subject: `tenant/${tenant}`,
          detail: { pinned, inputs: inputsFor(live.model, tenant, pinned) },
        },
      });
      this.deps.metrics.changed(routing);
    }
    return { settings, routing };
  }

  /** Moves `tenant` to `to`: off `from`, or off its most loaded host; onto `to` alone if it runs nowhere. */
  async move(tenant: string, to: string, from: string | undefined, actor: string): Promise<AppliedChange> {
    assertName('tenant', tenant);
    const live = await this.deps.liveModel();
    const model = live.model;
    const t = model.tenants.find((x) => x.name === tenant);
    if (t === undefined)
      throw new OverseerError(
        ErrorCodes.CAPACITY_TENANT_UNKNOWN,
        `no tenant ${tenant} in the capacity model`,
        {
          status: 404,
          hint: 'tenants come from the routing table, billing (demand) or their settings (overseer capacity pin/dedicate)',
        },
      );
    if (t.pinned.length > 0)
      throw new OverseerError(
        ErrorCodes.CAPACITY_TENANT_PINNED,
        `tenant ${tenant} is pinned to ${t.pinned.join(', ')}`,
        {
          status: 409,
          hint: 'pin it to other hosts (overseer capacity pin), or unpin it first (overseer capacity unpin)',
        },
      );
    const dest = hostIn(model, assertName('host', to));
    const hosts = model.assignments[tenant] ?? [];
    const source =
      from !== undefined
        ? assertName('host', from)
        : [...hosts].sort(
            (a, b) =>
              worst(model.hosts.find((h) => h.name === b)) - worst(model.hosts.find((h) => h.name === a)),
          )[0];
    const problems = [
      ...placementProblems(dest, tenant),
      ...(hosts.includes(to) ? [`${tenant} runs on ${to} already`] : []),
      ...(source !== undefined && !hosts.includes(source) ? [`${tenant} does not run on ${source}`] : []),
    ];
    if (problems.length > 0)
      throw new OverseerError(ErrorCodes.CAPACITY_MOVE_INVALID, `cannot move ${tenant} to ${to}`, {
        status: 409,
        details: problems,
        hint: 'pick an up, uncordoned host the tenant is not on (overseer capacity show lists them)',
      });
    const move: Move = {
      tenant,
      from: source ?? null,
      to,
      reason: 'admin',
      detail: `moved by ${actor}${source === undefined ? '' : ` from ${source}`} to ${to}`,
    };
    const r = await applyChange(this.deps.db, {
      actor,
      reason: 'move',
      tenants: [tenant],
      moves: () => [move],
      audit: {
        action: 'capacity.move',
        subject: `tenant/${tenant}`,
        detail: { inputs: inputsOf(model, [move]) },
      },
    });
    this.deps.metrics.changed(r);
    return r;
  }

  async setFrozen(frozen: boolean, actor: string): Promise<void> {
    await this.deps.db.transaction().execute(async (trx) => {
      await this.store.setFrozen(frozen, trx);
      await new AuditLog({ db: trx }).record(
        actor,
        frozen ? 'capacity.freeze' : 'capacity.unfreeze',
        'capacity',
        {},
      );
    });
  }

  /** See applyPlan in apply.ts. */
  applyPlan(planId: string, actor: string, reasons?: readonly string[]): Promise<AppliedPlan> {
    return applyPlan(this.deps, planId, actor, reasons);
  }
}

function tenantsOn(model: CapacityModel, host: string): string[] {
  return Object.entries(model.assignments)
    .filter(([, hosts]) => hosts.includes(host))
    .map(([t]) => t);
}

function inputsFor(
  model: CapacityModel,
  tenant: string,
  hosts: readonly string[],
): ReturnType<typeof inputsOf> {
  const now = model.assignments[tenant] ?? [];
  const touch: Move[] = [...new Set([...now, ...hosts])].map((h) => ({
    tenant,
    from: h,
    to: null,
    reason: '',
    detail: '',
  }));
  return inputsOf(model, touch);
}
