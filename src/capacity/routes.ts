import type { Context, Hono } from 'hono';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { matchesIfNoneMatch } from '../billing/usage-cache.js';
import type { Database } from '../db/schema.js';
import { ErrorCodes, OverseerError } from '../errors/index.js';
import { requireRole } from '../http/auth.js';
import type { AppEnv } from '../http/env.js';
import { jsonBody } from '../http/validate.js';
import { assertName, CapacityAdmin, HOST_ACTIONS, type HostAction } from './admin-ops.js';
import type { LiveModel } from './live-model.js';
import type { CapacityMetrics } from './metrics.js';
import { loadPlan } from './plan-store.js';
import { readRouting, routingVersion } from './routing-table.js';

export interface CapacityRouteDeps {
  db: Kysely<Database>;
  capacity: {
    readonly mode: 'plan' | 'auto';
    readonly metrics: CapacityMetrics;
    liveModel(): Promise<LiveModel>;
    isLeader(): boolean;
  };
}

const name = z.string().min(1).max(253);
const tenantBody = z.strictObject({
  pinned: z.array(name).max(1000).optional(),
  dedicated: z.number().int().min(0).max(1000).optional(),
  frozen: z.boolean().optional(),
});
const moveBody = z.strictObject({ to: name, from: name.optional() });
const applyBody = z.strictObject({
  planId: z.string().min(1).max(64),
  reasons: z.array(z.string().min(1)).max(50).optional(),
});
const freezeBody = z.strictObject({ frozen: z.boolean() });
const poolBody = z.strictObject({
  pool: z.enum(['shared', 'dedicated']),
  dedicatedTo: name.nullable().optional(),
});

const etagOf = (version: number): string => `"routes-${version}"`;
const actorOf = (c: Context<AppEnv>): string => c.get('principal').name;

/** `?since=` as a version: a whole number ≥ 0, or absent. */
function sinceOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (/^\d{1,18}$/.test(text)) return Number(text);
  throw new OverseerError(
    ErrorCodes.CAPACITY_SINCE_INVALID,
    `since=${JSON.stringify(text)} is not a routing version`,
    {
      status: 400,
      hint: 'pass the version of the table you have (a whole number ≥ 0, the ETag without its quotes and prefix)',
    },
  );
}

/**
 * The capacity API under /api/v1/capacity: reads for viewer and stronger, changes for operator and
 * stronger. Every change is in the audit log (GET /api/v1/audit).
 */
export function capacityRoutes(deps: CapacityRouteDeps) {
  const admin = new CapacityAdmin({
    db: deps.db,
    liveModel: () => deps.capacity.liveModel(),
    metrics: deps.capacity.metrics,
  });
  return (api: Hono<AppEnv>): void => {
    api.get('/capacity/assignments', requireRole('viewer'), async (c) => {
      const { model, version } = await deps.capacity.liveModel();
      const onHost = new Map<string, string[]>();
      for (const [t, hosts] of Object.entries(model.assignments))
        for (const h of hosts) (onHost.get(h) ?? onHost.set(h, []).get(h)!).push(t);
      return c.json({
        version,
        mode: deps.capacity.mode,
        frozen: model.frozen,
        hosts: model.hosts.map((h) => ({ ...h, tenants: onHost.get(h.name) ?? [] })),
        tenants: model.tenants.map((t) => ({ ...t, hosts: model.assignments[t.name] ?? [] })),
      });
    });

    api.get('/capacity/plan', requireRole('viewer'), async (c) => {
      const [plan, version] = await Promise.all([loadPlan(deps.db), routingVersion(deps.db)]);
      return c.json({ mode: deps.capacity.mode, version, plan: plan ?? null });
    });

    api.post('/capacity/apply', requireRole('operator'), async (c) => {
      const body = await jsonBody(c, applyBody);
      const r = await admin.applyPlan(body.planId, actorOf(c), body.reasons);
      return c.json(r);
    });

    api.get('/capacity/routes', requireRole('viewer'), async (c) => {
      const since = sinceOf(c.req.query('since'));
      // The version alone answers the common case (nothing changed) without reading the table.
      const version = await routingVersion(deps.db);
      if (since === version || matchesIfNoneMatch(c.req.header('if-none-match'), etagOf(version)))
        return c.body(null, 304, { etag: etagOf(version) });
      const table = await readRouting(deps.db);
      c.header('etag', etagOf(table.version));
      return c.json(table);
    });

    api.post(
      `/capacity/hosts/:host/:action{${HOST_ACTIONS.join('|')}}`,
      requireRole('operator'),
      async (c) => {
        const settings = await admin.hostAction(
          c.req.param('host'),
          c.req.param('action') as HostAction,
          actorOf(c),
        );
        return c.json(settings);
      },
    );

    api.put('/capacity/hosts/:host', requireRole('operator'), async (c) => {
      const host = assertName('host', c.req.param('host'));
      const body = await jsonBody(c, poolBody);
      return c.json(await admin.setPool(host, body.pool, body.dedicatedTo ?? null, actorOf(c)));
    });

    api.put('/capacity/tenants/:t', requireRole('operator'), async (c) => {
      const tenant = assertName('tenant', c.req.param('t'));
      const body = await jsonBody(c, tenantBody);
      const r = await admin.updateTenant(tenant, body, actorOf(c));
      return c.json({ ...r.settings, version: r.routing?.version ?? null, moves: r.routing?.moves ?? [] });
    });

    api.post('/capacity/tenants/:t/move', requireRole('operator'), async (c) => {
      const tenant = assertName('tenant', c.req.param('t'));
      const body = await jsonBody(c, moveBody);
      return c.json(await admin.move(tenant, body.to, body.from, actorOf(c)));
    });

    api.put('/capacity/freeze', requireRole('operator'), async (c) => {
      const body = await jsonBody(c, freezeBody);
      await admin.setFrozen(body.frozen, actorOf(c));
      return c.json({ frozen: body.frozen });
    });
  };
}
