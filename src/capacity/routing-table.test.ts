import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useMigratedDatabase } from '../../test/helpers/migrated-db.js';
import { migrateToLatest } from '../db/migrate.js';
import { openDatabase, type OpenedDatabase } from '../db/open.js';
import { ErrorCodes, isOverseerError } from '../errors/index.js';
import type { Move } from './model.js';
import {
  applyChange,
  conflictsOf,
  readRouting,
  routingVersion,
  type RoutingChange,
} from './routing-table.js';

const mv = (tenant: string, from: string | null, to: string | null, reason = 'test'): Move => ({
  tenant,
  from,
  to,
  reason,
  detail: `${tenant} ${from ?? '-'}→${to ?? '-'}`,
});

describe('conflictsOf', () => {
  const current = new Map([
    ['t1', ['h1', 'h2']],
    ['t2', []],
  ]);
  it.each<[string, Move[], string[]]>([
    ['a move that fits', [mv('t1', 'h1', 'h3')], []],
    ['an add and a remove', [mv('t2', null, 'h1'), mv('t1', 'h2', null)], []],
    ['moves in sequence on one tenant', [mv('t1', 'h1', 'h3'), mv('t1', 'h3', 'h4')], []],
    ['from a host it is not on', [mv('t1', 'h9', 'h3')], ['t1 does not run on h9']],
    ['onto a host it is on', [mv('t1', 'h1', 'h2')], ['t1 runs on h2 already']],
    [
      'the second of two moves off one host',
      [mv('t1', 'h1', 'h3'), mv('t1', 'h1', 'h4')],
      ['t1 does not run on h1'],
    ],
    ['a tenant the change does not know', [mv('t3', 'h1', null)], ['t3 does not run on h1']],
  ])('%s', (_, moves, want) => {
    expect(conflictsOf(current, moves)).toEqual(want);
  });
});

describe('the routing table on real Postgres', () => {
  const database = useMigratedDatabase();
  let second: OpenedDatabase;
  const logger = pino({ level: 'silent' });

  beforeAll(async () => {
    second = await openDatabase({ url: database.url, dataDir: '/nonexistent', logger });
  });
  afterAll(async () => {
    await second?.close();
  });
  beforeEach(async () => {
    await sql`truncate capacity_routes, capacity_routing_versions, audit_log`.execute(database.db);
    await sql`update capacity_state set version = 0`.execute(database.db);
  });

  const change = (moves: Move[], over: Partial<RoutingChange> = {}): RoutingChange => ({
    actor: 'alice',
    reason: 'test',
    tenants: moves.map((m) => m.tenant),
    moves: () => moves,
    audit: { action: 'capacity.test', subject: 'test', detail: { inputs: { hosts: { h1: { cpu: 0.9 } } } } },
    ...over,
  });

  it('starts empty at version 0', async () => {
    expect(await readRouting(database.db)).toEqual({ version: 0, routes: {} });
  });

  it('applies moves as one version, with its history row and an audit entry naming who, why and the inputs', async () => {
    const r1 = await applyChange(
      database.db,
      change([mv('t1', null, 'h1'), mv('t1', null, 'h2'), mv('t2', null, 'h1')]),
    );
    expect(r1).toMatchObject({ version: 1, previous: 0 });
    const r2 = await applyChange(
      database.db,
      change([mv('t1', 'h1', 'h3')], { actor: 'bob', reason: 'move' }),
    );
    expect(r2).toMatchObject({ version: 2, previous: 1 });
    expect(await readRouting(database.db)).toEqual({ version: 2, routes: { t1: ['h2', 'h3'], t2: ['h1'] } });

    const history = await database.db
      .selectFrom('capacity_routing_versions')
      .selectAll()
      .orderBy('version')
      .execute();
    expect(history.map((h) => [Number(h.version), h.actor, h.reason])).toEqual([
      [1, 'alice', 'test'],
      [2, 'bob', 'move'],
    ]);
    const audit = await database.db.selectFrom('audit_log').selectAll().orderBy('id').execute();
    expect(audit).toHaveLength(2);
    expect(audit[1]).toMatchObject({
      actor: 'bob',
      action: 'capacity.test',
      detail: {
        version: 2,
        previousVersion: 1,
        reason: 'move',
        moves: [{ tenant: 't1', from: 'h1', to: 'h3' }],
        inputs: { hosts: { h1: { cpu: 0.9 } } },
      },
    });
  });

  it('writes the table the moves leave in order: a host added then removed in one change is gone, one removed then re-added keeps its row', async () => {
    await applyChange(database.db, change([mv('t', null, 'a'), mv('t', null, 'b'), mv('t', null, 'd')]));
    // A drain to e followed by a shrink off e (the planner makes such pairs), and b off and back on.
    await applyChange(
      database.db,
      change([mv('t', 'd', 'e'), mv('t', 'e', null), mv('t', 'b', 'c'), mv('t', 'c', 'b')]),
    );
    expect(await readRouting(database.db)).toEqual({ version: 2, routes: { t: ['a', 'b'] } });
    const rows = await database.db
      .selectFrom('capacity_routes')
      .select(['host', 'since_version'])
      .where('tenant', '=', 't')
      .orderBy('host')
      .execute();
    expect(rows.map((r) => [r.host, Number(r.since_version)])).toEqual([
      ['a', 1],
      ['b', 1],
    ]);
  });

  it('computes moves from the hosts under the lock; no moves: no version and no audit entry', async () => {
    await applyChange(database.db, change([mv('t1', null, 'h1')]));
    const seen: Array<readonly string[] | undefined> = [];
    const r = await applyChange(
      database.db,
      change([], {
        tenants: ['t1', 'tx'],
        moves: (current) => {
          seen.push(current.get('t1'), current.get('tx'));
          return [];
        },
      }),
    );
    expect(seen).toEqual([['h1'], []]);
    expect(r).toEqual({ version: 1, previous: 1, moves: [] });
    expect(await database.db.selectFrom('audit_log').select('id').execute()).toHaveLength(1);
  });

  it.each<[string, Partial<RoutingChange>, Move[], RegExp]>([
    [
      'a plan made on an older version',
      { expectVersion: 0 },
      [mv('t1', null, 'h2')],
      /planned on version 0, the table is at version 1/,
    ],
    ['a move that no longer fits', {}, [mv('t1', 'h2', 'h3')], /t1 does not run on h2/],
  ])('refuses %s with 409 and changes nothing', async (_, over, moves, detail) => {
    await applyChange(database.db, change([mv('t1', null, 'h1')]));
    const err = await applyChange(database.db, change(moves, over)).catch((e: unknown) => e);
    expect(isOverseerError(err) && err.code).toBe(ErrorCodes.CAPACITY_ROUTING_CHANGED);
    expect(isOverseerError(err) && err.status).toBe(409);
    expect(isOverseerError(err) && err.details.join('\n')).toMatch(detail);
    expect(await readRouting(database.db)).toEqual({ version: 1, routes: { t1: ['h1'] } });
    expect(await database.db.selectFrom('audit_log').select('id').execute()).toHaveLength(1);
  });

  it('two replicas applying at once: every change gets its own version, in commit order, none lost', async () => {
    const N = 20;
    // Each change adds one host to one shared tenant, so every change reads what the one before wrote.
    const results = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        applyChange(i % 2 === 0 ? database.db : second.db, {
          ...change([]),
          actor: `replica-${i % 2}`,
          tenants: ['shared'],
          moves: (current) => [
            mv('shared', null, `h${String(current.get('shared')!.length).padStart(2, '0')}`),
          ],
        }),
      ),
    );
    expect(results.map((r) => r.version).sort((a, b) => a - b)).toEqual(
      Array.from({ length: N }, (_, i) => i + 1),
    );
    for (const r of results) expect(r.version).toBe(r.previous + 1);
    const table = await readRouting(database.db);
    expect(table.version).toBe(N);
    expect(table.routes.shared).toHaveLength(N);
    // Version k added host number k − 1: each change saw exactly the versions before it.
    const rows = await database.db.selectFrom('capacity_routes').select(['host', 'since_version']).execute();
    for (const r of rows) expect(Number(r.since_version)).toBe(Number(r.host.slice(1)) + 1);
    expect(await routingVersion(second.db)).toBe(N);
  });

  it('a version seen by a reader never goes back, while writers keep writing', async () => {
    let stop = false;
    const seen: number[] = [];
    const reader = (async () => {
      while (!stop) seen.push((await readRouting(second.db)).version);
    })();
    for (let i = 0; i < 10; i++) await applyChange(database.db, change([mv(`t${i}`, null, 'h1')]));
    stop = true;
    await reader;
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]!);
    expect((await readRouting(second.db)).routes).toHaveProperty('t9', ['h1']);
  });
});

describe('the routing table on embedded PGlite (the default)', () => {
  let dir: string;
  let opened: OpenedDatabase | undefined;
  const logger = pino({ level: 'silent' });
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'capacity-pglite-'));
    opened = await openDatabase({ url: undefined, dataDir: dir, logger });
    await migrateToLatest(opened.db, logger);
  });
  afterAll(async () => {
    await opened?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies, versions and reads back the same way', async () => {
    const db = opened!.db;
    const r = await applyChange(db, {
      actor: 'alice',
      reason: 'test',
      tenants: ['t1', 't2'],
      moves: () => [mv('t1', null, 'h2'), mv('t1', null, 'h1'), mv('t2', null, 'h1')],
      audit: { action: 'capacity.test', subject: 'test', detail: {} },
    });
    expect(r.version).toBe(1);
    await applyChange(db, {
      actor: 'bob',
      reason: 'test',
      tenants: ['t1'],
      moves: () => [mv('t1', 'h2', 'h3')],
      audit: { action: 'capacity.test', subject: 'test', detail: {} },
    });
    expect(await readRouting(db)).toEqual({ version: 2, routes: { t1: ['h1', 'h3'], t2: ['h1'] } });
  });
});
