import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { TenantDemand } from './model.js';

const HOUR_MS = 3_600_000;

/** The billed usage of one tenant over a span of time. */
export interface BilledUsage {
  cpuMs: number;
  memoryByteSeconds: number;
}

/**
 * Where the demand window starts: the hour that holds `nowMs − windowMs`. Billing rows are hourly, so
 * the window is whole hours plus the current, partial one; it spans at least `windowMs`.
 */
export function demandWindowStart(nowMs: number, windowMs: number): number {
  return Math.floor((nowMs - windowMs) / HOUR_MS) * HOUR_MS;
}

/**
 * Average use over [fromMs, nowMs]: cpu_ms per millisecond is cores, byte·seconds per second is bytes.
 * Records still on their way (spool lag) make the last hour look lighter; the window is long enough
 * (default 1 h) for that to be a small part of it.
 */
export function demandOf(usage: BilledUsage, fromMs: number, nowMs: number): TenantDemand {
  const spanMs = Math.max(nowMs - fromMs, 1);
  return { cpu: usage.cpuMs / spanMs, memoryBytes: usage.memoryByteSeconds / (spanMs / 1000) };
}

/**
 * Demand of every tenant billed in the window, from billing_hourly (all spaces of a tenant summed).
 * A tenant with no row in the window is absent: its demand is unknown, not zero.
 */
export async function billedDemand(
  db: Kysely<Database>,
  nowMs: number,
  windowMs: number,
): Promise<Map<string, TenantDemand>> {
  const fromMs = demandWindowStart(nowMs, windowMs);
  const rows = await db
    .selectFrom('billing_hourly')
    .select([
      'tenant',
      sql<string>`sum(cpu_ms)::float8`.as('cpu_ms'),
      sql<number>`sum(memory_byte_seconds)`.as('mbs'),
    ])
    .where('hour', '>=', new Date(fromMs))
    .where('hour', '<=', new Date(nowMs))
    .groupBy('tenant')
    .execute();
  const out = new Map<string, TenantDemand>();
  for (const r of rows)
    out.set(r.tenant, demandOf({ cpuMs: Number(r.cpu_ms), memoryByteSeconds: Number(r.mbs) }, fromMs, nowMs));
  return out;
}
