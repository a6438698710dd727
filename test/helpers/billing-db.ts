import { sql, type Kysely } from 'kysely';
import { rawPartitions } from '../../src/billing/partitions.js';
import type { Database } from '../../src/db/schema.js';

export { useMigratedDatabase, type MigratedDatabase } from './migrated-db.js';

/** Empties the billing tables; with dropPartitions, also drops every raw day partition. */
export async function resetBilling(
  db: Kysely<Database>,
  { dropPartitions = false }: { dropPartitions?: boolean } = {},
): Promise<void> {
  await sql`truncate billing_files, billing_record_keys, billing_raw, billing_hourly`.execute(db);
  if (dropPartitions)
    for (const p of await rawPartitions(db)) await sql`drop table ${sql.id(p.name)}`.execute(db);
}

/** One billing record as an NDJSON line (no newline): small valid defaults, then `over`. */
export function billingLine(over: Record<string, unknown> = {}): string {
  return JSON.stringify({
    id: 'r1',
    tenant: 't1',
    space: 's1',
    host: 'h1',
    ts: '2026-11-25T10:15:00Z',
    cpu_ms: 10,
    memory_byte_seconds: 1,
    messages: 1,
    bytes_in: 1,
    bytes_out: 1,
    ...over,
  });
}
