import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

const DAY_MS = 86_400_000;
const PREFIX = 'billing_raw_';
/** Any constant: serialises partition DDL between ingesters (CREATE … IF NOT EXISTS still races). */
const PARTITION_LOCK = 7_302_110_001;

/** `billing_raw_20261125` for the UTC day of `ms`. */
export function partitionName(ms: number): string {
  return `${PREFIX}${new Date(ms).toISOString().slice(0, 10).replaceAll('-', '')}`;
}

/** The raw partitions that exist, oldest first, with the UTC day each holds. */
export async function rawPartitions(db: Kysely<Database>): Promise<Array<{ name: string; dayMs: number }>> {
  const r = await sql<{ name: string }>`
    select c.relname as name from pg_inherits i
    join pg_class c on c.oid = i.inhrelid
    join pg_class p on p.oid = i.inhparent
    where p.relname = 'billing_raw'`.execute(db);
  return r.rows
    .map((x) => x.name)
    .filter((n) => /^billing_raw_\d{8}$/.test(n))
    .sort()
    .map((name) => {
      const d = name.slice(PREFIX.length);
      return {
        name,
        dayMs: Date.UTC(Number(d.slice(0, 4)), Number(d.slice(4, 6)) - 1, Number(d.slice(6, 8))),
      };
    });
}

/** Creates the day partitions these hours need (before the ingest transaction, in a short one of its own). */
export async function ensureRawPartitions(db: Kysely<Database>, hoursMs: Iterable<number>): Promise<void> {
  const days = new Set<number>();
  for (const h of hoursMs) days.add(Math.floor(h / DAY_MS) * DAY_MS);
  if (days.size === 0) return;
  const existing = new Set((await rawPartitions(db)).map((p) => p.dayMs));
  const missing = [...days].filter((d) => !existing.has(d)).sort((a, b) => a - b);
  if (missing.length === 0) return;
  await db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(${PARTITION_LOCK})`.execute(trx);
    for (const day of missing) {
      const from = new Date(day).toISOString();
      const to = new Date(day + DAY_MS).toISOString();
      await sql`create table if not exists ${sql.id(partitionName(day))} partition of billing_raw
        for values from (${sql.lit(from)}) to (${sql.lit(to)})`.execute(trx);
    }
  });
}

/** Drops the raw partitions of days that ended before `cutoffMs`; returns their names. */
export async function dropRawPartitionsBefore(db: Kysely<Database>, cutoffMs: number): Promise<string[]> {
  const old = (await rawPartitions(db)).filter((p) => p.dayMs + DAY_MS <= cutoffMs);
  for (const p of old) {
    await db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${PARTITION_LOCK})`.execute(trx);
      await sql`drop table if exists ${sql.id(p.name)}`.execute(trx);
    });
  }
  return old.map((p) => p.name);
}
