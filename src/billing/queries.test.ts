import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../test/helpers/poll.js';
import { createTestDatabase, type TestDatabase } from '../../test/helpers/test-db.js';
import { migrateToLatest } from '../db/migrate.js';
import { openDatabase, type OpenedDatabase } from '../db/open.js';
import type { Database } from '../db/schema.js';
import {
  monthOf,
  monthRange,
  tenantSummary,
  usagePage,
  usageQuerySchema,
  usageRowSchema,
  usageTextRows,
  type Granularity,
  type UsageRow,
  type UsageSelection,
} from './queries.js';
import { MEASURES } from './record.js';
import { usagePageJson } from './routes.js';
import { BILLING_HOURLY_CHANNEL } from './usage-changes.js';
import type { UsageKey } from './usage-cursor.js';

const logger = pino({ level: 'silent' });
// Far from UTC (+13:45 in November): a day or month truncated in the session zone lands on the wrong date.
const SESSION_TZ = 'Pacific/Chatham';

describe('usageQuerySchema', () => {
  const base = { tenant: 't1', from: '2026-11-01', to: '2026-12-01' };
  it.each([
    ['dates', base],
    ['RFC 3339 with offsets', { ...base, from: '2026-11-01T00:00:00+02:00', to: '2026-11-02T10:30:00Z' }],
    ['exactly 400 days', { ...base, from: '2026-01-01', to: '2027-02-05' }],
    [
      'every option',
      { ...base, space: 's1', granularity: 'month', limit: '10000', cursor: 'x', format: 'csv' },
    ],
  ])('accepts %s', (_n, q) => {
    expect(usageQuerySchema.safeParse(q).success).toBe(true);
  });

  it('defaults to hourly rows, 1000 per page', () => {
    expect(usageQuerySchema.parse(base)).toMatchObject({ granularity: 'hour', limit: 1000 });
  });

  it.each([
    ['no tenant', { from: base.from, to: base.to }, 'tenant'],
    ['no from', { tenant: 't1', to: base.to }, 'from'],
    ['a word for from', { ...base, from: 'yesterday' }, 'from'],
    ['a time without offset', { ...base, from: '2026-11-01T00:00:00' }, 'from'],
    ['an impossible date', { ...base, to: '2026-11-31' }, 'to'],
    ['from = to', { ...base, to: base.from }, 'to'],
    ['from after to', { ...base, from: '2026-12-02' }, 'to'],
    ['401 days', { ...base, from: '2026-01-01', to: '2027-02-06' }, 'to'],
    ['granularity week', { ...base, granularity: 'week' }, 'granularity'],
    ['limit 0', { ...base, limit: '0' }, 'limit'],
    ['limit 10001', { ...base, limit: '10001' }, 'limit'],
    ['limit 1.5', { ...base, limit: '1.5' }, 'limit'],
    ['limit abc', { ...base, limit: 'abc' }, 'limit'],
    ['format xml', { ...base, format: 'xml' }, 'format'],
    ['a control character in tenant', { ...base, tenant: 't\u0001' }, 'tenant'],
    ['an empty space', { ...base, space: '' }, 'space'],
  ])('rejects %s (at %s)', (_n, q, field) => {
    const r = usageQuerySchema.safeParse(q);
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join('.'))).toContain(field);
  });
});

describe('months', () => {
  it.each([
    ['2026-11', '2026-11-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z'],
    ['2026-12', '2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
    ['2028-02', '2028-02-01T00:00:00.000Z', '2028-03-01T00:00:00.000Z'],
  ])('%s is [%s, %s)', (month, from, to) => {
    const r = monthRange(month);
    expect([new Date(r.fromMs).toISOString(), new Date(r.toMs).toISOString()]).toEqual([from, to]);
  });
  it.each([
    ['2026-11-30T23:59:59.999Z', '2026-11'],
    ['2026-12-01T00:00:00Z', '2026-12'],
  ])('%s is in %s (UTC)', (at, month) => expect(monthOf(Date.parse(at))).toBe(month));
});

interface Fixture {
  tenant?: string;
  space: string;
  hour: string;
  cpu: number;
  revision?: number;
  closed?: boolean;
}

/** Every measure is derived from `cpu` (records too), so expected sums follow from one number. */
async function putHours(db: Kysely<Database>, rows: readonly Fixture[]): Promise<void> {
  await db
    .insertInto('billing_hourly')
    .values(
      rows.map((r) => {
        const h = Date.parse(r.hour);
        return {
          tenant: r.tenant ?? 't1',
          space: r.space,
          hour: new Date(h),
          cpu_ms: r.cpu,
          memory_byte_seconds: r.cpu / 2,
          messages: r.cpu * 10,
          bytes_in: r.cpu * 100,
          bytes_out: r.cpu * 1000,
          records: r.cpu,
          first_ts: new Date(h + 60_000),
          last_ts: new Date(h + 59 * 60_000),
          revision: r.revision ?? 0,
          closed_at: r.closed ? new Date(h + 3 * 3_600_000) : null,
        };
      }),
    )
    .execute();
}

// Across a UTC day boundary (Oct 31 → Nov 1) and month boundaries (Oct → Nov → Dec).
const FIXTURE: Fixture[] = [
  { space: 'a', hour: '2026-10-31T22:00:00Z', cpu: 1, closed: true },
  { space: 'a', hour: '2026-10-31T23:00:00Z', cpu: 2, revision: 2, closed: true },
  { space: 'b', hour: '2026-10-31T23:00:00Z', cpu: 4 },
  { space: 'a', hour: '2026-11-01T00:00:00Z', cpu: 8, revision: 1, closed: true },
  { space: 'b', hour: '2026-11-01T01:00:00Z', cpu: 16 },
  { space: 'a', hour: '2026-11-30T23:00:00Z', cpu: 32, closed: true },
  { space: 'a', hour: '2026-12-01T00:00:00Z', cpu: 64 },
  { tenant: 't2', space: 'a', hour: '2026-11-01T00:00:00Z', cpu: 1000 },
];

/**
 * The usage query as it was before rows came back as text: the driver's Dates and numbers, then
 * toISOString() and Number(). The oracle the text rows and their JSON must match byte for byte.
 */
async function legacyUsagePage(
  db: Kysely<Database>,
  sel: UsageSelection,
  after: UsageKey | undefined,
  limit: number,
): Promise<UsageRow[]> {
  const afterKey = (period: unknown) =>
    sql<boolean>`(${period}, space) > (${new Date(after!.hourMs)}::timestamptz, ${after!.space}::text)`;
  const hourly = sel.granularity === 'hour';
  const period = hourly
    ? sql<Date>`hour`
    : sql<Date>`date_trunc(${sql.lit(sel.granularity)}, hour at time zone 'UTC') at time zone 'UTC'`;
  const agg = (f: string, col: string) => (hourly ? sql.ref(col) : sql`${sql.raw(f)}(${sql.ref(col)})`);
  const rows = await db
    .selectFrom('billing_hourly')
    .where('tenant', '=', sel.tenant)
    .where('hour', '>=', new Date(sel.fromMs))
    .where('hour', '<', new Date(sel.toMs))
    .$if(sel.space !== undefined, (q) => q.where('space', '=', sel.space!))
    .$if(after !== undefined, (q) => q.where('hour', '>=', new Date(after!.hourMs)))
    .select([
      'tenant',
      'space',
      period.as('period'),
      ...MEASURES.map((m) => sql<string>`${agg('sum', m)}`.as(m)),
      sql<string>`${agg('sum', 'records')}`.as('records'),
      sql<Date>`${agg('min', 'first_ts')}`.as('first_ts'),
      sql<Date>`${agg('max', 'last_ts')}`.as('last_ts'),
      sql<number>`${agg('max', 'revision')}`.as('revision'),
      (hourly ? sql<boolean>`closed_at is not null` : sql<boolean>`bool_and(closed_at is not null)`).as(
        'final',
      ),
    ])
    .$if(!hourly, (q) => q.groupBy(['tenant', 'space', period]))
    .$if(after !== undefined && hourly, (q) => q.where(afterKey(sql.ref('hour'))))
    .$if(after !== undefined && !hourly, (q) => q.having(afterKey(period)))
    .orderBy('period')
    .orderBy('space')
    .limit(limit)
    .execute();
  const iso = (d: Date | string) => new Date(d).toISOString();
  return rows.map((r) => ({
    tenant: r.tenant,
    space: r.space,
    hour: iso(r.period),
    cpu_ms: Number(r.cpu_ms),
    memory_byte_seconds: Number(r.memory_byte_seconds),
    messages: Number(r.messages),
    bytes_in: Number(r.bytes_in),
    bytes_out: Number(r.bytes_out),
    records: Number(r.records),
    first_ts: iso(r.first_ts),
    last_ts: iso(r.last_ts),
    revision: Number(r.revision),
    final: r.final,
  }));
}

// Values where text and the driver's types could part: counters past 2^53 and 1e21 (rounded, then written
// with an exponent), floats JS and Postgres write differently (1e+15, 1e-07, 0.30000000000000004),
// microseconds (truncated), instants before 1970 and far from now, and spaces JSON and CSV must escape.
const EDGE_HOURS = ['2026-11-03T00:00:00Z', '2026-11-03T01:00:00Z', '2026-11-04T05:00:00Z'];
const EDGE_ROWS: Array<[string, string, string, number, string, string, string]> = [
  [
    'a',
    '9007199254740993',
    '9223372036854775807',
    0.1 + 0.2,
    '1000000000000000',
    '999999999999999',
    '2026-11-03T00:00:00.123456Z',
  ],
  ['b,"x"', '1', '0', 1e15, '1', '123456789012345678', '1969-12-31T23:59:59.9995Z'],
  ['ü€😀 \\ /', '0', '2', 1e-7, '0', '0', '1900-06-01T00:00:00.0015Z'],
  ['tab\tand\nnewline', '5', '5', 1e21, '5', '5', '2026-11-04T05:59:59.999999Z'],
  ['z', '4611686018427387904', '4611686018427387904', 123.456, '7', '7', '2026-11-04T05:00:00.0005Z'],
];

async function putEdgeRows(db: Kysely<Database>): Promise<void> {
  let i = 0;
  for (const hour of EDGE_HOURS)
    for (const [space, cpu, messages, mem, bytesIn, bytesOut, ts] of EDGE_ROWS) {
      await sql`
        insert into billing_hourly (tenant, space, hour, cpu_ms, memory_byte_seconds, messages, bytes_in,
          bytes_out, records, first_ts, last_ts, revision, closed_at)
        values ('edge', ${space}, ${hour}::timestamptz, ${cpu}::bigint, ${mem}, ${messages}::bigint,
          ${bytesIn}::bigint, ${bytesOut}::bigint, ${2_000_000_000 - i}, ${ts}::timestamptz,
          ${hour}::timestamptz + interval '59 minutes 59.9999995 seconds', ${i % 3},
          ${i % 2 === 0 ? hour : null}::timestamptz)`.execute(db);
      i++;
    }
}

const brief = (r: UsageRow) => [r.hour.slice(0, 13), r.space, r.cpu_ms, r.revision, r.final];

describe.each(['postgres', 'pglite'] as const)(
  'usage queries on %s (session time zone far from UTC)',
  (kind) => {
    let testDb: TestDatabase | undefined;
    let dataDir: string | undefined;
    let opened: OpenedDatabase;
    beforeAll(async () => {
      if (kind === 'postgres') {
        testDb = await createTestDatabase();
        const c = new pg.Client({ connectionString: testDb.url });
        await c.connect();
        await c.query(
          `alter database ${new URL(testDb.url).pathname.slice(1)} set timezone to '${SESSION_TZ}'`,
        );
        await c.end();
        opened = await openDatabase({ url: testDb.url, dataDir: '/nonexistent', logger });
      } else {
        dataDir = await mkdtemp(path.join(tmpdir(), 'billing-queries-'));
        opened = await openDatabase({ url: undefined, dataDir, logger });
        await sql`set timezone to ${sql.lit(SESSION_TZ)}`.execute(opened.db);
      }
      await migrateToLatest(opened.db, logger);
      await putHours(opened.db, FIXTURE);
      await putEdgeRows(opened.db);
    });
    afterAll(async () => {
      await opened?.close();
      await testDb?.drop();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    });

    const sel = (granularity: Granularity, over: Partial<UsageSelection> = {}): UsageSelection => ({
      tenant: 't1',
      fromMs: Date.parse('2026-10-31T00:00:00Z'),
      toMs: Date.parse('2026-12-02T00:00:00Z'),
      granularity,
      ...over,
    });

    it.each([
      [
        'hour',
        [
          ['2026-10-31T22', 'a', 1, 0, true],
          ['2026-10-31T23', 'a', 2, 2, true],
          ['2026-10-31T23', 'b', 4, 0, false],
          ['2026-11-01T00', 'a', 8, 1, true],
          ['2026-11-01T01', 'b', 16, 0, false],
          ['2026-11-30T23', 'a', 32, 0, true],
          ['2026-12-01T00', 'a', 64, 0, false],
        ],
      ],
      [
        'day',
        [
          ['2026-10-31T00', 'a', 3, 2, true],
          ['2026-10-31T00', 'b', 4, 0, false],
          ['2026-11-01T00', 'a', 8, 1, true],
          ['2026-11-01T00', 'b', 16, 0, false],
          ['2026-11-30T00', 'a', 32, 0, true],
          ['2026-12-01T00', 'a', 64, 0, false],
        ],
      ],
      [
        'month',
        [
          ['2026-10-01T00', 'a', 3, 2, true],
          ['2026-10-01T00', 'b', 4, 0, false],
          ['2026-11-01T00', 'a', 40, 1, true],
          ['2026-11-01T00', 'b', 16, 0, false],
          ['2026-12-01T00', 'a', 64, 0, false],
        ],
      ],
    ] as const)('%s rows: UTC periods in (period, space) order', async (g, expected) => {
      const rows = await usagePage(opened.db, sel(g), undefined, 100);
      expect(rows.map(brief)).toEqual(expected);
    });

    it('sums every measure and spans first_ts..last_ts of the period', async () => {
      const [octA] = await usagePage(opened.db, sel('day'), undefined, 1);
      expect(octA).toEqual({
        tenant: 't1',
        space: 'a',
        hour: '2026-10-31T00:00:00.000Z',
        cpu_ms: 3,
        memory_byte_seconds: 1.5,
        messages: 30,
        bytes_in: 300,
        bytes_out: 3000,
        records: 3,
        first_ts: '2026-10-31T22:01:00.000Z',
        last_ts: '2026-10-31T23:59:00.000Z',
        revision: 2,
        final: true,
      });
    });

    it('keeps to [from, to) and to one space when asked', async () => {
      const rows = await usagePage(
        opened.db,
        sel('hour', { fromMs: Date.parse('2026-10-31T23:00:00Z'), toMs: Date.parse('2026-11-30T23:00:00Z') }),
        undefined,
        100,
      );
      expect(rows.map((r) => r.cpu_ms)).toEqual([2, 4, 8, 16]);
      const b = await usagePage(opened.db, sel('month', { space: 'b' }), undefined, 100);
      expect(b.map(brief)).toEqual([
        ['2026-10-01T00', 'b', 4, 0, false],
        ['2026-11-01T00', 'b', 16, 0, false],
      ]);
    });

    it.each(['hour', 'day', 'month'] as const)(
      '%s pages by keyset return every row exactly once',
      async (g) => {
        const all = await usagePage(opened.db, sel(g), undefined, 100);
        for (const limit of [1, 2, 3]) {
          const seen: UsageRow[] = [];
          let after: { hourMs: number; space: string } | undefined;
          for (;;) {
            const page = await usagePage(opened.db, sel(g), after, limit);
            seen.push(...page);
            if (page.length < limit) break;
            after = { hourMs: Date.parse(page.at(-1)!.hour), space: page.at(-1)!.space };
          }
          expect(seen).toEqual(all);
        }
      },
    );

    it.each([
      [
        '2026-10',
        { cpu_ms: 7, records: 7, hours: 2, finalHours: 1, revision: 2 },
        [
          { space: 'a', cpu_ms: 3, hours: 2, finalHours: 2, revision: 2 },
          { space: 'b', cpu_ms: 4, hours: 1, finalHours: 0, revision: 0 },
        ],
      ],
      [
        '2026-11',
        { cpu_ms: 56, bytes_out: 56_000, records: 56, hours: 3, finalHours: 2, revision: 1 },
        [
          { space: 'a', cpu_ms: 40, memory_byte_seconds: 20, hours: 2, finalHours: 2, revision: 1 },
          { space: 'b', cpu_ms: 16, messages: 160, hours: 1, finalHours: 0, revision: 0 },
        ],
      ],
      ['2027-01', { cpu_ms: 0, records: 0, hours: 0, finalHours: 0, revision: 0 }, []],
    ])('summary of %s: totals, distinct hours, final hours, revision', async (month, totals, spaces) => {
      const s = await tenantSummary(opened.db, 't1', month, 2 * 3_600_000);
      expect(s.totals).toMatchObject(totals);
      expect(s.spaces).toHaveLength(spaces.length);
      spaces.forEach((sp, i) => expect(s.spaces[i]).toMatchObject(sp));
    });

    it('summary names the month it covers and when it should be final', async () => {
      const s = await tenantSummary(opened.db, 't1', '2026-11', 2 * 3_600_000);
      expect(s).toMatchObject({
        tenant: 't1',
        month: '2026-11',
        from: '2026-11-01T00:00:00.000Z',
        to: '2026-12-01T00:00:00.000Z',
        hoursInMonth: 720,
        expectedFinalAt: '2026-12-01T02:00:00.000Z',
      });
    });

    const edge = (granularity: Granularity, over: Partial<UsageSelection> = {}): UsageSelection => ({
      tenant: 'edge',
      fromMs: Date.parse('2026-11-01T00:00:00Z'),
      toMs: Date.parse('2027-01-01T00:00:00Z'),
      granularity,
      ...over,
    });
    const pages = async (s: UsageSelection, limit: number) => {
      const got: string[] = [];
      const want: string[] = [];
      let after: UsageKey | undefined;
      for (;;) {
        const text = await usageTextRows(opened.db, s, after, limit);
        const legacy = await legacyUsagePage(opened.db, s, after, limit);
        got.push(usagePageJson(s.granularity, text, null));
        want.push(JSON.stringify({ granularity: s.granularity, rows: legacy, nextCursor: null }));
        if (legacy.length < limit) return { got, want };
        after = { hourMs: Date.parse(legacy.at(-1)!.hour), space: legacy.at(-1)!.space };
      }
    };

    it.each([
      ['edge hour', edge('hour'), 100],
      ['edge day', edge('day'), 100],
      ['edge month', edge('month'), 100],
      ['edge hour, pages of 4', edge('hour'), 4],
      ['edge day, pages of 2', edge('day'), 2],
      ['edge, one space', edge('hour', { space: 'b,"x"' }), 100],
      ['t1 hour', sel('hour'), 100],
      ['t1 day', sel('day'), 100],
      ['t1 month, pages of 1', sel('month'), 1],
      ['nothing in range', sel('hour', { fromMs: Date.parse('2027-06-01T00:00:00Z') }), 100],
    ] as const)('%s: the JSON of the text rows is the old answer byte for byte', async (_n, s, limit) => {
      const { got, want } = await pages(s, limit);
      expect(got).toEqual(want);
    });

    it('the typed rows are the old ones; the JSON keys are in the schema order', async () => {
      for (const g of ['hour', 'day', 'month'] as const) {
        const rows = await usagePage(opened.db, edge(g), undefined, 100);
        expect(rows).toEqual(await legacyUsagePage(opened.db, edge(g), undefined, 100));
        expect(Object.keys(rows[0]!)).toEqual(Object.keys(usageRowSchema.shape));
      }
      // The edge rows reach every way of writing a value that differs between Postgres and JS.
      const all = usagePageJson('hour', await usageTextRows(opened.db, edge('hour'), undefined, 100), null);
      for (const written of [
        '"messages":9223372036854776000,',
        '"memory_byte_seconds":1e+21,',
        '"memory_byte_seconds":1e-7,',
        '"memory_byte_seconds":1000000000000000,',
        '"memory_byte_seconds":0.30000000000000004,',
        '"first_ts":"1969-12-31T23:59:59.999Z"',
        '"space":"tab\\tand\\nnewline"',
      ])
        expect(all).toContain(written);
      const json = usagePageJson('hour', await usageTextRows(opened.db, edge('hour'), undefined, 1), 'c');
      const page = JSON.parse(json) as { rows: Array<Record<string, unknown>> };
      expect(Object.keys(page)).toEqual(['granularity', 'rows', 'nextCursor']);
      expect(Object.keys(page.rows[0]!)).toEqual(Object.keys(usageRowSchema.shape));
    });

    it('every kind of write to billing_hourly notifies its tenants when it commits, and only then', async () => {
      const heard: string[] = [];
      const states: boolean[] = [];
      const sub = await opened.listen(BILLING_HOURLY_CHANNEL, {
        onMessage: (p) => heard.push(p),
        onState: (on) => states.push(on),
      });
      const next = async (what: string): Promise<string> => {
        const got = await waitFor(what, () => heard.shift(), { timeoutMs: 10_000, intervalMs: 10 });
        return got;
      };
      try {
        expect(states).toEqual([true]);
        await putHours(opened.db, [
          { tenant: 'n2', space: 'a', hour: '2026-08-01T05:00:00Z', cpu: 1 },
          { tenant: 'n1', space: 'a', hour: '2026-08-01T05:00:00Z', cpu: 1 },
          { tenant: 'n1', space: 'b', hour: '2026-08-01T05:00:00Z', cpu: 1 },
        ]);
        expect(await next('the insert')).toBe('["n1", "n2"]');
        await sql`update billing_hourly set closed_at = now() where tenant = 'n1'`.execute(opened.db);
        expect(await next('the update')).toBe('["n1"]');
        // Nothing changed, nothing said.
        await sql`update billing_hourly set records = 0 where tenant = 'nobody'`.execute(opened.db);
        // Rolled back: never said.
        await opened.db
          .transaction()
          .execute(async (tx) => {
            await sql`delete from billing_hourly where tenant = 'n2'`.execute(tx);
            throw new Error('roll back');
          })
          .catch(() => undefined);
        await sql`delete from billing_hourly where tenant in ('n1', 'n2')`.execute(opened.db);
        expect(await next('the delete')).toBe('["n1", "n2"]');
        expect(heard).toEqual([]);
        // Past what one notification carries: everything.
        await sql`
          insert into billing_hourly (tenant, space, hour, cpu_ms, memory_byte_seconds, messages, bytes_in,
            bytes_out, records, first_ts, last_ts, revision)
          select 'many-' || i, 'a', '2026-08-02T00:00:00Z', 1, 1, 1, 1, 1, 1,
            '2026-08-02T00:00:00Z', '2026-08-02T00:00:00Z', 0
          from generate_series(1, 2000) i`.execute(opened.db);
        expect(await next('the big insert')).toBe('*');
        await sql`delete from billing_hourly where tenant like 'many-%'`.execute(opened.db);
        expect(await next('the big delete')).toBe('*');
      } finally {
        await sub.close();
      }
      expect(states).toEqual([true, false]);
    });
  },
);
