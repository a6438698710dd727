import { sql, type Kysely } from 'kysely';

// Frozen: migrations import no application code and never change once released.

export async function up(db: Kysely<any>): Promise<void> {
  // What operators set on a host (admin commands); a host without a row is shared and schedulable.
  await sql`
    create table capacity_hosts (
      host text primary key,
      pool text not null default 'shared' check (pool in ('shared', 'dedicated')),
      dedicated_to text,
      cordoned boolean not null default false,
      draining boolean not null default false,
      updated_at timestamptz not null default now(),
      updated_by text not null
    )`.execute(db);
  // What operators set on a tenant: pinned hosts, dedicated hosts wanted, frozen.
  await sql`
    create table capacity_tenants (
      tenant text primary key,
      pinned jsonb not null default '[]'::jsonb,
      dedicated integer not null default 0 check (dedicated >= 0),
      frozen boolean not null default false,
      updated_at timestamptz not null default now(),
      updated_by text not null
    )`.execute(db);
  // One row: the global freeze, and the head of the routing table. Every change of the table updates
  // this row in its transaction, so the row lock orders changes from any replica and the version commits
  // in the order it grows (a sequence could commit 5 before 4, and a gateway would skip 4).
  await sql`
    create table capacity_state (
      id smallint primary key check (id = 1),
      version bigint not null,
      frozen boolean not null default false,
      updated_at timestamptz not null default now()
    )`.execute(db);
  await sql`insert into capacity_state (id, version) values (1, 0)`.execute(db);
  // Every routing table version: when, who, why, and the moves that made it from the one before.
  await sql`
    create table capacity_routing_versions (
      version bigint primary key,
      at timestamptz not null default now(),
      actor text not null,
      reason text not null,
      moves jsonb not null default '[]'::jsonb
    )`.execute(db);
  // The routing table as of capacity_state.version: one row per tenant and host it runs on.
  await sql`
    create table capacity_routes (
      tenant text not null,
      host text not null,
      since_version bigint not null,
      primary key (tenant, host)
    )`.execute(db);
  await sql`create index capacity_routes_host on capacity_routes (host)`.execute(db);
  // The last plan the leader computed, so every replica serves the same GET /capacity/plan.
  await sql`
    create table capacity_plan (
      id smallint primary key check (id = 1),
      plan_id text not null,
      based_on bigint not null,
      computed_at timestamptz not null,
      mode text not null,
      applied_version bigint,
      moves jsonb not null,
      inputs jsonb not null,
      notes jsonb not null default '[]'::jsonb
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table capacity_plan`.execute(db);
  await sql`drop table capacity_routes`.execute(db);
  await sql`drop table capacity_routing_versions`.execute(db);
  await sql`drop table capacity_state`.execute(db);
  await sql`drop table capacity_tenants`.execute(db);
  await sql`drop table capacity_hosts`.execute(db);
}
