import { sql } from 'kysely';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useMigratedDatabase } from '../../test/helpers/migrated-db.js';
import { waitFor } from '../../test/helpers/poll.js';
import { ManualClock } from '../clock.js';
import type { HostLoad, MetricsSource } from '../collector/metrics-source.js';
import { configSchema } from '../config.js';
import { openDatabase, type OpenedDatabase } from '../db/open.js';
import { ErrorCodes, isOverseerError } from '../errors/index.js';
import { CapacityAdmin } from './admin-ops.js';
import { Capacity, LOOP_ACTOR } from './capacity.js';
import { loadPlan } from './plan-store.js';
import { loadPlannerMemory } from './planner-memory.js';
import { policyFrom } from './policy.js';
import { applyChange, readRouting } from './routing-table.js';

const logger = pino({ level: 'silent' });
const NOW = Date.parse('2026-11-25T10:30:00Z');
const INTERVAL = 10_000;

/** The collector's view, which each test sets; a stand-in for the scrape path (the e2e test runs that). */
let cpu: Record<string, number | null> = {};
let failing = false;
const source: MetricsSource = {
  kind: 'scrape',
  hosts: () =>
    failing
      ? Promise.reject(new Error('collector exploded'))
      : Promise.resolve(
          Object.entries(cpu).map(([host, c]): HostLoad => ({
            host,
            cpu: c,
            memory: c === null ? null : 0.3,
            load1: null,
            up: c !== null,
            lastScrape: null,
            labels: { host },
            source: 'scrape',
            cpuWindowSeconds: 60,
            memorySource: 'MemAvailable',
            cpuCores: 4,
            memoryBytes: 16 * 1024 ** 3,
          })),
        ),
};

describe('the capacity loop on real Postgres', () => {
  const database = useMigratedDatabase();
  let second: OpenedDatabase;
  const running: Capacity[] = [];

  const make = (mode: 'plan' | 'auto', db = database.db, clock = new ManualClock(NOW)) => {
    const registry = new Registry();
    const c = new Capacity({
      db,
      dbKind: 'postgres',
      dataDir: '/nonexistent',
      // A long interval: the tests run every cycle themselves.
      config: configSchema.parse({ capacity: { interval: '1h', mode } }).capacity,
      policy: policyFrom({}),
      source,
      clock,
      logger,
      registry,
      leaderCheckSchedule: '* * * * * *',
    });
    running.push(c);
    return { c, clock, registry };
  };

  /** Billed demand of a tenant over the last hour and a half (the default 1 h window from 09:00). */
  const bill = async (tenant: string, cores: number) =>
    database.db
      .insertInto('billing_hourly')
      .values({
        tenant,
        space: 's',
        hour: new Date('2026-11-25T10:00:00Z'),
        cpu_ms: Math.round(cores * 90 * 60_000),
        memory_byte_seconds: 1e9 * 5400,
        messages: 0,
        bytes_in: 0,
        bytes_out: 0,
        records: 1,
        first_ts: new Date('2026-11-25T10:00:00Z'),
        last_ts: new Date('2026-11-25T10:00:00Z'),
      })
      .execute();

  /** Routes each tenant to h1, h2 and h3 (version 1). */
  const onH1toH3 = (tenants: string[]) =>
    applyChange(database.db, {
      actor: 'setup',
      reason: 'setup',
      tenants,
      moves: () =>
        tenants.flatMap((t) =>
          ['h1', 'h2', 'h3'].map((h) => ({ tenant: t, from: null, to: h, reason: 'setup', detail: '' })),
        ),
      audit: { action: 'setup', subject: 'setup', detail: {} },
    });

  beforeAll(async () => {
    second = await openDatabase({ url: database.url, dataDir: '/nonexistent', logger });
  });
  afterAll(async () => {
    for (const c of running) await c.stop();
    await second?.close();
  });
  beforeEach(async () => {
    for (const c of running.splice(0)) await c.stop();
    await sql`truncate capacity_routes, capacity_routing_versions, capacity_hosts, capacity_tenants, capacity_plan, capacity_planner_memory, audit_log, billing_hourly`.execute(
      database.db,
    );
    await sql`update capacity_state set version = 0, frozen = false`.execute(database.db);
    cpu = { h1: 0.3, h2: 0.3, h3: 0.3, h4: 0.1, h5: 0.1 };
    failing = false;
  });

  it('runs on one replica only; the other takes over when it stops', async () => {
    const a = make('plan');
    const b = make('plan', second.db);
    await a.c.start();
    await b.c.start();
    expect(a.c.isLeader()).toBe(true);
    expect(b.c.isLeader()).toBe(false);
    expect(await b.c.runCycle()).toEqual({ led: false });
    expect((await a.c.runCycle()).led).toBe(true);
    expect(await a.registry.getSingleMetricAsString('overseer_capacity_leader')).toMatch(/ 1$/m);
    await a.c.stop();
    await waitFor('the second replica to lead', () => (b.c.isLeader() ? true : undefined), {
      timeoutMs: 15_000,
    });
    expect((await b.c.runCycle()).led).toBe(true);
  });

  it('plan mode publishes the plan (a billed tenant gets its hosts) and changes nothing', async () => {
    await bill('t1', 0.5);
    const { c, registry } = make('plan');
    await c.start();
    const r = await c.runCycle();
    expect(r.appliedVersion).toBeUndefined();
    expect(r.plan!.moves.map((m) => [m.tenant, m.from, m.reason])).toEqual([
      ['t1', null, 'place'],
      ['t1', null, 'place'],
      ['t1', null, 'place'],
    ]);
    expect(new Set(r.plan!.moves.map((m) => m.to)).size).toBe(3);
    const stored = await loadPlan(second.db);
    expect(stored).toMatchObject({ planId: r.plan!.planId, basedOn: 0, appliedVersion: null, mode: 'plan' });
    expect(stored!.inputs.tenants.t1).toEqual({
      demand: { cpu: expect.closeTo(0.5, 6) as number, memoryBytes: 1e9 },
      hosts: [],
    });
    expect(await readRouting(database.db)).toEqual({ version: 0, routes: {} });
    // The same plan next cycle is not proposed twice.
    await c.runCycle();
    const proposed = await registry.getSingleMetric('overseer_capacity_moves_proposed_total')!.get();
    expect(proposed.values.reduce((a, v) => a + v.value, 0)).toBe(3);
  });

  it('auto mode applies the plan as a new version, audited as the loop with the inputs', async () => {
    await bill('t1', 0.5);
    const { c, registry } = make('auto');
    await c.start();
    const r = await c.runCycle();
    expect(r.appliedVersion).toBe(1);
    expect((await readRouting(database.db)).routes.t1).toHaveLength(3);
    expect(await loadPlan(database.db)).toMatchObject({ appliedVersion: 1, mode: 'auto' });
    const audit = await database.db.selectFrom('audit_log').selectAll().execute();
    expect(audit).toMatchObject([
      {
        actor: LOOP_ACTOR,
        action: 'capacity.apply',
        detail: { mode: 'auto', version: 1, inputs: { tenants: { t1: { hosts: [] } } } },
      },
    ]);
    expect(await registry.getSingleMetricAsString('overseer_capacity_routing_version')).toMatch(/ 1$/m);
    // Nothing left to do: the next cycle keeps the version.
    const next = await c.runCycle();
    expect(next.plan!.moves).toEqual([]);
    expect((await readRouting(database.db)).version).toBe(1);
  });

  it('auto mode: a host that stays hot sheds a tenant within 2 intervals', async () => {
    for (const t of ['t1', 't2']) await bill(t, 0.6);
    await onH1toH3(['t1', 't2']);
    const { c, clock } = make('auto');
    await c.start();
    expect((await c.runCycle()).plan!.moves).toEqual([]);
    cpu.h1 = 0.95;
    const moves = [];
    for (let i = 0; i < 2 && moves.length === 0; i++) {
      clock.advance(INTERVAL);
      moves.push(...(await c.runCycle()).plan!.moves);
    }
    expect(moves.length).toBeGreaterThan(0);
    expect(moves[0]).toMatchObject({ from: 'h1', reason: 'host-hot' });
    expect(['h4', 'h5']).toContain(moves[0]!.to);
    const table = await readRouting(database.db);
    expect(table.version).toBe(2);
    expect(table.routes[moves[0]!.tenant]).not.toContain('h1');
  });

  it('plan mode: once an operator applies the plan, its moves count as made (no second shed while load lags)', async () => {
    await bill('big', 3.6);
    await bill('small', 0.6);
    await onH1toH3(['big', 'small']);
    const { c, clock } = make('plan');
    await c.start();
    cpu.h1 = 0.95;
    await c.runCycle();
    clock.advance(INTERVAL);
    const p = (await c.runCycle()).plan!;
    // big alone brings h1 (95 %) under its low watermark: 1.2 of its 4 cores.
    expect(p.moves).toMatchObject([{ tenant: 'big', from: 'h1', reason: 'host-hot' }]);
    // Not applied: the plan stands as it is, cycle after cycle.
    clock.advance(INTERVAL);
    expect((await c.runCycle()).plan!.planId).toBe(p.planId);
    const admin = new CapacityAdmin({ db: database.db, liveModel: () => c.liveModel(), metrics: c.metrics });
    await admin.applyPlan(p.planId, 'alice');
    // The measurement still says 95 % (it lags the move): the applied move is projected, nothing else goes.
    clock.advance(INTERVAL);
    expect((await c.runCycle()).plan!.moves).toEqual([]);
  });

  it('a new leader goes on from the memory of the last one: its samples, and the load of a move still settling', async () => {
    await bill('big', 3.6);
    await bill('small', 0.6);
    await onH1toH3(['big', 'small']);
    const clock = new ManualClock(NOW);
    const takeOver = async (db = database.db): Promise<Capacity> => {
      const { c } = make('auto', db, clock);
      await c.start();
      await waitFor('the new replica to lead', () => (c.isLeader() ? true : undefined), {
        timeoutMs: 15_000,
      });
      return c;
    };
    const a = await takeOver();
    expect((await a.runCycle()).plan!.moves).toEqual([]);
    // One hot sample of the two a host needs (hotSamples 2), then the leader goes away.
    cpu.h1 = 0.95;
    clock.advance(INTERVAL);
    expect((await a.runCycle()).plan!.moves).toEqual([]);
    await a.stop();

    // Afresh, b would need two more samples; with a's memory the next one is the second.
    const b = await takeOver(second.db);
    clock.advance(INTERVAL);
    const shed = (await b.runCycle()).plan!.moves;
    expect(shed).toMatchObject([{ tenant: 'big', from: 'h1', reason: 'host-hot' }]);
    await b.stop();

    // h1 still reads 95 % (the measure lags the move). Afresh, c would shed a second tenant after two
    // samples; with b's memory the settling move is projected and nothing else leaves h1.
    const c = await takeOver();
    for (let i = 0; i < 3; i++) {
      clock.advance(INTERVAL);
      expect((await c.runCycle()).plan!.moves).toEqual([]);
    }
    expect((await readRouting(database.db)).version).toBe(2);
    await c.stop();

    // The control: the same leader change without the memory does shed small too.
    await sql`truncate capacity_planner_memory`.execute(database.db);
    const d = await takeOver(second.db);
    const later = [];
    for (let i = 0; i < 3; i++) {
      clock.advance(INTERVAL);
      later.push(...(await d.runCycle()).plan!.moves);
    }
    expect(later).toMatchObject([{ tenant: 'small', from: 'h1', reason: 'host-hot' }]);
  });

  it('a memory older than the planner window keeps no host samples', async () => {
    cpu.h1 = 0.95;
    const clock = new ManualClock(NOW);
    const { c: a } = make('plan', database.db, clock);
    await a.start();
    await a.runCycle();
    await a.stop();
    const row = await database.db.selectFrom('capacity_planner_memory').selectAll().executeTakeFirstOrThrow();
    expect(Object.keys((row.state as { hosts: object }).hosts).sort()).toEqual([
      'h1',
      'h2',
      'h3',
      'h4',
      'h5',
    ]);
    expect(row.saved_at.getTime()).toBe(NOW);
    const m = await loadPlannerMemory(database.db, NOW + 3 * INTERVAL + 1, 3 * INTERVAL);
    expect(m.state.hosts).toEqual({});
    expect(
      Object.keys((await loadPlannerMemory(database.db, NOW + 3 * INTERVAL, 3 * INTERVAL)).state.hosts),
    ).toHaveLength(5);
  });

  it('auto mode leaves the table alone when an operator changed it meanwhile (stale, not failed)', async () => {
    await bill('t1', 0.5);
    const { c, registry } = make('auto');
    await c.start();
    // An admin change lands between the model read and the apply: simulated by a change the planner did not see.
    const realModel = c.liveModel.bind(c);
    c.liveModel = async () => {
      const live = await realModel();
      await applyChange(database.db, {
        actor: 'admin',
        reason: 'move',
        tenants: ['tx'],
        moves: () => [{ tenant: 'tx', from: null, to: 'h5', reason: 'admin', detail: '' }],
        audit: { action: 'capacity.move', subject: 'tenant/tx', detail: {} },
      });
      return live;
    };
    const r = await c.runCycle();
    expect(r.appliedVersion).toBeUndefined();
    expect((await readRouting(database.db)).routes).toEqual({ tx: ['h5'] });
    expect(await registry.getSingleMetricAsString('overseer_capacity_cycles_total')).toMatch(
      /result="stale"} 1/,
    );
  });

  it('a failing cycle is an error with its code, counted, and the next one runs', async () => {
    const counted: number[] = [];
    const { c, registry } = make('plan');
    (c as unknown as { deps: { countError: (n: number) => void } }).deps.countError = (n) => counted.push(n);
    await c.start();
    failing = true;
    const err = await c.runCycle().catch((e: unknown) => e);
    expect(isOverseerError(err) && err.code).toBe(ErrorCodes.CAPACITY_CYCLE_FAILED);
    expect(isOverseerError(err) && err.details.join()).toMatch(/collector exploded/);
    expect(counted).toEqual([ErrorCodes.CAPACITY_CYCLE_FAILED]);
    failing = false;
    expect((await c.runCycle()).led).toBe(true);
    expect(await registry.getSingleMetricAsString('overseer_capacity_cycles_total')).toMatch(
      /result="failed"} 1/,
    );
  });

  it('counts hosts by state', async () => {
    cpu = { h1: 0.2, h2: null };
    await database.db
      .insertInto('capacity_hosts')
      .values({ host: 'h1', cordoned: true, draining: true, updated_by: 't' })
      .execute();
    const { c, registry } = make('plan');
    await c.start();
    await c.runCycle();
    const text = await registry.getSingleMetricAsString('overseer_capacity_hosts');
    for (const [state, n] of [
      ['up', 1],
      ['down', 1],
      ['cordoned', 1],
      ['draining', 1],
      ['unknown_load', 1],
    ] as const)
      expect(text).toContain(`overseer_capacity_hosts{state="${state}"} ${n}`);
  });
});

describe('capacity config', () => {
  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    ['defaults', {}, { interval: 10_000, mode: 'plan', minHostsPerTenant: 3, demandWindow: 3_600_000 }],
    [
      'policy overrides with units',
      { policy: { cpuHighWatermark: 0.8, tenantCooldown: '1m', dedicateMemory: '64GiB' } },
      { policy: { cpuHighWatermark: 0.8, tenantCooldownMs: 60_000, dedicateMemoryBytes: 64 * 1024 ** 3 } },
    ],
    [
      'auto mode, 2 h demand window',
      { mode: 'auto', demandWindow: '2h' },
      { mode: 'auto', demandWindow: 7_200_000 },
    ],
  ])('%s', (_, capacity, want) => {
    expect(configSchema.parse({ capacity }).capacity).toMatchObject(want);
  });

  it.each([
    ['an unknown policy key', { policy: { cpuHigh: 0.8 } }],
    ['a watermark above 1', { policy: { cpuHighWatermark: 1.5 } }],
    ['an unknown mode', { mode: 'yolo' }],
  ])('refuses %s', (_, capacity) => {
    expect(configSchema.safeParse({ capacity }).success).toBe(false);
  });
});
