import { sql, type Kysely } from 'kysely';

// Frozen: migrations import no application code and never change once released.

export async function up(db: Kysely<any>): Promise<void> {
  // Every file (or POST body) ingested: a replay of the same bytes is recognised and adds nothing.
  await sql`
    create table billing_files (
      host text not null,
      name text not null,
      sha256 text not null,
      source text not null,
      records integer not null,
      accepted integer not null,
      duplicates integer not null,
      rejected integer not null,
      ingested_at timestamptz not null default now(),
      primary key (host, name, sha256)
    )`.execute(db);
  // The permanent identity of every record ever counted: (host, id) seen again is a duplicate, in any
  // file, any POST, any year. Kept when the raw records age out. Byte order ("C"): the index is the
  // hottest part of ingest and needs equality and locality, not linguistic order.
  await sql`
    create table billing_record_keys (
      host text collate "C" not null,
      id text collate "C" not null,
      primary key (host, id)
    )`.execute(db);
  // Raw records, one partition per UTC day of their hour, dropped after billing.rawRetention; `verify`
  // recomputes hourly rows from them.
  await sql`
    create table billing_raw (
      host text not null,
      id text not null,
      tenant text not null,
      space text not null,
      ts timestamptz not null,
      hour timestamptz not null,
      cpu_ms bigint not null,
      memory_byte_seconds double precision not null,
      messages bigint not null,
      bytes_in bigint not null,
      bytes_out bigint not null,
      file text not null,
      ingested_at timestamptz not null default now()
    ) partition by range (hour)`.execute(db);
  // Exactly one row per tenant, space and UTC hour: the sums of every counted record.
  await sql`
    create table billing_hourly (
      tenant text not null,
      space text not null,
      hour timestamptz not null,
      cpu_ms bigint not null,
      memory_byte_seconds double precision not null,
      messages bigint not null,
      bytes_in bigint not null,
      bytes_out bigint not null,
      records integer not null,
      first_ts timestamptz not null,
      last_ts timestamptz not null,
      revision integer not null default 0,
      closed_at timestamptz,
      updated_at timestamptz not null default now(),
      primary key (tenant, space, hour)
    )`.execute(db);
  await sql`create index billing_hourly_tenant_hour on billing_hourly (tenant, hour)`.execute(db);
  await sql`create index billing_hourly_open on billing_hourly (hour) where closed_at is null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table billing_hourly`.execute(db);
  await sql`drop table billing_raw`.execute(db);
  await sql`drop table billing_record_keys`.execute(db);
  await sql`drop table billing_files`.execute(db);
}
