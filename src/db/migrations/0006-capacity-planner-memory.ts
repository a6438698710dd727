import { sql, type Kysely } from 'kysely';

// Frozen: migrations import no application code and never change once released.

/**
 * What the capacity leader's planner remembers between cycles (N-of-M samples per host, tenant cooldowns,
 * moves still settling, the unapplied plan's outcome), saved after every cycle so that the next leader —
 * after a failover or a restart — goes on from it instead of forgetting cooldowns and settling load.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table capacity_planner_memory (
      id smallint primary key check (id = 1),
      state jsonb not null,
      pending_plan_id text,
      pending_state jsonb,
      saved_at timestamptz not null
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table capacity_planner_memory`.execute(db);
}
