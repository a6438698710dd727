import { sql, type Kysely } from 'kysely';
import { AuditLog } from '../db/audit-log.js';
import type { Database } from '../db/schema.js';
import { ErrorCodes, OverseerError } from '../errors/index.js';
import type { Move } from './model.js';

/** The applied assignment: tenant → hosts (sorted), as of `version`. */
export interface RoutingTable {
  version: number;
  routes: Record<string, string[]>;
}

/** One change of the routing table, made in one transaction with its audit entry. */
export interface RoutingChange {
  actor: string;
  /** Why, in a word or two: `plan`, `auto`, `move`, `pin`. */
  reason: string;
  /** The tenants whose current hosts `moves` reads. */
  tenants: readonly string[];
  /** The moves, from those tenants' hosts as they are under the lock (a tenant without hosts: []). */
  moves: (current: ReadonlyMap<string, readonly string[]>) => Move[];
  /** Refused (409) unless the table is still at this version: a plan made on an older table. */
  expectVersion?: number;
  audit: { action: string; subject: string; detail: Record<string, unknown> };
}

export interface AppliedChange {
  /** The new version; equal to `previous` when the moves changed nothing (no version, no audit). */
  version: number;
  previous: number;
  moves: Move[];
}

export async function routingVersion(db: Kysely<Database>): Promise<number> {
  const r = await db
    .selectFrom('capacity_state')
    .select('version')
    .where('id', '=', 1)
    .executeTakeFirstOrThrow();
  return Number(r.version);
}

/** The whole table and its version, read in one snapshot so they always match. */
export async function readRouting(db: Kysely<Database>): Promise<RoutingTable> {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (trx) => {
      const version = await routingVersion(trx);
      // One row per tenant, not per (tenant, host): a third of the rows to decode for a fleet on 3 hosts.
      const rows = await trx
        .selectFrom('capacity_routes')
        .select(['tenant', sql<string[]>`array_agg(host order by host)`.as('hosts')])
        .groupBy('tenant')
        .orderBy('tenant')
        .execute();
      const routes: Record<string, string[]> = {};
      for (const r of rows) routes[r.tenant] = r.hosts;
      return { version, routes };
    });
}

/**
 * applyChange, refusing with CAPACITY_ROUTING_CHANGED (409) when the table changed since the moves were
 * planned (see tryApplyChange).
 */
export async function applyChange(db: Kysely<Database>, change: RoutingChange): Promise<AppliedChange> {
  const r = await tryApplyChange(db, change);
  if ('stale' in r)
    throw new OverseerError(
      ErrorCodes.CAPACITY_ROUTING_CHANGED,
      'the routing table changed since the plan was made',
      {
        status: 409,
        details: r.stale,
        hint: 'look at the new plan (overseer capacity plan) and apply that one',
      },
    );
  return r;
}

/**
 * Applies moves to the table: the state row is locked first (`for update`), so changes from any
 * replica or request run one after the other, each sees the table the previous one left, and the version
 * grows by one per change in commit order. The audit entry commits with the change or not at all.
 * A move that does not fit the table any more (its tenant left `from`, or is on `to` already) refuses
 * the whole change: it was planned on a table that has changed since.
 */
export async function tryApplyChange(
  db: Kysely<Database>,
  change: RoutingChange,
): Promise<AppliedChange | { stale: string[] }> {
  return db.transaction().execute(async (trx) => {
    const head = await trx
      .selectFrom('capacity_state')
      .select('version')
      .where('id', '=', 1)
      .forUpdate()
      .executeTakeFirstOrThrow();
    const previous = Number(head.version);
    const current = await hostsOf(trx, change.tenants);
    const moves = change.moves(current);
    const { problems: conflicts, hosts: after } = replayMoves(current, moves);
    const outdated = change.expectVersion !== undefined && change.expectVersion !== previous;
    // Nothing written yet: the transaction ends having changed nothing.
    if (conflicts.length > 0 || outdated)
      return {
        stale: [
          ...(outdated
            ? [`planned on version ${change.expectVersion}, the table is at version ${previous}`]
            : []),
          ...conflicts,
        ],
      };
    if (moves.length === 0) return { version: previous, previous, moves };
    const version = previous + 1;
    await trx.updateTable('capacity_state').set({ version }).where('id', '=', 1).execute();
    await trx
      .insertInto('capacity_routing_versions')
      .values({ version, actor: change.actor, reason: change.reason, moves: JSON.stringify(moves) })
      .execute();
    // The table after the moves in order, written as its difference from now: a host a change adds and
    // then removes again (drain to e, then shrink off e) must not be left behind.
    const removed: Array<readonly [string, string]> = [];
    const added: Array<{ tenant: string; host: string; since_version: number }> = [];
    for (const [tenant, hosts] of after) {
      const before = new Set(current.get(tenant) ?? []);
      for (const h of before) if (!hosts.has(h)) removed.push([tenant, h]);
      for (const h of hosts) if (!before.has(h)) added.push({ tenant, host: h, since_version: version });
    }
    if (removed.length > 0)
      await trx
        .deleteFrom('capacity_routes')
        .where((eb) =>
          eb(
            eb.refTuple('tenant', 'host'),
            'in',
            removed.map(([t, h]) => eb.tuple(t, h)),
          ),
        )
        .execute();
    if (added.length > 0) await trx.insertInto('capacity_routes').values(added).execute();
    await new AuditLog({ db: trx }).record(change.actor, change.audit.action, change.audit.subject, {
      ...change.audit.detail,
      version,
      previousVersion: previous,
      reason: change.reason,
      moves,
    });
    return { version, previous, moves };
  });
}

async function hostsOf(db: Kysely<Database>, tenants: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(tenants.map((t) => [t, []]));
  if (tenants.length === 0) return out;
  const rows = await db
    .selectFrom('capacity_routes')
    .select(['tenant', 'host'])
    .where('tenant', 'in', [...new Set(tenants)])
    .orderBy('tenant')
    .orderBy('host')
    .execute();
  for (const r of rows) out.get(r.tenant)!.push(r.host);
  return out;
}

/** Moves that do not fit `current` applied in order; [] when they all do. */
export function conflictsOf(
  current: ReadonlyMap<string, readonly string[]>,
  moves: readonly Move[],
): string[] {
  return replayMoves(current, moves).problems;
}

/** `moves` applied in order to `current`: the hosts of every tenant they touch, and what did not fit. */
function replayMoves(
  current: ReadonlyMap<string, readonly string[]>,
  moves: readonly Move[],
): { problems: string[]; hosts: Map<string, Set<string>> } {
  const hosts = new Map<string, Set<string>>();
  const problems: string[] = [];
  for (const m of moves) {
    let set = hosts.get(m.tenant);
    if (set === undefined) hosts.set(m.tenant, (set = new Set(current.get(m.tenant) ?? [])));
    if (m.from !== null && !set.has(m.from)) problems.push(`${m.tenant} does not run on ${m.from}`);
    if (m.to !== null && m.to !== m.from && set.has(m.to))
      problems.push(`${m.tenant} runs on ${m.to} already`);
    if (m.from !== null) set.delete(m.from);
    if (m.to !== null) set.add(m.to);
  }
  return { problems, hosts };
}
