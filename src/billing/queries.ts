import { sql, type Expression, type Kysely, type SelectQueryBuilder } from 'kysely';
import { z } from 'zod';
import type { Database } from '../db/schema.js';
import { billingRecordSchema, HOUR_MS, MEASURES } from './record.js';
import type { UsageKey } from './usage-cursor.js';

// The schemas here are the single source of truth of the billing API: routes validate with them and
// openapi.ts renders them, so the document cannot drift from what the server accepts and answers.

const DAY_MS = 86_400_000;
export const GRANULARITIES = ['hour', 'day', 'month'] as const;
export type Granularity = (typeof GRANULARITIES)[number];
export const DEFAULT_LIMIT = 1_000;
export const MAX_LIMIT = 10_000;
export const MAX_RANGE_DAYS = 400;

const tenantName = billingRecordSchema.shape.tenant;
const spaceName = billingRecordSchema.shape.space;
const instant = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);
const ms = (text: string): number => Date.parse(text);

export const usageQuerySchema = z
  .object({
    tenant: tenantName.describe('The tenant whose usage to read.'),
    from: instant.describe('Start, inclusive: RFC 3339 with offset, or YYYY-MM-DD (UTC midnight).'),
    to: instant.describe('End, exclusive: RFC 3339 with offset, or YYYY-MM-DD (UTC midnight).'),
    space: spaceName.optional().describe('Only this space; all spaces of the tenant when absent.'),
    granularity: z
      .enum(GRANULARITIES)
      .default('hour')
      .describe('hour: the hourly rows; day, month: their sums per UTC day or UTC month within [from, to).'),
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(MAX_LIMIT)
      .default(DEFAULT_LIMIT)
      .describe('Rows per JSON page (CSV streams every row and ignores it).'),
    cursor: z.string().optional().describe('nextCursor of the previous page, unchanged.'),
    format: z.enum(['json', 'csv']).optional().describe('csv: the same as Accept: text/csv.'),
  })
  .refine((q) => !(ms(q.from) >= ms(q.to)), { message: 'must be after from', path: ['to'] })
  .refine((q) => !(ms(q.to) - ms(q.from) > MAX_RANGE_DAYS * DAY_MS), {
    message: `at most ${MAX_RANGE_DAYS} days after from`,
    path: ['to'],
  });
export type UsageQuery = z.output<typeof usageQuerySchema>;

export const summaryParamsSchema = z.object({ t: tenantName.describe('The tenant.') });
export const summaryQuerySchema = z.object({
  month: z
    .string()
    .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a UTC month like 2026-11')
    .optional()
    .describe('YYYY-MM (UTC); the current month when absent.'),
});

/** The answer to POST /billing/records. */
export const postResultSchema = z.object({
  accepted: z.number().int().describe('Records counted now.'),
  duplicates: z
    .number()
    .int()
    .describe('Records whose (host, id) was counted before (all of them on a replay).'),
  rejected: z
    .array(z.object({ line: z.number().int(), reason: z.string() }))
    .describe('Lines not counted, with why; quarantined with their text.'),
  replay: z.boolean().describe('The same body was posted before: nothing was added.'),
});
export type PostResult = z.output<typeof postResultSchema>;

const timestamp = z.iso.datetime();
const whole = z.number().int().nonnegative();
const measureShape = billingRecordSchema.pick({
  cpu_ms: true,
  memory_byte_seconds: true,
  messages: true,
  bytes_in: true,
  bytes_out: true,
}).shape;

export const usageRowSchema = z.object({
  tenant: z.string(),
  space: z.string(),
  hour: timestamp.describe('Start of the hour, UTC day or UTC month.'),
  ...measureShape,
  records: whole.describe('Records summed into the row.'),
  first_ts: timestamp,
  last_ts: timestamp,
  revision: whole.describe('Times a late record restated a closed hour (day, month: the highest).'),
  final: z.boolean().describe('The hour is closed (day, month: every hour in it is).'),
});
export type UsageRow = z.output<typeof usageRowSchema>;
/** CSV columns, in order: a contract (first_ts and last_ts are JSON only). */
export const CSV_COLUMNS = ['tenant', 'space', 'hour', ...MEASURES, 'records', 'revision', 'final'] as const;

export const usagePageSchema = z.object({
  granularity: z.enum(GRANULARITIES),
  rows: z.array(usageRowSchema),
  nextCursor: z.string().nullable().describe('Pass as cursor for the next page; null on the last page.'),
});

const totalsShape = {
  ...measureShape,
  records: whole,
  hours: whole.describe('Hours with data.'),
  finalHours: whole.describe('Hours with data that are closed (every space of the hour).'),
  revision: whole.describe('Highest revision of any hour.'),
};
export const summarySchema = z.object({
  tenant: z.string(),
  month: z.string(),
  from: timestamp,
  to: timestamp,
  hoursInMonth: whole,
  expectedFinalAt: timestamp.describe('When every hour of the month should be closed (billing.closeAfter).'),
  totals: z.object(totalsShape),
  spaces: z.array(z.object({ space: z.string(), ...totalsShape })),
});
export type TenantSummary = z.output<typeof summarySchema>;

/** What a usage page reads: one tenant, [fromMs, toMs), optionally one space. */
export interface UsageSelection {
  tenant: string;
  fromMs: number;
  toMs: number;
  space?: string | undefined;
  granularity: Granularity;
}

/**
 * A usage row as Postgres writes it: what the JSON and CSV answers need, as text, so that no Date and no
 * number is made per field. hour, first_ts and last_ts are already `Date#toISOString()` text; counters and
 * their sums are the exact integer (bigint, integer, numeric); memory_byte_seconds is float8's own text.
 */
export interface UsageTextRow {
  tenant: string;
  space: string;
  hour: string;
  cpu_ms: string;
  memory_byte_seconds: string;
  messages: string;
  bytes_in: string;
  bytes_out: string;
  records: string;
  first_ts: string;
  last_ts: string;
  revision: string;
  final: boolean;
}

/**
 * `toISOString()` of a timestamptz, made by Postgres whatever the session time zone: MS truncates the
 * microseconds as the drivers did when they made Dates of them, and YYYY is the 4 digits JS writes for a
 * year 0001–9999 — the only years ingest can store, as it sends toISOString() text, which Postgres refuses
 * for later ones (+010000-…).
 */
const isoText = (ts: Expression<unknown>) =>
  sql<string>`to_char(${ts} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const text = (e: Expression<unknown>) => sql<string>`(${e})::text`;

/** One tenant, [from, to) and maybe one space: what a page reads, and what its version (below) covers. */
const inSelection = <O>(qb: SelectQueryBuilder<Database, 'billing_hourly', O>, sel: UsageSelection) =>
  qb
    .where('tenant', '=', sel.tenant)
    .where('hour', '>=', new Date(sel.fromMs))
    .where('hour', '<', new Date(sel.toMs))
    .$if(sel.space !== undefined, (q) => q.where('space', '=', sel.space!));

/** The rows of the selection, starting after `after`, in (hour or period, space) order, as text. */
export async function usageTextRows(
  db: Kysely<Database>,
  sel: UsageSelection,
  after: UsageKey | undefined,
  limit: number,
): Promise<UsageTextRow[]> {
  const filtered = <O>(qb: SelectQueryBuilder<Database, 'billing_hourly', O>) =>
    inSelection(qb, sel)
      // A period at or after the cursor's starts no earlier than its hour: lets the (tenant, hour) index skip
      // every earlier page instead of re-reading it.
      .$if(after !== undefined, (q) => q.where('hour', '>=', new Date(after!.hourMs)));
  const afterKey = (period: Expression<unknown>) =>
    sql<boolean>`(${period}, space) > (${new Date(after!.hourMs)}::timestamptz, ${after!.space}::text)`;
  const hour = sql.ref('billing_hourly.hour');

  if (sel.granularity === 'hour') {
    return (
      db
        .selectFrom('billing_hourly')
        .$call(filtered)
        .$if(after !== undefined, (q) => q.where(afterKey(hour)))
        .select([
          'tenant',
          'space',
          isoText(hour).as('hour'),
          ...MEASURES.map((m) => text(sql.ref(m)).as(m)),
          text(sql.ref('records')).as('records'),
          isoText(sql.ref('first_ts')).as('first_ts'),
          isoText(sql.ref('last_ts')).as('last_ts'),
          text(sql.ref('revision')).as('revision'),
          sql<boolean>`closed_at is not null`.as('final'),
        ])
        // The table's column, not the text output column of the same name.
        .orderBy(hour)
        .orderBy('space')
        .limit(limit)
        .execute()
    );
  }

  // UTC whatever the session time zone: a tenant's day is billed by the same clock as its hours.
  const period = sql<Date>`date_trunc(${sql.lit(sel.granularity)}, hour at time zone 'UTC') at time zone 'UTC'`;
  return db
    .selectFrom('billing_hourly')
    .$call(filtered)
    .select([
      'tenant',
      'space',
      isoText(period).as('hour'),
      ...MEASURES.map((m) => text(sql`sum(${sql.ref(m)})`).as(m)),
      text(sql`sum(records)`).as('records'),
      isoText(sql`min(first_ts)`).as('first_ts'),
      isoText(sql`max(last_ts)`).as('last_ts'),
      text(sql`max(revision)`).as('revision'),
      sql<boolean>`bool_and(closed_at is not null)`.as('final'),
    ])
    .groupBy(['tenant', 'space', period])
    .$if(after !== undefined, (q) => q.having(afterKey(period)))
    .orderBy(period)
    .orderBy('space')
    .limit(limit)
    .execute();
}

/** The rows of the selection, starting after `after`, in (hour or period, space) order. */
export async function usagePage(
  db: Kysely<Database>,
  sel: UsageSelection,
  after: UsageKey | undefined,
  limit: number,
): Promise<UsageRow[]> {
  // Number of the text: exact up to 2^53, as the JSON answer has it.
  return (await usageTextRows(db, sel, after, limit)).map((r) => ({
    tenant: r.tenant,
    space: r.space,
    hour: r.hour,
    cpu_ms: Number(r.cpu_ms),
    memory_byte_seconds: Number(r.memory_byte_seconds),
    messages: Number(r.messages),
    bytes_in: Number(r.bytes_in),
    bytes_out: Number(r.bytes_out),
    records: Number(r.records),
    first_ts: r.first_ts,
    last_ts: r.last_ts,
    revision: Number(r.revision),
    final: r.final,
  }));
}

/** [from, to) of a `YYYY-MM` UTC month. */
export function monthRange(month: string): { fromMs: number; toMs: number } {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return { fromMs: Date.UTC(y, m - 1, 1), toMs: Date.UTC(y, m, 1) };
}

/** The `YYYY-MM` of a UTC instant. */
export const monthOf = (nowMs: number): string => new Date(nowMs).toISOString().slice(0, 7);

type Num = string | number | bigint;
interface SummaryDbRow extends Record<(typeof MEASURES)[number], Num> {
  total: boolean;
  space: string | null;
  records: Num;
  hours: Num;
  open_hours: Num;
  revision: Num;
}

/**
 * One tenant's month: totals overall and per space, in one scan. Hours are counted distinct across spaces
 * (an hour with data in two spaces is one hour), and an hour is final only when every space of it is.
 */
export async function tenantSummary(
  db: Kysely<Database>,
  tenant: string,
  month: string,
  closeAfterMs: number,
): Promise<TenantSummary> {
  const { fromMs, toMs } = monthRange(month);
  const sums = MEASURES.map((m) => sql`coalesce(sum(${sql.ref(m)}), 0) as ${sql.ref(m)}`);
  const r = await sql<SummaryDbRow>`
    select grouping(space) = 1 as total, space, ${sql.join(sums)},
           coalesce(sum(records), 0) as records,
           count(distinct hour) as hours,
           count(distinct hour) filter (where closed_at is null) as open_hours,
           coalesce(max(revision), 0) as revision
    from billing_hourly
    where tenant = ${tenant} and hour >= ${new Date(fromMs)} and hour < ${new Date(toMs)}
    group by grouping sets ((space), ())
    order by grouping(space), space`.execute(db);
  const totals = (x: SummaryDbRow | undefined) => {
    const n = (v: Num | undefined) => Number(v ?? 0);
    return {
      cpu_ms: n(x?.cpu_ms),
      memory_byte_seconds: n(x?.memory_byte_seconds),
      messages: n(x?.messages),
      bytes_in: n(x?.bytes_in),
      bytes_out: n(x?.bytes_out),
      records: n(x?.records),
      hours: n(x?.hours),
      finalHours: n(x?.hours) - n(x?.open_hours),
      revision: n(x?.revision),
    };
  };
  return {
    tenant,
    month,
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    hoursInMonth: (toMs - fromMs) / HOUR_MS,
    expectedFinalAt: new Date(toMs + closeAfterMs).toISOString(),
    totals: totals(r.rows.find((x) => x.total)),
    spaces: r.rows.filter((x) => !x.total).map((x) => ({ space: x.space!, ...totals(x) })),
  };
}
