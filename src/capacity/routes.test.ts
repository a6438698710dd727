import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { trace } from '@opentelemetry/api';
import type { Hono } from 'hono';
import { sql } from 'kysely';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useMigratedDatabase } from '../../test/helpers/migrated-db.js';
import { systemClock } from '../clock.js';
import type { HostLoad, MetricsSource } from '../collector/metrics-source.js';
import { configSchema } from '../config.js';
import { ErrorCodes } from '../errors/index.js';
import { createApp } from '../http/app.js';
import type { AppEnv } from '../http/env.js';
import type { Role } from '../http/roles.js';
import { TokenStore } from '../http/tokens.js';
import { Capacity } from './capacity.js';
import type { Move } from './model.js';
import { loadPlan, planIdOf, savePlan } from './plan-store.js';
import { policyFrom } from './policy.js';
import { capacityRoutes } from './routes.js';
import { applyChange, readRouting } from './routing-table.js';

const logger = pino({ level: 'silent' });

/** The collector's view: five hosts, h1 the busiest. A stand-in for the scrape path, which the e2e test runs for real. */
const loads: Record<string, { cpu: number | null; up?: boolean }> = {
  h1: { cpu: 0.9 },
  h2: { cpu: 0.2 },
  h3: { cpu: 0.3 },
  h4: { cpu: 0.1 },
  h5: { cpu: null, up: false },
};
const source: MetricsSource = {
  kind: 'scrape',
  hosts: () =>
    Promise.resolve(
      Object.entries(loads).map(([host, l]): HostLoad => ({
        host,
        cpu: l.cpu,
        memory: l.cpu === null ? null : 0.5,
        load1: null,
        up: l.up ?? true,
        lastScrape: null,
        labels: { host },
        source: 'scrape',
        cpuWindowSeconds: null,
        memorySource: null,
        cpuCores: 4,
        memoryBytes: 16e9,
      })),
    ),
};

const mv = (tenant: string, from: string | null, to: string | null, reason = 'host-hot'): Move => ({
  tenant,
  from,
  to,
  reason,
  detail: 'because',
});

interface Problem {
  code: number;
  status: number;
  errors?: string[];
}

describe('capacity routes on real Postgres', () => {
  const database = useMigratedDatabase();
  let app: Hono<AppEnv>;
  let dataDir: string;
  const tok: Record<string, string> = {};

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'capacity-routes-'));
    const tokens = new TokenStore({ db: database.db, clock: systemClock });
    for (const role of ['admin', 'operator', 'viewer', 'tenant:t1'] as Role[])
      tok[role] = (await tokens.create(role, role)).token;
    const registry = new Registry();
    // Not started: the routes need its live model and metrics, not its loop.
    const capacity = new Capacity({
      db: database.db,
      dbKind: 'postgres',
      dataDir,
      config: configSchema.parse({}).capacity,
      policy: policyFrom({}),
      source,
      clock: systemClock,
      logger,
      registry,
    });
    app = createApp({
      registry,
      logger,
      tokens,
      tracer: trace.getTracer('test'),
      readiness: { notReadyReason: () => undefined },
      routes: [capacityRoutes({ db: database.db, capacity })],
    });
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  beforeEach(async () => {
    await sql`truncate capacity_routes, capacity_routing_versions, capacity_hosts, capacity_tenants, capacity_plan, audit_log`.execute(
      database.db,
    );
    await sql`update capacity_state set version = 0, frozen = false`.execute(database.db);
    // t1 on h1 h2 h3, t2 on h2 h3 h4.
    await applyChange(database.db, {
      actor: 'setup',
      reason: 'setup',
      tenants: ['t1', 't2'],
      moves: () => [
        ...['h1', 'h2', 'h3'].map((h) => mv('t1', null, h, 'setup')),
        ...['h2', 'h3', 'h4'].map((h) => mv('t2', null, h, 'setup')),
      ],
      audit: { action: 'setup', subject: 'setup', detail: {} },
    });
  });

  const call = (p: string, who: string | undefined, init: RequestInit & { json?: unknown } = {}) => {
    const { json, ...rest } = init;
    return app.request(p, {
      ...rest,
      ...(json === undefined ? {} : { body: JSON.stringify(json) }),
      headers: {
        ...(who ? { authorization: `Bearer ${tok[who]}` } : {}),
        ...(json === undefined ? {} : { 'content-type': 'application/json' }),
        ...(rest.headers as Record<string, string> | undefined),
      },
    });
  };
  const problem = async (res: Response): Promise<Problem> => {
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    return (await res.json()) as Problem;
  };
  const audit = async () =>
    (
      await database.db
        .selectFrom('audit_log')
        .selectAll()
        .where('actor', '!=', 'setup')
        .orderBy('id')
        .execute()
    ).map((r) => ({
      actor: r.actor,
      action: r.action,
      subject: r.subject,
      detail: r.detail as Record<string, unknown>,
    }));

  describe('roles', () => {
    const routes: Array<[string, string, unknown, 'viewer' | 'operator']> = [
      ['GET', '/api/v1/capacity/assignments', undefined, 'viewer'],
      ['GET', '/api/v1/capacity/plan', undefined, 'viewer'],
      ['GET', '/api/v1/capacity/routes', undefined, 'viewer'],
      ['POST', '/api/v1/capacity/apply', { planId: 'x' }, 'operator'],
      ['POST', '/api/v1/capacity/hosts/h4/cordon', undefined, 'operator'],
      ['POST', '/api/v1/capacity/hosts/h4/uncordon', undefined, 'operator'],
      ['POST', '/api/v1/capacity/hosts/h4/drain', undefined, 'operator'],
      ['PUT', '/api/v1/capacity/hosts/h4', { pool: 'shared' }, 'operator'],
      ['PUT', '/api/v1/capacity/tenants/t1', { dedicated: 0 }, 'operator'],
      ['POST', '/api/v1/capacity/tenants/t1/move', { to: 'h4' }, 'operator'],
      ['PUT', '/api/v1/capacity/freeze', { frozen: false }, 'operator'],
    ];
    const cases = routes.flatMap(([method, p, json, need]) =>
      (['none', 'tenant:t1', 'viewer', 'operator', 'admin'] as const).map((who) => {
        const allowed = who === 'admin' || who === 'operator' || (who === 'viewer' && need === 'viewer');
        const status = who === 'none' ? 401 : allowed ? 'ok' : 403;
        return [`${method} ${p} as ${who}`, method, p, json, who, status] as const;
      }),
    );
    it.each(cases)('%s', async (_, method, p, json, who, want) => {
      const res = await call(p, who === 'none' ? undefined : who, { method, json });
      if (want === 'ok') {
        // Allowed through: answered by the route (apply of an unknown plan is the route's own 409).
        expect([200, 409]).toContain(res.status);
        if (res.status === 409) expect((await problem(res)).code).toBe(ErrorCodes.CAPACITY_NO_PLAN);
      } else {
        expect(res.status).toBe(want);
        expect((await problem(res)).code).toBe(
          want === 401 ? ErrorCodes.AUTH_TOKEN_MISSING : ErrorCodes.AUTH_FORBIDDEN,
        );
      }
    });
  });

  describe('GET /capacity/routes for gateways', () => {
    it('serves the table with its version as ETag; If-None-Match and ?since= answer 304 until it changes', async () => {
      const full = await call('/api/v1/capacity/routes', 'viewer');
      expect(full.status).toBe(200);
      expect(full.headers.get('etag')).toBe('"routes-1"');
      expect(await full.json()).toEqual({
        version: 1,
        routes: { t1: ['h1', 'h2', 'h3'], t2: ['h2', 'h3', 'h4'] },
      });

      for (const init of [
        { headers: { 'if-none-match': '"routes-1"' } },
        { headers: { 'if-none-match': 'W/"routes-1", "x"' } },
      ]) {
        const r = await call('/api/v1/capacity/routes', 'viewer', init);
        expect(r.status).toBe(304);
        expect(await r.text()).toBe('');
      }
      expect((await call('/api/v1/capacity/routes?since=1', 'viewer')).status).toBe(304);

      await call('/api/v1/capacity/tenants/t1/move', 'operator', {
        method: 'POST',
        json: { from: 'h1', to: 'h4' },
      });
      const after = await call('/api/v1/capacity/routes?since=1', 'viewer', {
        headers: { 'if-none-match': '"routes-1"' },
      });
      expect(after.status).toBe(200);
      expect(after.headers.get('etag')).toBe('"routes-2"');
      expect(await after.json()).toEqual({
        version: 2,
        routes: { t1: ['h2', 'h3', 'h4'], t2: ['h2', 'h3', 'h4'] },
      });
      // A gateway ahead of the table (a restored database) gets the table, not a 304 forever.
      expect((await call('/api/v1/capacity/routes?since=7', 'viewer')).status).toBe(200);
    });

    it.each(['abc', '-1', '1.5', '', '12345678901234567890'])(
      'since=%j is a 400 with its code',
      async (since) => {
        const res = await call(`/api/v1/capacity/routes?since=${since}`, 'viewer');
        expect(res.status).toBe(400);
        expect((await problem(res)).code).toBe(ErrorCodes.CAPACITY_SINCE_INVALID);
      },
    );
  });

  describe('hosts', () => {
    it('cordon, drain and uncordon change the model and are audited with the host load and its tenants', async () => {
      expect((await call('/api/v1/capacity/hosts/h2/cordon', 'operator', { method: 'POST' })).status).toBe(
        200,
      );
      expect((await call('/api/v1/capacity/hosts/h3/drain', 'admin', { method: 'POST' })).status).toBe(200);
      const view = (await (await call('/api/v1/capacity/assignments', 'viewer')).json()) as {
        hosts: Array<{
          name: string;
          cordoned: boolean;
          draining: boolean;
          tenants: string[];
          cpu: number | null;
        }>;
        version: number;
        mode: string;
      };
      expect(view.version).toBe(1);
      expect(view.mode).toBe('plan');
      const byName = Object.fromEntries(view.hosts.map((h) => [h.name, h]));
      expect(byName.h2).toMatchObject({ cordoned: true, draining: false, tenants: ['t1', 't2'] });
      expect(byName.h3).toMatchObject({ cordoned: true, draining: true });
      expect(byName.h5).toMatchObject({ cpu: null, tenants: [] });
      const h3Now = async () =>
        ((await (await call('/api/v1/capacity/assignments', 'viewer')).json()) as typeof view).hosts.find(
          (h) => h.name === 'h3',
        );
      // A cordon on a draining host keeps the drain going.
      expect((await call('/api/v1/capacity/hosts/h3/cordon', 'operator', { method: 'POST' })).status).toBe(
        200,
      );
      expect(await h3Now()).toMatchObject({ cordoned: true, draining: true });
      expect((await call('/api/v1/capacity/hosts/h3/uncordon', 'operator', { method: 'POST' })).status).toBe(
        200,
      );
      expect(await h3Now()).toMatchObject({ cordoned: false, draining: false });

      const entries = await audit();
      expect(entries.map((e) => [e.actor, e.action, e.subject])).toEqual([
        ['operator', 'capacity.host.cordon', 'host/h2'],
        ['admin', 'capacity.host.drain', 'host/h3'],
        ['operator', 'capacity.host.cordon', 'host/h3'],
        ['operator', 'capacity.host.uncordon', 'host/h3'],
      ]);
      expect(entries[1]!.detail).toMatchObject({
        before: { cordoned: false, draining: false },
        after: { cordoned: true, draining: true },
        inputs: { host: { cpu: 0.3, memory: 0.5, up: true }, tenants: ['t1', 't2'] },
      });
    });

    it.each([
      ['an unknown host', '/api/v1/capacity/hosts/h9/drain', 404, ErrorCodes.CAPACITY_HOST_UNKNOWN],
      [
        'a name with a space',
        '/api/v1/capacity/hosts/bad%20name/cordon',
        400,
        ErrorCodes.CAPACITY_NAME_INVALID,
      ],
      ['an unknown action', '/api/v1/capacity/hosts/h1/reboot', 404, ErrorCodes.HTTP_NOT_FOUND],
    ])('%s', async (_, p, status, code) => {
      const res = await call(p, 'operator', { method: 'POST' });
      expect(res.status).toBe(status);
      expect((await problem(res)).code).toBe(code);
      expect(await audit()).toEqual([]);
    });

    it('puts a host in the dedicated pool', async () => {
      const res = await call('/api/v1/capacity/hosts/h4', 'operator', {
        method: 'PUT',
        json: { pool: 'dedicated', dedicatedTo: 't2' },
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ host: 'h4', pool: 'dedicated', dedicatedTo: 't2' });
      expect((await audit()).map((e) => e.action)).toEqual(['capacity.host.pool']);
    });
  });

  describe('tenants', () => {
    it('pins a tenant: settings, a routing version moving it onto exactly those hosts, two audit entries', async () => {
      const res = await call('/api/v1/capacity/tenants/t1', 'operator', {
        method: 'PUT',
        json: { pinned: ['h4', 'h2', 'h4'] },
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ tenant: 't1', pinned: ['h2', 'h4'], version: 2 });
      expect((await readRouting(database.db)).routes.t1).toEqual(['h2', 'h4']);
      const entries = await audit();
      expect(entries.map((e) => e.action)).toEqual(['capacity.tenant.update', 'capacity.pin']);
      expect(entries[1]!.detail).toMatchObject({
        version: 2,
        moves: [
          { tenant: 't1', from: 'h1', to: null, reason: 'pin' },
          { tenant: 't1', from: 'h3', to: null, reason: 'pin' },
          { tenant: 't1', from: null, to: 'h4', reason: 'pin' },
        ],
        inputs: { hosts: { h1: { cpu: 0.9 }, h4: { cpu: 0.1 } } },
      });
      // A pinned tenant is not moved by hand either.
      const move = await call('/api/v1/capacity/tenants/t1/move', 'operator', {
        method: 'POST',
        json: { to: 'h3' },
      });
      expect(move.status).toBe(409);
      expect((await problem(move)).code).toBe(ErrorCodes.CAPACITY_TENANT_PINNED);
    });

    it('dedicated and frozen are settings only (no routing version); a new tenant can be set up before it runs', async () => {
      const res = await call('/api/v1/capacity/tenants/new1', 'operator', {
        method: 'PUT',
        json: { dedicated: 2, frozen: true },
      });
      expect(await res.json()).toMatchObject({
        tenant: 'new1',
        dedicated: 2,
        frozen: true,
        pinned: [],
        version: null,
      });
      const view = (await (await call('/api/v1/capacity/assignments', 'viewer')).json()) as {
        tenants: Array<{ name: string }>;
        version: number;
      };
      expect(view.version).toBe(1);
      expect(view.tenants.find((t) => t.name === 'new1')).toMatchObject({
        dedicated: 2,
        frozen: true,
        hosts: [],
      });
    });

    it.each<[string, string, unknown, number, number]>([
      ['a pin on an unknown host', 't1', { pinned: ['h1', 'nope'] }, 404, ErrorCodes.CAPACITY_HOST_UNKNOWN],
      ['a negative dedicated count', 't1', { dedicated: -1 }, 400, ErrorCodes.HTTP_BAD_REQUEST],
      ['an unknown field', 't1', { replicas: 3 }, 400, ErrorCodes.HTTP_BAD_REQUEST],
      ['a bad tenant name', 'a%2Fb', { frozen: true }, 400, ErrorCodes.CAPACITY_NAME_INVALID],
    ])('%s', async (_, t, json, status, code) => {
      const res = await call(`/api/v1/capacity/tenants/${t}`, 'operator', { method: 'PUT', json });
      expect(res.status).toBe(status);
      expect((await problem(res)).code).toBe(code);
      expect((await readRouting(database.db)).version).toBe(1);
    });
  });

  describe('move', () => {
    it('without --from takes the tenant off its most loaded host, audited with the loads', async () => {
      const res = await call('/api/v1/capacity/tenants/t1/move', 'operator', {
        method: 'POST',
        json: { to: 'h4' },
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        version: 2,
        moves: [{ tenant: 't1', from: 'h1', to: 'h4', reason: 'admin' }],
      });
      const [entry] = await audit();
      expect(entry).toMatchObject({
        actor: 'operator',
        action: 'capacity.move',
        subject: 'tenant/t1',
        detail: {
          inputs: {
            hosts: { h1: { cpu: 0.9 }, h4: { cpu: 0.1 } },
            tenants: { t1: { hosts: ['h1', 'h2', 'h3'] } },
          },
        },
      });
    });

    it.each<[string, string, unknown, number, number, RegExp?]>([
      [
        'onto a host it runs on',
        't1',
        { to: 'h2' },
        409,
        ErrorCodes.CAPACITY_MOVE_INVALID,
        /t1 runs on h2 already/,
      ],
      ['onto a down host', 't1', { to: 'h5' }, 409, ErrorCodes.CAPACITY_MOVE_INVALID, /h5 is down/],
      [
        'off a host it is not on',
        't1',
        { to: 'h4', from: 'h4' },
        409,
        ErrorCodes.CAPACITY_MOVE_INVALID,
        /does not run on h4/,
      ],
      ['onto an unknown host', 't1', { to: 'h9' }, 404, ErrorCodes.CAPACITY_HOST_UNKNOWN],
      ['an unknown tenant', 'zz', { to: 'h4' }, 404, ErrorCodes.CAPACITY_TENANT_UNKNOWN],
      ['without a destination', 't1', {}, 400, ErrorCodes.HTTP_BAD_REQUEST],
    ])('refuses a move %s', async (_, t, json, status, code, detail) => {
      const res = await call(`/api/v1/capacity/tenants/${t}/move`, 'operator', { method: 'POST', json });
      expect(res.status).toBe(status);
      const p = await problem(res);
      expect(p.code).toBe(code);
      if (detail) expect(p.errors?.join('\n')).toMatch(detail);
      expect((await readRouting(database.db)).version).toBe(1);
    });

    it('refuses a move onto a cordoned host', async () => {
      await call('/api/v1/capacity/hosts/h4/cordon', 'operator', { method: 'POST' });
      const res = await call('/api/v1/capacity/tenants/t1/move', 'operator', {
        method: 'POST',
        json: { to: 'h4' },
      });
      expect((await problem(res)).errors).toEqual(['h4 is cordoned']);
    });
  });

  describe('apply', () => {
    const publish = async (moves: Move[], basedOn = 1) => {
      const planId = planIdOf(basedOn, moves);
      await savePlan(database.db, {
        planId,
        basedOn,
        computedAt: new Date().toISOString(),
        mode: 'plan',
        appliedVersion: null,
        moves,
        inputs: {
          hosts: { h1: { cpu: 0.9, memory: 0.5, up: true, cordoned: false, draining: false } },
          tenants: {},
        },
        notes: ['hot: h1'],
      });
      return planId;
    };

    it('applies the plan the operator saw, marks it applied, audits it with the plan inputs', async () => {
      const planId = await publish([mv('t1', 'h1', 'h4')]);
      const shown = (await (await call('/api/v1/capacity/plan', 'viewer')).json()) as {
        plan: { planId: string; appliedVersion: null };
      };
      expect(shown.plan).toMatchObject({
        planId,
        appliedVersion: null,
        moves: [{ tenant: 't1' }],
        notes: ['hot: h1'],
      });
      const res = await call('/api/v1/capacity/apply', 'operator', { method: 'POST', json: { planId } });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ planId, version: 2, previous: 1 });
      expect(
        (
          (await (await call('/api/v1/capacity/plan', 'viewer')).json()) as {
            plan: { appliedVersion: number };
          }
        ).plan.appliedVersion,
      ).toBe(2);
      expect(await audit()).toMatchObject([
        {
          actor: 'operator',
          action: 'capacity.apply',
          subject: `plan/${planId}`,
          detail: { mode: 'manual', version: 2, inputs: { hosts: { h1: { cpu: 0.9 } } } },
        },
      ]);
      // Twice: the table moved on since the plan was made.
      const again = await call('/api/v1/capacity/apply', 'operator', { method: 'POST', json: { planId } });
      expect((await problem(again)).code).toBe(ErrorCodes.CAPACITY_ROUTING_CHANGED);
    });

    it('the same plan published again by the next cycle stays applied; a new plan starts unapplied', async () => {
      const planId = await publish([mv('t1', 'h1', 'h4')]);
      await call('/api/v1/capacity/apply', 'operator', { method: 'POST', json: { planId } });
      // The loop's cycle read the table before the apply and writes the same plan, unapplied, after it.
      expect(await publish([mv('t1', 'h1', 'h4')])).toBe(planId);
      expect((await loadPlan(database.db))?.appliedVersion).toBe(2);
      await publish([mv('t2', 'h1', 'h4')], 2);
      expect((await loadPlan(database.db))?.appliedVersion).toBeNull();
    });

    it('applies only the moves of the reasons asked for (a drain in plan mode)', async () => {
      const planId = await publish([mv('t1', 'h1', 'h4', 'host-hot'), mv('t2', 'h3', 'h1', 'drain')]);
      const res = await call('/api/v1/capacity/apply', 'operator', {
        method: 'POST',
        json: { planId, reasons: ['drain'] },
      });
      expect(await res.json()).toMatchObject({ moves: [{ tenant: 't2', reason: 'drain' }] });
      expect((await readRouting(database.db)).routes).toEqual({
        t1: ['h1', 'h2', 'h3'],
        t2: ['h1', 'h2', 'h4'],
      });
    });

    it.each<[string, () => Promise<string>, number]>([
      [
        'a plan that is not the current one',
        async () => (await publish([mv('t1', 'h1', 'h4')]), 'deadbeef'),
        ErrorCodes.CAPACITY_PLAN_STALE,
      ],
      [
        'a plan made on an older table',
        () => publish([mv('t1', 'h1', 'h4')], 0),
        ErrorCodes.CAPACITY_ROUTING_CHANGED,
      ],
      ['when no plan was made yet', () => Promise.resolve('x'), ErrorCodes.CAPACITY_NO_PLAN],
    ])('refuses %s with 409', async (_, planId, code) => {
      const res = await call('/api/v1/capacity/apply', 'operator', {
        method: 'POST',
        json: { planId: await planId() },
      });
      expect(res.status).toBe(409);
      expect((await problem(res)).code).toBe(code);
      expect((await readRouting(database.db)).version).toBe(1);
    });
  });

  it('freeze and unfreeze show in the model and the audit log', async () => {
    await call('/api/v1/capacity/freeze', 'operator', { method: 'PUT', json: { frozen: true } });
    const view = async () =>
      ((await (await call('/api/v1/capacity/assignments', 'viewer')).json()) as { frozen: boolean }).frozen;
    expect(await view()).toBe(true);
    await call('/api/v1/capacity/freeze', 'admin', { method: 'PUT', json: { frozen: false } });
    expect(await view()).toBe(false);
    expect((await audit()).map((e) => [e.actor, e.action])).toEqual([
      ['operator', 'capacity.freeze'],
      ['admin', 'capacity.unfreeze'],
    ]);
  });
});
