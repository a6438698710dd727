import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { ensureRawPartitions } from './partitions.js';
import type { BillingRecord, ParsedBatch } from './record.js';

/** Where a batch came from: the ledger key (host, name, sha256) of a file or POST body. */
export interface BatchSource {
  host: string;
  name: string;
  sha256: string;
  source: 'spool' | 'post' | 'cli';
}

export interface IngestResult {
  /** The same bytes were ingested before: nothing was added. */
  replay: boolean;
  records: number;
  accepted: number;
  /** Records whose (host, id) was already counted (earlier, or earlier in the same batch). */
  duplicates: number;
  rejected: number;
  /** Hourly rows created or added to. */
  hours: number;
}

/** Records per transaction: big enough for throughput, small enough to keep a transaction short. */
export const INGEST_CHUNK = 20_000;

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * Adds a chunk exactly once, in one statement: record keys that are new (ON CONFLICT DO NOTHING on the
 * permanent (host, id) key decides, also against a concurrent ingester: the second waits for the first's
 * commit and then finds the key), their raw rows, and their sums into billing_hourly. A row whose hour was
 * already sealed (closed_at) gets revision + 1. Returns how many records were new and how many hourly
 * rows they touched.
 */
async function addChunk(
  db: Kysely<Database>,
  records: readonly BillingRecord[],
  file: string,
  nowMs: number,
): Promise<{ accepted: number; hours: number }> {
  const col = <T>(f: (r: BillingRecord) => T): T[] => records.map(f);
  const r = await sql<{ accepted: string; hours: string }>`
    with input (host, id, tenant, space, ts, hour, cpu_ms, mem, messages, bytes_in, bytes_out) as (
      select * from unnest(
        ${col((x) => x.host)}::text[], ${col((x) => x.id)}::text[], ${col((x) => x.tenant)}::text[],
        ${col((x) => x.space)}::text[], ${col((x) => iso(x.tsMs))}::timestamptz[],
        ${col((x) => iso(x.hourMs))}::timestamptz[], ${col((x) => x.cpu_ms)}::bigint[],
        ${col((x) => x.memory_byte_seconds)}::float8[], ${col((x) => x.messages)}::bigint[],
        ${col((x) => x.bytes_in)}::bigint[], ${col((x) => x.bytes_out)}::bigint[])
    ),
    fresh_keys as (
      insert into billing_record_keys (host, id) select host, id from input
      on conflict do nothing
      returning host, id
    ),
    fresh as (
      select i.* from input i join fresh_keys k on k.host = i.host and k.id = i.id
    ),
    raw as (
      insert into billing_raw
        (host, id, tenant, space, ts, hour, cpu_ms, memory_byte_seconds, messages, bytes_in, bytes_out, file)
      select host, id, tenant, space, ts, hour, cpu_ms, mem, messages, bytes_in, bytes_out, ${file} from fresh
    ),
    sums as (
      select tenant, space, hour, sum(cpu_ms) as cpu_ms, sum(mem) as mem, sum(messages) as messages,
             sum(bytes_in) as bytes_in, sum(bytes_out) as bytes_out, count(*) as n,
             min(ts) as first_ts, max(ts) as last_ts
      from fresh group by tenant, space, hour
    ),
    up as (
      insert into billing_hourly as h
        (tenant, space, hour, cpu_ms, memory_byte_seconds, messages, bytes_in, bytes_out, records,
         first_ts, last_ts, revision, updated_at)
      select tenant, space, hour, cpu_ms, mem, messages, bytes_in, bytes_out, n, first_ts, last_ts, 0,
             ${iso(nowMs)}::timestamptz
      from sums
      on conflict (tenant, space, hour) do update set
        cpu_ms = h.cpu_ms + excluded.cpu_ms,
        memory_byte_seconds = h.memory_byte_seconds + excluded.memory_byte_seconds,
        messages = h.messages + excluded.messages,
        bytes_in = h.bytes_in + excluded.bytes_in,
        bytes_out = h.bytes_out + excluded.bytes_out,
        records = h.records + excluded.records,
        first_ts = least(h.first_ts, excluded.first_ts),
        last_ts = greatest(h.last_ts, excluded.last_ts),
        revision = h.revision + (case when h.closed_at is null then 0 else 1 end),
        updated_at = excluded.updated_at
      returning 1
    )
    select (select count(*) from fresh) as accepted, (select count(*) from up) as hours
  `.execute(db);
  const row = r.rows[0]!;
  return { accepted: Number(row.accepted), hours: Number(row.hours) };
}

/**
 * Ingests one parsed file or POST body exactly once. The ledger (host, name, sha256) recognises a replay
 * of the same bytes up front; per-record keys make every chunk idempotent, so a crash between chunks (or
 * before the ledger row) loses nothing and counts nothing twice when the batch is ingested again.
 */
export async function ingestBatch(
  db: Kysely<Database>,
  src: BatchSource,
  batch: ParsedBatch,
  nowMs: number,
  onChunk: (done: number, total: number) => void = () => undefined,
): Promise<IngestResult> {
  const seen = await db
    .selectFrom('billing_files')
    .select('records')
    .where('host', '=', src.host)
    .where('name', '=', src.name)
    .where('sha256', '=', src.sha256)
    .executeTakeFirst();
  const base = { records: batch.records.length, rejected: batch.rejected.length };
  if (seen !== undefined)
    return { ...base, replay: true, accepted: 0, duplicates: batch.records.length, hours: 0 };
  // One occurrence per key: a statement may not insert the same new key twice, and the first one wins.
  const unique = new Map<string, BillingRecord>();
  for (const r of batch.records) {
    const key = `${r.host}\u0000${r.id}`;
    if (!unique.has(key)) unique.set(key, r);
  }
  const records = [...unique.values()];
  await ensureRawPartitions(
    db,
    records.map((r) => r.hourMs),
  );
  let accepted = 0;
  let hours = 0;
  const file = `${src.host}/${src.name}`;
  for (let i = 0; i < records.length || i === 0; i += INGEST_CHUNK) {
    const chunk = records.slice(i, i + INGEST_CHUNK);
    const last = i + INGEST_CHUNK >= records.length;
    await db.transaction().execute(async (trx) => {
      const added = chunk.length > 0 ? await addChunk(trx, chunk, file, nowMs) : { accepted: 0, hours: 0 };
      accepted += added.accepted;
      hours += added.hours;
      if (last) {
        // The ledger row commits with the last chunk: the batch is done exactly when it exists.
        await trx
          .insertInto('billing_files')
          .values({
            host: src.host,
            name: src.name,
            sha256: src.sha256,
            source: src.source,
            records: batch.records.length,
            accepted,
            duplicates: batch.records.length - accepted,
            rejected: batch.rejected.length,
          })
          .onConflict((oc) => oc.doNothing())
          .execute();
      }
    });
    onChunk(Math.min(i + INGEST_CHUNK, records.length), records.length);
  }
  return { ...base, replay: false, accepted, duplicates: batch.records.length - accepted, hours };
}
