import { sql, type Kysely } from 'kysely';

// Frozen: migrations import no application code and never change once released.

/**
 * Every statement that changes billing_hourly — ingest, the close job, an operator's manual fix —
 * notifies channel `overseer_billing_hourly` with the JSON array of the tenants it touched (or `*` when
 * that list would not fit a notification, or on TRUNCATE). NOTIFY is transactional: listeners hear it
 * only when the change commits, so a usage page cache that drops a tenant's pages on it never serves rows
 * older than the last commit it was told of.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function overseer_billing_hourly_changed() returns trigger language plpgsql as $$
    declare
      payload text;
    begin
      if tg_op = 'TRUNCATE' then
        perform pg_notify('overseer_billing_hourly', '*');
        return null;
      elsif tg_op = 'INSERT' then
        select json_agg(t order by t)::text into payload from (select distinct tenant as t from new_rows) d;
      elsif tg_op = 'UPDATE' then
        select json_agg(t order by t)::text into payload from (
          select tenant as t from new_rows union select tenant from old_rows) d;
      else
        select json_agg(t order by t)::text into payload from (select distinct tenant as t from old_rows) d;
      end if;
      if payload is null then
        return null;
      end if;
      -- A notification payload must stay under 8000 bytes.
      if octet_length(payload) > 7900 then
        payload := '*';
      end if;
      perform pg_notify('overseer_billing_hourly', payload);
      return null;
    end
    $$`.execute(db);
  // A transition table belongs to one event per trigger, hence three row-set triggers and one for TRUNCATE.
  await sql`
    create trigger billing_hourly_inserted after insert on billing_hourly
      referencing new table as new_rows
      for each statement execute function overseer_billing_hourly_changed()`.execute(db);
  await sql`
    create trigger billing_hourly_updated after update on billing_hourly
      referencing old table as old_rows new table as new_rows
      for each statement execute function overseer_billing_hourly_changed()`.execute(db);
  await sql`
    create trigger billing_hourly_deleted after delete on billing_hourly
      referencing old table as old_rows
      for each statement execute function overseer_billing_hourly_changed()`.execute(db);
  await sql`
    create trigger billing_hourly_truncated after truncate on billing_hourly
      for each statement execute function overseer_billing_hourly_changed()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['inserted', 'updated', 'deleted', 'truncated'])
    await sql`drop trigger if exists ${sql.raw(`billing_hourly_${t}`)} on billing_hourly`.execute(db);
  await sql`drop function if exists overseer_billing_hourly_changed()`.execute(db);
}
