import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { trace } from '@opentelemetry/api';
import type { Hono } from 'hono';
import { sql, type Kysely } from 'kysely';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { billingLine, useMigratedDatabase } from '../../test/helpers/billing-db.js';
import { waitFor } from '../../test/helpers/poll.js';
import { pgListen } from '../db/listen.js';
import { ManualClock, systemClock } from '../clock.js';
import type { Database } from '../db/schema.js';
import { ErrorCodes } from '../errors/index.js';
import { createApp } from '../http/app.js';
import type { AppEnv } from '../http/env.js';
import type { Role } from '../http/roles.js';
import { TokenStore } from '../http/tokens.js';
import { closeHours } from './jobs.js';
import {
  CSV_COLUMNS,
  postResultSchema,
  summarySchema,
  usagePage,
  usagePageSchema,
  usageQuerySchema,
  type UsageRow,
} from './queries.js';
import { billingRoutes, CSV_PAGE } from './routes.js';
import { sha256 } from './spool.js';
import { UsageChangeFeed } from './usage-changes.js';
import { UsageCache } from './usage-cache.js';
import { decodeCursor, encodeCursor } from './usage-cursor.js';

const logger = pino({ level: 'silent' });
const MAX_POST = 4096;
const NOW = Date.parse('2026-11-25T12:30:00Z');
const WEIRD_SPACE = 'b,"x"';

async function putHours(
  db: Kysely<Database>,
  rows: ReadonlyArray<{
    tenant: string;
    space: string;
    hour: string;
    cpu: number;
    rev?: number;
    closed?: boolean;
  }>,
): Promise<void> {
  await db
    .insertInto('billing_hourly')
    .values(
      rows.map((r) => ({
        tenant: r.tenant,
        space: r.space,
        hour: new Date(r.hour),
        cpu_ms: r.cpu,
        memory_byte_seconds: r.cpu / 2,
        messages: r.cpu * 10,
        bytes_in: r.cpu * 100,
        bytes_out: r.cpu * 1000,
        records: r.cpu,
        first_ts: new Date(r.hour),
        last_ts: new Date(r.hour),
        revision: r.rev ?? 0,
        closed_at: r.closed ? new Date(NOW) : null,
      })),
    )
    .execute();
}

// Tenant p1, which the hourly fixture does not use; cpu_ms 100 for the sums the POST test expects.
const record = (over: Record<string, unknown> = {}): string =>
  billingLine({
    tenant: 'p1',
    cpu_ms: 100,
    memory_byte_seconds: 1.5e9,
    messages: 2,
    bytes_in: 10,
    bytes_out: 20,
    ...over,
  });

describe('billing routes on real Postgres', () => {
  const database = useMigratedDatabase();
  let rejectedDir: string;
  let app: Hono<AppEnv>;
  let registry: Registry;
  let feed: UsageChangeFeed | undefined;
  const tok: Record<string, string> = {};

  beforeAll(async () => {
    rejectedDir = path.join(await mkdtemp(path.join(tmpdir(), 'billing-routes-')), 'rejected');
    const tokens = new TokenStore({ db: database.db, clock: systemClock });
    for (const role of ['admin', 'operator', 'viewer', 'tenant:t1', 'tenant:t2'] as Role[])
      tok[role] = (await tokens.create(role, role)).token;
    registry = new Registry();
    // The cache as the service runs it: kept while billing_hourly's notifications are heard.
    const usageCache = new UsageCache({ registry });
    feed = new UsageChangeFeed({ listen: pgListen(database.url, logger), cache: usageCache, logger });
    await feed.start();
    app = createApp({
      registry,
      logger,
      tokens,
      tracer: trace.getTracer('test'),
      readiness: { notReadyReason: () => undefined },
      routes: [
        billingRoutes({
          db: database.db,
          closeAfterMs: 2 * 3_600_000,
          maxPostBytes: MAX_POST,
          rejectedDir,
          clock: new ManualClock(NOW),
          usageCache,
        }),
      ],
    });
    await putHours(database.db, [
      { tenant: 't1', space: 'a', hour: '2026-10-31T23:00:00Z', cpu: 1, closed: true },
      { tenant: 't1', space: WEIRD_SPACE, hour: '2026-10-31T23:00:00Z', cpu: 2 },
      { tenant: 't1', space: 'a', hour: '2026-11-01T00:00:00Z', cpu: 4, rev: 1, closed: true },
      { tenant: 't1', space: 'a', hour: '2026-11-02T05:00:00Z', cpu: 8 },
      { tenant: 't2', space: 'a', hour: '2026-11-01T00:00:00Z', cpu: 100 },
    ]);
  });
  afterAll(async () => {
    await feed?.stop();
    if (rejectedDir) await rm(path.dirname(rejectedDir), { recursive: true, force: true });
  });

  const call = (p: string, who?: string, init: RequestInit = {}) =>
    app.request(p, {
      ...init,
      headers: { ...(who ? { authorization: `Bearer ${tok[who]}` } : {}), ...init.headers },
    });
  const post = (
    body: string | ReadableStream<Uint8Array>,
    headers: Record<string, string> = {},
    who = 'operator',
  ) =>
    call('/api/v1/billing/records', who, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-ndjson', ...headers },
      // Node's fetch needs duplex for a streamed request body.
      ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
    });
  const usage = (q: string, who = 'viewer', headers: Record<string, string> = {}) =>
    call(`/api/v1/billing/usage?${q}`, who, { headers });
  const T1 = 'tenant=t1&from=2026-10-31&to=2026-11-03';
  const counts = async () => {
    const r = await sql<{ files: string; keys: string }>`
      select (select count(*) from billing_files) as files, (select count(*) from billing_record_keys) as keys`.execute(
      database.db,
    );
    return { files: Number(r.rows[0]!.files), keys: Number(r.rows[0]!.keys) };
  };

  describe('tenant scoping', () => {
    it.each([
      ['tenant:t1', 'GET', `/api/v1/billing/usage?${T1}`, 200],
      ['tenant:t1', 'GET', '/api/v1/billing/usage?tenant=t2&from=2026-10-31&to=2026-11-03', 403],
      ['tenant:t1', 'GET', '/api/v1/billing/usage?tenant=t2&from=2026-10-31&to=2026-11-03&format=csv', 403],
      ['tenant:t1', 'GET', '/api/v1/billing/usage?tenant=t2&from=nonsense', 403],
      ['tenant:t1', 'GET', '/api/v1/billing/tenants/t1/summary?month=2026-11', 200],
      ['tenant:t1', 'GET', '/api/v1/billing/tenants/t2/summary?month=2026-11', 403],
      ['tenant:t1', 'GET', '/api/v1/billing/tenants/t2/summary?month=bad', 403],
      ['tenant:t2', 'GET', '/api/v1/billing/tenants/t1/summary', 403],
      ['tenant:t1', 'GET', '/api/v1/openapi.json', 200],
      ['viewer', 'GET', '/api/v1/billing/usage?tenant=t2&from=2026-10-31&to=2026-11-03', 200],
      ['viewer', 'GET', '/api/v1/billing/tenants/t2/summary', 200],
      ['operator', 'GET', `/api/v1/billing/usage?${T1}&format=csv`, 200],
      ['admin', 'GET', '/api/v1/billing/tenants/t1/summary', 200],
    ])('%s %s %s → %i', async (who, method, p, status) => {
      const res = await call(p, who, { method });
      expect(res.status).toBe(status);
      if (status === 403) {
        expect(res.headers.get('content-type')).toBe('application/problem+json');
        expect(await res.json()).toMatchObject({ code: ErrorCodes.BILLING_TENANT_FORBIDDEN });
      }
    });

    it.each(['tenant:t1', 'viewer'])('%s may not POST records (403, nothing ingested)', async (who) => {
      const before = await counts();
      const res = await post(`${record({ id: 'scoped' })}\n`, {}, who);
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ code: ErrorCodes.AUTH_FORBIDDEN });
      expect(await counts()).toEqual(before);
    });

    it('without a token nothing answers, not even the document', async () => {
      expect((await call('/api/v1/openapi.json')).status).toBe(401);
    });
  });

  it.each([
    ['no tenant', 'from=2026-10-31&to=2026-11-03', 'tenant', ErrorCodes.BILLING_USAGE_QUERY_INVALID],
    ['a bad from', 'tenant=t1&from=31.10.2026&to=2026-11-03', 'from', ErrorCodes.BILLING_USAGE_QUERY_INVALID],
    [
      'from after to',
      'tenant=t1&from=2026-11-03&to=2026-10-31',
      'to',
      ErrorCodes.BILLING_USAGE_QUERY_INVALID,
    ],
    [
      'over 400 days',
      'tenant=t1&from=2025-01-01&to=2026-11-03',
      'to',
      ErrorCodes.BILLING_USAGE_QUERY_INVALID,
    ],
    ['granularity week', `${T1}&granularity=week`, 'granularity', ErrorCodes.BILLING_USAGE_QUERY_INVALID],
    ['limit 0', `${T1}&limit=0`, 'limit', ErrorCodes.BILLING_USAGE_QUERY_INVALID],
    ['limit 20000', `${T1}&limit=20000`, 'limit', ErrorCodes.BILLING_USAGE_QUERY_INVALID],
    ['a made-up cursor', `${T1}&cursor=bm9wZQ`, '', ErrorCodes.BILLING_CURSOR_INVALID],
  ])('usage with %s → 400 with its code and a hint', async (_n, q, field, code) => {
    const res = await usage(q);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const body = (await res.json()) as { code: number; hint?: string; errors?: string[] };
    expect(body.code).toBe(code);
    expect(body.hint).toBeTruthy();
    if (field) expect(body.errors?.some((e) => e.startsWith(`${field}:`))).toBe(true);
  });

  it.each([
    ['month 2026-13', '/api/v1/billing/tenants/t1/summary?month=2026-13'],
    ['month nov', '/api/v1/billing/tenants/t1/summary?month=nov'],
    ['a tenant of 201 characters', `/api/v1/billing/tenants/${'t'.repeat(201)}/summary`],
  ])('summary with %s → 400 with its code', async (_n, p) => {
    const res = await call(p, 'viewer');
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: ErrorCodes.BILLING_SUMMARY_QUERY_INVALID });
  });

  it('answers day rows as the documented page (UTC days, sums, final only when every hour is)', async () => {
    const res = await usage(`${T1}&granularity=day`);
    expect(res.status).toBe(200);
    const page = usagePageSchema.parse(await res.json());
    expect(page.nextCursor).toBeNull();
    expect(page.rows.map((r) => [r.hour, r.space, r.cpu_ms, r.records, r.revision, r.final])).toEqual([
      ['2026-10-31T00:00:00.000Z', 'a', 1, 1, 0, true],
      ['2026-10-31T00:00:00.000Z', WEIRD_SPACE, 2, 2, 0, false],
      ['2026-11-01T00:00:00.000Z', 'a', 4, 4, 1, true],
      ['2026-11-02T00:00:00.000Z', 'a', 8, 8, 0, false],
    ]);
  });

  it.each(['hour', 'day', 'month'])('%s pages by nextCursor return every row exactly once', async (g) => {
    const all = usagePageSchema.parse(await (await usage(`${T1}&granularity=${g}`)).json()).rows;
    const seen: UsageRow[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await usage(`${T1}&granularity=${g}&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      const page = usagePageSchema.parse(await res.json());
      seen.push(...page.rows);
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== null);
    expect(seen).toEqual(all);
    expect(pages).toBe(all.length);
  });

  it.each([
    ['Accept: text/csv', '', { accept: 'text/csv' }],
    ['format=csv', '&format=csv', {}],
  ])('CSV by %s: the fixed header, one line per row, fields escaped', async (_n, q, headers) => {
    const res = await usage(`${T1}${q}`, 'viewer', headers);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(await res.text()).toBe(
      [
        'tenant,space,hour,cpu_ms,memory_byte_seconds,messages,bytes_in,bytes_out,records,revision,final',
        't1,a,2026-10-31T23:00:00.000Z,1,0.5,10,100,1000,1,0,true',
        't1,"b,""x""",2026-10-31T23:00:00.000Z,2,1,20,200,2000,2,0,false',
        't1,a,2026-11-01T00:00:00.000Z,4,2,40,400,4000,4,1,true',
        't1,a,2026-11-02T05:00:00.000Z,8,4,80,800,8000,8,0,false',
        '',
      ].join('\n'),
    );
  });

  it('format=json wins over Accept: text/csv', async () => {
    const res = await usage(`${T1}&format=json`, 'viewer', { accept: 'text/csv' });
    expect(res.headers.get('content-type')).toContain('application/json');
  });

  it(`streams a range of more than ${CSV_PAGE} rows page by page, every row once`, async () => {
    await sql`
      insert into billing_hourly (tenant, space, hour, cpu_ms, memory_byte_seconds, messages, bytes_in,
                                  bytes_out, records, first_ts, last_ts)
      select 'big', 's' || s, t, h, 0, 0, 0, 0, 1, t, t
      from generate_series(0, 2099) h, generate_series(1, 3) s,
           lateral (select timestamptz '2026-01-01T00:00:00Z' + h * interval '1 hour' as t) x`.execute(
      database.db,
    );
    const res = await usage('tenant=big&from=2026-01-01&to=2026-04-01&format=csv');
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const dec = new TextDecoder();
    const chunks: string[] = [];
    for (let r = await reader.read(); !r.done; r = await reader.read()) chunks.push(dec.decode(r.value));
    const lines = chunks.join('').split('\n').slice(1, -1);
    expect(lines).toHaveLength(6300);
    expect(new Set(lines.map((l) => l.split(',').slice(1, 3).join())).size).toBe(6300);
    expect(lines.at(-1)).toMatch(/^big,s3,2026-03-29T11:00:00.000Z,2099,/);
    // Header, then one chunk per keyset page: never the whole range at once.
    expect(chunks.length).toBeGreaterThanOrEqual(3);
    for (const c of chunks) expect(c.split('\n').length - 1).toBeLessThanOrEqual(CSV_PAGE);
  });

  it("sums a tenant's month overall and per space; the month defaults to the clock's", async () => {
    const explicit = summarySchema.parse(
      await (await call('/api/v1/billing/tenants/t1/summary?month=2026-11', 'tenant:t1')).json(),
    );
    expect(explicit).toMatchObject({
      tenant: 't1',
      month: '2026-11',
      hoursInMonth: 720,
      expectedFinalAt: '2026-12-01T02:00:00.000Z',
      totals: { cpu_ms: 12, bytes_out: 12_000, records: 12, hours: 2, finalHours: 1, revision: 1 },
      spaces: [{ space: 'a', cpu_ms: 12, hours: 2, finalHours: 1, revision: 1 }],
    });
    const current = await (await call('/api/v1/billing/tenants/t1/summary', 'tenant:t1')).json();
    expect(current).toEqual(explicit);
    const october = summarySchema.parse(
      await (await call('/api/v1/billing/tenants/t1/summary?month=2026-10', 'viewer')).json(),
    );
    expect(october.totals).toMatchObject({ cpu_ms: 3, hours: 1, finalHours: 0 });
    expect(october.spaces.map((s) => s.space)).toEqual(['a', WEIRD_SPACE]);
  });

  describe('POST /billing/records', () => {
    const quarantined = async (body: string) =>
      (await readFile(path.join(rejectedDir, `post-${sha256(body)}.rejected.ndjson`), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown);

    it('counts valid lines, reports and quarantines bad ones, and a replay adds nothing', async () => {
      const body = [
        record({ id: 'a1' }),
        '{not json',
        record({ id: 'a2', space: 's2' }),
        record({ id: 'a3', cpu_ms: -1 }),
        record({ id: 'a4' }),
        '',
      ].join('\n');
      const res = await post(body);
      expect(res.status).toBe(200);
      const first = postResultSchema.parse(await res.json());
      expect(first).toMatchObject({ accepted: 3, duplicates: 0, replay: false });
      expect(first.rejected.map((r) => r.line)).toEqual([2, 4]);
      expect(first.rejected[1]!.reason).toContain('cpu_ms');
      expect(await quarantined(body)).toEqual([
        { line: 2, reason: first.rejected[0]!.reason, text: '{not json' },
        { line: 4, reason: first.rejected[1]!.reason, text: record({ id: 'a3', cpu_ms: -1 }) },
      ]);
      const rows = await database.db
        .selectFrom('billing_hourly')
        .select(['space', 'cpu_ms', 'records'])
        .where('tenant', '=', 'p1')
        .orderBy('space')
        .execute();
      expect(rows.map((r) => [r.space, Number(r.cpu_ms), r.records])).toEqual([
        ['s1', 200, 2],
        ['s2', 100, 1],
      ]);

      const again = await post(body);
      expect(await again.json()).toMatchObject({ accepted: 0, duplicates: 3, replay: true });
      const mixed = await post(`${record({ id: 'a1' })}\n${record({ id: 'a5' })}\n`);
      expect(await mixed.json()).toEqual({ accepted: 1, duplicates: 1, rejected: [], replay: false });
    });

    it('a body without one valid line still answers 200, everything rejected and quarantined', async () => {
      const body = 'nope\n{"id":"x"}\n';
      const res = await post(body);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ accepted: 0, duplicates: 0, replay: false });
      expect(await quarantined(body)).toHaveLength(2);
    });

    it('takes a body of exactly the limit', async () => {
      const line = `${record({ id: 'edge' })}\n`;
      const body = line + ' '.repeat(MAX_POST - line.length);
      expect(Buffer.byteLength(body)).toBe(MAX_POST);
      expect((await post(body, { 'content-length': String(MAX_POST) })).status).toBe(200);
    });

    const big = Array.from({ length: 40 }, (_, i) => record({ id: `big${i}` })).join('\n') + '\n';
    it.each([
      ['an honest Content-Length', () => post(big, { 'content-length': String(Buffer.byteLength(big)) })],
      ['a lying Content-Length', () => post(big, { 'content-length': '100' })],
      ['no Content-Length', () => post(big)],
    ])('a body over the limit with %s → 413, nothing ingested or quarantined', async (_n, send) => {
      expect(Buffer.byteLength(big)).toBeGreaterThan(MAX_POST);
      const before = await counts();
      const files = await readdir(rejectedDir);
      const res = await send();
      expect(res.status).toBe(413);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(await res.json()).toMatchObject({ code: ErrorCodes.BILLING_POST_TOO_LARGE, status: 413 });
      expect(await counts()).toEqual(before);
      expect(await readdir(rejectedDir)).toEqual(files);
    });

    const chunk = new TextEncoder().encode(`${record({ id: 'endless' })}\n`);
    const endless = (onPull: () => void) =>
      new ReadableStream<Uint8Array>({
        pull(controller) {
          onPull();
          controller.enqueue(chunk);
        },
      });

    it('stops reading an endless body just past the limit', async () => {
      let pulled = 0;
      const res = await post(endless(() => (pulled += chunk.byteLength)));
      expect(res.status).toBe(413);
      expect(pulled).toBeGreaterThan(MAX_POST);
      expect(pulled).toBeLessThanOrEqual(MAX_POST + 2 * chunk.byteLength);
    });

    it('refuses a declared Content-Length over the limit before reading the body', async () => {
      let pulls = 0;
      const res = await post(
        endless(() => pulls++),
        { 'content-length': String(MAX_POST + 1) },
      );
      expect(res.status).toBe(413);
      // A ReadableStream pulls once on its own to fill its queue; the route itself read nothing.
      expect(pulls).toBeLessThanOrEqual(1);
    });
  });

  it('serves the OpenAPI document with the billing paths and the record schema', async () => {
    const res = await call('/api/v1/openapi.json', 'viewer');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<string, unknown>;
      components: { schemas: { BillingRecord: { properties: Record<string, unknown> } } };
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/billing/records',
        '/api/v1/billing/usage',
        '/api/v1/billing/tenants/{t}/summary',
        '/api/v1/openapi.json',
      ]),
    );
    expect(Object.keys(doc.components.schemas.BillingRecord.properties)).toEqual(
      expect.arrayContaining(['id', 'tenant', 'space', 'host', 'ts', 'cpu_ms', 'memory_byte_seconds']),
    );
  });

  // Last in the file: closeHours seals every old enough hour, of every tenant.
  describe('usage pages: byte for byte as before, cached, never stale', () => {
    /** The answer as the route made it before: JSON.stringify of the typed rows (queries.test holds them to the old query). */
    const oldJson = async (qs: string): Promise<string> => {
      const q = usageQuerySchema.parse(Object.fromEntries(new URLSearchParams(qs)));
      const sel = {
        tenant: q.tenant,
        fromMs: Date.parse(q.from),
        toMs: Date.parse(q.to),
        space: q.space,
        granularity: q.granularity,
      };
      const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
      const rows = await usagePage(database.db, sel, after, q.limit + 1);
      const page = rows.slice(0, q.limit);
      const last = page.at(-1);
      const nextCursor =
        rows.length > q.limit && last
          ? encodeCursor({ hourMs: Date.parse(last.hour), space: last.space })
          : null;
      return JSON.stringify({ granularity: q.granularity, rows: page, nextCursor });
    };
    const oldCsv = (rows: readonly UsageRow[]): string => {
      const field = (v: string | number | boolean) => {
        const s = String(v);
        return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
      };
      return [
        CSV_COLUMNS.join(','),
        ...rows.map((r) => CSV_COLUMNS.map((k) => field(r[k])).join(',')),
        '',
      ].join('\n');
    };
    const lookups = async () => {
      const m = await registry.getSingleMetric('overseer_billing_usage_cache_lookups_total')!.get();
      const n = (result: string) => m.values.find((v) => v.labels.result === result)?.value ?? 0;
      return { hit: n('hit'), miss: n('miss'), off: n('off') };
    };
    const EDGE = 'tenant=edge&from=2026-09-01&to=2026-09-03';

    beforeAll(async () => {
      // Counters past 2^53 and 1e21, floats JS writes unlike Postgres, microseconds, escaped spaces.
      await sql`
        insert into billing_hourly (tenant, space, hour, cpu_ms, memory_byte_seconds, messages, bytes_in,
          bytes_out, records, first_ts, last_ts, revision, closed_at)
        select 'edge', s.space, h.hour, s.cpu, s.mem, s.msgs, 1000000000000000, 7, 3,
          h.hour + interval '1.0015 seconds', h.hour + interval '59 minutes 59.999999 seconds', 1, null
        from (values (timestamptz '2026-09-01T00:00:00Z'), ('2026-09-01T01:00:00Z'), ('2026-09-02T23:00:00Z')) h (hour),
          (values ('a', 9007199254740993, 0.30000000000000004::float8, 9223372036854775807),
                  ('b,"x"', 1, 1e21, 0), ('ü€ \\ /', 0, 1e-7, 2), ('c', 5, 1e15, 4611686018427387904))
            s (space, cpu, mem, msgs)`.execute(database.db);
    });

    it.each([
      ['hour rows', T1],
      ['day rows', `${T1}&granularity=day`],
      ['month rows', `${T1}&granularity=month`],
      ['a first page of two', `${T1}&limit=2`],
      ['one space', `${T1}&space=${encodeURIComponent(WEIRD_SPACE)}`],
      ['nothing in range', 'tenant=t1&from=2020-01-01&to=2020-02-01'],
      ['edge values, hours', EDGE],
      ['edge values, days', `${EDGE}&granularity=day`],
      ['edge values, a page of three', `${EDGE}&limit=3`],
    ])('%s: rendered, then cached, the old bytes each time', async (_n, qs) => {
      const want = Buffer.from(await oldJson(qs));
      const first = await usage(qs);
      const second = await usage(qs);
      for (const res of [first, second]) {
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('application/json');
        expect(Buffer.from(await res.arrayBuffer()).equals(want)).toBe(true);
      }
      expect(first.headers.get('etag')).toMatch(/^W\/"[\w-]+"$/);
      expect(second.headers.get('etag')).toBe(first.headers.get('etag'));
    });

    it('a later page by its cursor is the old bytes too', async () => {
      // Counters past 2^53 are beyond the documented schema (so parsed as plain JSON here), yet answered as ever.
      const { nextCursor } = (await (await usage(`${EDGE}&limit=5`)).json()) as { nextCursor: string };
      const qs = `${EDGE}&limit=5&cursor=${nextCursor}`;
      expect(await (await usage(qs)).text()).toBe(await oldJson(qs));
      expect(await (await usage(qs)).text()).toBe(await oldJson(qs));
    });

    it('CSV of the edge values is the old bytes', async () => {
      const want = oldCsv(
        await usagePage(
          database.db,
          {
            tenant: 'edge',
            fromMs: Date.parse('2026-09-01'),
            toMs: Date.parse('2026-09-03'),
            granularity: 'hour',
          },
          undefined,
          100,
        ),
      );
      expect(want).toContain('9223372036854776000');
      expect(await (await usage(`${EDGE}&format=csv`)).text()).toBe(want);
    });

    it('serves a repeated page from the cache', async () => {
      const qs = `${T1}&granularity=month&limit=3`;
      const before = await lookups();
      await usage(qs);
      await usage(qs);
      await usage(qs);
      const after = await lookups();
      expect([after.miss - before.miss, after.hit - before.hit]).toEqual([1, 2]);
    });

    it.each([
      ['the tag', (etag: string) => etag, 304],
      ['the tag, strong', (etag: string) => etag.slice(2), 304],
      ['a list holding the tag', (etag: string) => `"other", ${etag}`, 304],
      ['*', () => '*', 304],
      ['another tag', () => '"other"', 200],
      ['the tag without quotes', (etag: string) => etag.slice(3, -1), 200],
    ])('If-None-Match with %s → %i', async (_n, header, status) => {
      const etag = (await usage(T1)).headers.get('etag')!;
      const res = await usage(T1, 'viewer', { 'if-none-match': header(etag) });
      expect(res.status).toBe(status);
      if (status === 304) {
        expect(res.headers.get('etag')).toBe(etag);
        expect(await res.text()).toBe('');
      } else expect(await res.text()).toBe(await oldJson(T1));
    });

    it('a POST shows on the next request; closing the hours (another writer) as soon as its notification lands', async () => {
      const qs = 'tenant=c1&from=2026-09-10&to=2026-09-11';
      const line = (id: string) => `${record({ id, tenant: 'c1', ts: '2026-09-10T10:15:00Z' })}\n`;
      const rows = async () => {
        const res = await usage(qs);
        const text = await res.text();
        expect(text).toBe(await oldJson(qs));
        const page = usagePageSchema.parse(JSON.parse(text));
        return {
          etag: res.headers.get('etag')!,
          rows: page.rows.map((r) => [r.cpu_ms, r.records, r.revision, r.final]),
        };
      };
      expect((await rows()).rows).toEqual([]);
      await post(line('c1-1'));
      const one = await rows();
      expect(one.rows).toEqual([[100, 1, 0, false]]);
      expect((await rows()).etag).toBe(one.etag);

      await post(line('c1-2'));
      const two = await rows();
      expect(two.rows).toEqual([[200, 2, 0, false]]);
      expect(two.etag).not.toBe(one.etag);
      expect((await usage(qs, 'viewer', { 'if-none-match': one.etag })).status).toBe(200);

      expect(
        await closeHours(database.db, Date.parse('2026-09-11T00:00:00Z'), 2 * 3_600_000),
      ).toBeGreaterThan(0);
      // closeHours is another connection's write: the page goes when its notification arrives.
      await waitFor('the closed hour in the page', async () => {
        const r = await rows();
        return r.rows[0]?.[3] === true ? r : undefined;
      });
      expect((await rows()).rows).toEqual([[200, 2, 0, true]]);

      await post(line('c1-3'));
      expect((await rows()).rows).toEqual([[300, 3, 1, true]]);
      // A replay counts nothing: the same page, the same tag, still a 304.
      const same = await rows();
      await post(line('c1-3'));
      expect((await usage(qs, 'viewer', { 'if-none-match': same.etag })).status).toBe(304);
    });

    it('answers gzip to a client that accepts it, the same bytes inside, and says the answer varies by it', async () => {
      const want = await oldJson(T1);
      for (let i = 0; i < 2; i++) {
        const res = await usage(T1, 'viewer', { 'accept-encoding': 'br;q=1, gzip;q=0.5' });
        expect(res.status).toBe(200);
        expect(res.headers.get('vary')).toBe('Accept-Encoding');
        expect(res.headers.get('content-encoding')).toBe('gzip');
        expect(gunzipSync(Buffer.from(await res.arrayBuffer())).toString('utf8')).toBe(want);
      }
      for (const refused of [undefined, 'identity', 'gzip;q=0', 'br']) {
        const res = await usage(T1, 'viewer', refused === undefined ? {} : { 'accept-encoding': refused });
        expect(res.headers.get('content-encoding')).toBeNull();
        expect(await res.text()).toBe(want);
      }
    });

    it('a change by any other writer drops the page once its notification lands', async () => {
      const qs = `${EDGE}&granularity=month`;
      const before = await (await usage(qs)).text();
      await usage(qs);
      await sql`update billing_hourly set cpu_ms = cpu_ms + 1 where tenant = 'edge' and space = 'c'`.execute(
        database.db,
      );
      await waitFor('the changed page', async () => {
        const text = await (await usage(qs)).text();
        return text !== before ? text : undefined;
      });
      expect(await (await usage(qs)).text()).toBe(await oldJson(qs));
    });

    it('while the notifications are lost the rows are read every time; once back, the cache is used again', async () => {
      const qs = `${T1}&granularity=day`;
      const listening = async () =>
        (await registry.getSingleMetric('overseer_billing_usage_cache_listening')!.get()).values[0]?.value;
      const before = await (await usage(qs)).text();
      await usage(qs);
      const pid = await sql<{ pid: number }>`
        select pid from pg_stat_activity
        where datname = current_database() and query like 'LISTEN %'`.execute(database.db);
      expect(pid.rows).toHaveLength(1);
      await sql`select pg_terminate_backend(${pid.rows[0]!.pid}::int)`.execute(database.db);
      // Changed while nobody listens: no notification will ever tell of it.
      await sql`update billing_hourly set cpu_ms = cpu_ms + 1000 where tenant = 't1' and space = 'a'`.execute(
        database.db,
      );
      await waitFor('the change in the page', async () => {
        const text = await (await usage(qs)).text();
        return text !== before ? text : undefined;
      });
      await waitFor('listening again', async () => ((await listening()) === 1 ? true : undefined));
      expect(await (await usage(qs)).text()).toBe(await oldJson(qs));
      const hitsBefore = (await lookups()).hit;
      await usage(qs);
      await usage(qs);
      expect((await lookups()).hit - hitsBefore).toBeGreaterThanOrEqual(1);
      expect(await (await usage(qs)).text()).toBe(await oldJson(qs));
    });
  });
});
