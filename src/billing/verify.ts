import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../db/schema.js';
import { rawPartitions } from './partitions.js';

const DAY_MS = 86_400_000;

export interface VerifyOptions {
  tenant?: string;
  /** Hours from this one (inclusive); everything when absent. */
  fromMs?: number;
  /** Hours before this one (exclusive). */
  toMs?: number;
  /**
   * Raw records of days that ended before this may have aged out (now − billing.rawRetention): such days
   * are not verifiable even when a partition exists, because a late record re-creates a dropped day's
   * partition holding only itself.
   */
  retainedFromMs?: number;
}

/** One measure of one hourly row that its raw records do not add up to. Values as exact text. */
export interface HourDifference {
  tenant: string;
  space: string;
  hour: string;
  /** A measure, `records`, `first_ts`, `last_ts`, or `row` when one side has no row at all. */
  field: string;
  hourly: string | null;
  raw: string | null;
}

export interface VerifyResult {
  /** (tenant, space, hour) rows compared with their raw records. */
  checked: number;
  /** Hourly rows whose raw records aged out (or never were kept): not differences, just unknowable. */
  notVerifiable: number;
  /** The hours of those rows, first and last. */
  notVerifiableHours: { from: string; to: string } | undefined;
  differences: HourDifference[];
}

/** Both sides in the same shape: every value as text, so bigint sums stay exact whatever the driver. */
interface Sums {
  tenant: string;
  space: string;
  hour_ms: string;
  cpu_ms: string;
  memory_byte_seconds: string;
  messages: string;
  bytes_in: string;
  bytes_out: string;
  records: string;
  first_ts: string;
  last_ts: string;
}

const FIELDS = [
  'cpu_ms',
  'memory_byte_seconds',
  'messages',
  'bytes_in',
  'bytes_out',
  'records',
  'first_ts',
  'last_ts',
] as const;

/**
 * Recomputes every hourly row from the raw records and reports where they differ. Day by day, over the
 * raw partitions that still exist (and are within retention): memory stays bounded by one day's rows,
 * and each raw query reads one partition. Hourly rows of other days are counted as not verifiable.
 */
export async function verifyHours(db: Kysely<Database>, opts: VerifyOptions = {}): Promise<VerifyResult> {
  const from = opts.fromMs ?? -Infinity;
  const to = opts.toMs ?? Infinity;
  const tenant = opts.tenant === undefined ? sql`` : sql`and tenant = ${opts.tenant}`;
  const range = sql.join(
    [
      sql`true`,
      ...(opts.fromMs === undefined ? [] : [sql`hour >= ${iso(opts.fromMs)}`]),
      ...(opts.toMs === undefined ? [] : [sql`hour < ${iso(opts.toMs)}`]),
    ],
    sql` and `,
  );
  const verifiable = new Set(
    (await rawPartitions(db))
      .map((p) => p.dayMs)
      .filter((d) => d + DAY_MS > (opts.retainedFromMs ?? -Infinity) && d + DAY_MS > from && d < to),
  );
  const result: VerifyResult = {
    checked: 0,
    notVerifiable: 0,
    notVerifiableHours: undefined,
    differences: [],
  };

  const perDay = await sql<{ day: string; n: string; first: string; last: string }>`
    select floor(extract(epoch from hour) / 86400)::bigint::text as day, count(*)::text as n,
           (extract(epoch from min(hour)) * 1000)::bigint::text as first,
           (extract(epoch from max(hour)) * 1000)::bigint::text as last
    from billing_hourly where ${range} ${tenant}
    group by 1 order by 1`.execute(db);
  for (const d of perDay.rows) {
    if (verifiable.has(Number(d.day) * DAY_MS)) continue;
    result.notVerifiable += Number(d.n);
    result.notVerifiableHours = {
      from: result.notVerifiableHours?.from ?? iso(Number(d.first)),
      to: iso(Number(d.last)),
    };
  }

  for (const day of [...verifiable].sort((a, b) => a - b)) {
    const dayRange = { from: iso(Math.max(day, from)), to: iso(Math.min(day + DAY_MS, to)) };
    const hourly = await sums(db, hourlySql(dayRange, tenant));
    const raw = await sums(db, rawSql(dayRange, tenant));
    for (const key of new Set([...hourly.keys(), ...raw.keys()])) {
      result.checked++;
      result.differences.push(...compare(hourly.get(key), raw.get(key)));
    }
  }
  return result;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const ms = (col: string): RawBuilder<unknown> => sql.raw(`(extract(epoch from ${col}) * 1000)::bigint::text`);
const us = (col: string): RawBuilder<unknown> =>
  sql.raw(`(extract(epoch from ${col}) * 1000000)::bigint::text`);

function hourlySql(r: { from: string; to: string }, tenant: RawBuilder<unknown>): RawBuilder<Sums> {
  return sql<Sums>`
    select tenant, space, ${ms('hour')} as hour_ms, cpu_ms::text, memory_byte_seconds::text, messages::text,
           bytes_in::text, bytes_out::text, records::text, ${us('first_ts')} as first_ts,
           ${us('last_ts')} as last_ts
    from billing_hourly where hour >= ${r.from} and hour < ${r.to} ${tenant}`;
}

function rawSql(r: { from: string; to: string }, tenant: RawBuilder<unknown>): RawBuilder<Sums> {
  return sql<Sums>`
    select tenant, space, ${ms('hour')} as hour_ms, sum(cpu_ms)::text as cpu_ms,
           sum(memory_byte_seconds)::text as memory_byte_seconds, sum(messages)::text as messages,
           sum(bytes_in)::text as bytes_in, sum(bytes_out)::text as bytes_out, count(*)::text as records,
           ${us('min(ts)')} as first_ts, ${us('max(ts)')} as last_ts
    from billing_raw where hour >= ${r.from} and hour < ${r.to} ${tenant}
    group by tenant, space, hour`;
}

async function sums(db: Kysely<Database>, query: RawBuilder<Sums>): Promise<Map<string, Sums>> {
  const rows = (await query.execute(db)).rows;
  return new Map(rows.map((r) => [`${r.tenant}\u0000${r.space}\u0000${r.hour_ms}`, r]));
}

function compare(hourly: Sums | undefined, raw: Sums | undefined): HourDifference[] {
  const row = (hourly ?? raw)!;
  const where = { tenant: row.tenant, space: row.space, hour: iso(Number(row.hour_ms)) };
  if (hourly === undefined || raw === undefined) {
    const records = (s: Sums | undefined): string | null => (s ? `${s.records} record(s)` : null);
    return [{ ...where, field: 'row', hourly: records(hourly), raw: records(raw) }];
  }
  return FIELDS.filter((f) => !same(f, hourly[f], raw[f])).map((f) => ({
    ...where,
    field: f,
    hourly: show(f, hourly[f]),
    raw: show(f, raw[f]),
  }));
}

function same(field: (typeof FIELDS)[number], a: string, b: string): boolean {
  if (field !== 'memory_byte_seconds') return BigInt(a) === BigInt(b);
  // Summed in a different order (row by row on ingest, all at once here): equal up to rounding.
  const x = Number(a);
  const y = Number(b);
  return Math.abs(x - y) <= 1e-9 * Math.max(Math.abs(x), Math.abs(y));
}

function show(field: string, v: string): string {
  return field === 'first_ts' || field === 'last_ts' ? new Date(Number(BigInt(v) / 1000n)).toISOString() : v;
}
