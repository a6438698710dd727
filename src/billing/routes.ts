import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync, gzip } from 'node:zlib';
import type { Context, Hono } from 'hono';
import { accepts } from 'hono/accepts';
import type { Kysely } from 'kysely';
import type { z } from 'zod';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import { ErrorCodes, OverseerError } from '../errors/index.js';
import { requireRole } from '../http/auth.js';
import type { AppEnv } from '../http/env.js';
import { allowsTenant } from '../http/roles.js';
import { ingestBatch } from './ingest.js';
import { billingOpenApi } from './openapi.js';
import {
  CSV_COLUMNS,
  monthOf,
  summaryParamsSchema,
  summaryQuerySchema,
  tenantSummary,
  usageQuerySchema,
  usageTextRows,
  type Granularity,
  type PostResult,
  type UsageSelection,
  type UsageTextRow,
} from './queries.js';
import { parseRecords, type RejectedLine } from './record.js';
import { sha256 } from './spool.js';
import { matchesIfNoneMatch, usageCacheKey, usageEtag, type UsageCache } from './usage-cache.js';
import { decodeCursor, encodeCursor, type UsageKey } from './usage-cursor.js';

export interface BillingRouteDeps {
  db: Kysely<Database>;
  /** billing.closeAfter: how long after its end an hour is sealed (the summary's expectedFinalAt). */
  closeAfterMs: number;
  /** billing.maxPostBytes: the largest POST body; beyond it 413 and nothing is ingested. */
  maxPostBytes: number;
  /** Where rejected lines of POST bodies go, as `post-<sha256>.rejected.ndjson`. */
  rejectedDir: string;
  clock: Clock;
  /**
   * Rendered usage pages, kept while a UsageChangeFeed hears billing_hourly's change notifications; one
   * that never listens (tests) makes every request read the rows.
   */
  usageCache: UsageCache;
}

const utf8 = new TextEncoder();
const gzipAsync = promisify(gzip);
// Level 4: a month page (~200 KB of JSON) compresses about as well as at 6 in half the time.
const GZIP_LEVEL = 4;

/** Whether Accept-Encoding allows gzip (a q=0 refuses it; `*` allows it). */
export function acceptsGzip(header: string | undefined): boolean {
  if (header === undefined) return false;
  for (const part of header.split(',')) {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    if (coding !== 'gzip' && coding !== 'x-gzip' && coding !== '*') continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    if (q === undefined || Number(q.slice(2)) > 0) return true;
  }
  return false;
}

/** Rows per CSV chunk: each is one keyset query, so memory stays flat however long the range is. */
export const CSV_PAGE = 5_000;

const summaryRequestSchema = summaryParamsSchema.extend(summaryQuerySchema.shape);

function tooLarge(limit: number, seen: string): never {
  throw new OverseerError(ErrorCodes.BILLING_POST_TOO_LARGE, `the body is larger than ${limit} bytes`, {
    status: 413,
    details: [seen],
    hint: 'split the records into several POSTs, or raise billing.maxPostBytes',
  });
}

/**
 * The body, refused as soon as it passes `limit`: first by its Content-Length, then by counting what
 * arrives (the header may be absent, chunked, or lie), so no more than `limit` bytes are ever buffered.
 */
async function readLimited(req: Request, limit: number): Promise<Buffer> {
  const declared = req.headers.get('content-length');
  if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared) > limit)
    tooLarge(limit, `Content-Length: ${declared.trim()}`);
  if (req.body === null) return Buffer.alloc(0);
  const reader = (req.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      tooLarge(limit, `more than ${limit} bytes received`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** Parses `input`; a failure becomes the route's own error (`fail`), naming every bad field. */
function parseOr<S extends z.ZodType>(
  schema: S,
  input: unknown,
  fail: (details: string[]) => OverseerError,
): z.output<S> {
  const r = schema.safeParse(input);
  if (!r.success) throw fail(r.error.issues.map((i) => `${i.path.join('.') || '(query)'}: ${i.message}`));
  return r.data;
}

/** Staff roles read every tenant; `tenant:<id>` only its own. */
function assertTenant(c: Context<AppEnv>, tenant: string): void {
  const { role } = c.get('principal');
  if (allowsTenant(role, tenant)) return;
  throw new OverseerError(ErrorCodes.BILLING_TENANT_FORBIDDEN, `role ${role} may not read this tenant`, {
    status: 403,
    hint: 'a tenant token reads only its own tenant; viewer or stronger reads every tenant',
  });
}

const quarantineLines = (rejected: readonly RejectedLine[]): string =>
  rejected.map((r) => `${JSON.stringify({ line: r.line, reason: r.reason, text: r.text })}\n`).join('');

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

// Numbers as the API always wrote them, String() or JSON.stringify() of Number(text), without making most of
// them: Postgres writes an integer of at most 15 digits as exactly the digits JS writes for it. Longer ones
// (rounded beyond 2^53, 1e+21 from there) and float8 text (1e+15 where JS writes the digits) go through Number.
const intText = (t: string): string => (t.length < 16 ? t : String(Number(t)));
const intJson = (t: string): string => (t.length < 16 ? t : numberJson(t));
function numberJson(t: string): string {
  const n = Number(t);
  return Number.isFinite(n) ? String(n) : 'null';
}

function csvCell(r: UsageTextRow, column: (typeof CSV_COLUMNS)[number]): string {
  switch (column) {
    case 'tenant':
    case 'space':
      return csvField(r[column]);
    case 'hour':
      return r.hour;
    case 'final':
      return String(r.final);
    case 'memory_byte_seconds':
      return String(Number(r.memory_byte_seconds));
    default:
      return intText(r[column]);
  }
}
const csvLines = (rows: readonly UsageTextRow[]): string =>
  rows.map((r) => `${CSV_COLUMNS.map((k) => csvCell(r, k)).join(',')}\n`).join('');
const keyOf = (r: UsageTextRow): UsageKey => ({ hourMs: Date.parse(r.hour), space: r.space });

/**
 * A usage page as JSON: the bytes JSON.stringify made of `{ granularity, rows, nextCursor }` with the rows
 * of usagePage (keys in usageRowSchema's order), built straight from the text rows.
 */
export function usagePageJson(
  granularity: Granularity,
  rows: readonly UsageTextRow[],
  nextCursor: string | null,
): string {
  // Tenant and space repeat on every row: quote each value once.
  const quoted = new Map<string, string>();
  const q = (s: string): string => {
    let j = quoted.get(s);
    if (j === undefined) quoted.set(s, (j = JSON.stringify(s)));
    return j;
  };
  let out = `{"granularity":${JSON.stringify(granularity)},"rows":[`;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    out +=
      `${i === 0 ? '' : ','}{"tenant":${q(r.tenant)},"space":${q(r.space)},"hour":"${r.hour}",` +
      `"cpu_ms":${intJson(r.cpu_ms)},"memory_byte_seconds":${numberJson(r.memory_byte_seconds)},` +
      `"messages":${intJson(r.messages)},"bytes_in":${intJson(r.bytes_in)},"bytes_out":${intJson(r.bytes_out)},` +
      `"records":${intJson(r.records)},"first_ts":"${r.first_ts}","last_ts":"${r.last_ts}",` +
      `"revision":${intJson(r.revision)},"final":${r.final}}`;
  }
  return `${out}],"nextCursor":${JSON.stringify(nextCursor)}}`;
}

/**
 * Every row of the selection as CSV, one keyset page per chunk, read only when the client takes the last
 * one (pull). The first page is read before answering, so the common failure (database down) is still a
 * problem+json; a later failure aborts the response, which clients see as a broken transfer, never as a
 * short but complete-looking file.
 */
async function csvStream(
  db: Kysely<Database>,
  sel: UsageSelection,
  after: UsageKey | undefined,
): Promise<ReadableStream<Uint8Array>> {
  const enc = new TextEncoder();
  let pending: UsageTextRow[] | undefined = await usageTextRows(db, sel, after, CSV_PAGE);
  let next = after;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(enc.encode(`${CSV_COLUMNS.join(',')}\n`));
    },
    async pull(controller) {
      const rows = pending ?? (await usageTextRows(db, sel, next, CSV_PAGE));
      pending = undefined;
      if (rows.length > 0) controller.enqueue(enc.encode(csvLines(rows)));
      if (rows.length < CSV_PAGE) controller.close();
      else next = keyOf(rows.at(-1)!);
    },
  });
}

/**
 * The billing API under /api/v1: POST /billing/records (operator), GET /billing/usage and
 * GET /billing/tenants/:t/summary (viewer or stronger, or that tenant's own token), and
 * GET /openapi.json (any valid token) describing them.
 */
export function billingRoutes(deps: BillingRouteDeps) {
  const openapi = billingOpenApi();
  const cache = deps.usageCache;
  return (api: Hono<AppEnv>): void => {
    api.post('/billing/records', requireRole('operator'), async (c) => {
      const bytes = await readLimited(c.req.raw, deps.maxPostBytes);
      const sha = sha256(bytes);
      const batch = parseRecords(bytes.toString('utf8'));
      // Quarantined before the batch commits (like a spool file): a rejected line is never only in a reply.
      if (batch.rejected.length > 0) {
        await mkdir(deps.rejectedDir, { recursive: true });
        await writeFile(
          path.join(deps.rejectedDir, `post-${sha}.rejected.ndjson`),
          quarantineLines(batch.rejected),
        );
      }
      const src = { host: 'api', name: `post-${sha}`, sha256: sha, source: 'post' } as const;
      const r = await ingestBatch(deps.db, src, batch, deps.clock.nowMs());
      // This process's next read must see the batch; the database's notification may still be on its way.
      if (r.accepted > 0) cache.invalidate([...new Set(batch.records.map((x) => x.tenant))]);
      const result: PostResult = {
        accepted: r.accepted,
        duplicates: r.duplicates,
        rejected: batch.rejected.map((x) => ({ line: x.line, reason: x.reason })),
        replay: r.replay,
      };
      return c.json(result);
    });

    api.get('/billing/usage', async (c) => {
      // Scope first: another tenant's token learns nothing, not even which of its parameters were wrong.
      const asked = c.req.query('tenant');
      if (asked !== undefined) assertTenant(c, asked);
      const q = parseOr(
        usageQuerySchema,
        c.req.query(),
        (details) =>
          new OverseerError(ErrorCodes.BILLING_USAGE_QUERY_INVALID, 'the usage query is not valid', {
            status: 400,
            details,
            hint: 'GET /api/v1/billing/usage?tenant=t1&from=2026-11-01&to=2026-12-01[&space=&granularity=hour|day|month&limit=&cursor=]',
          }),
      );
      assertTenant(c, q.tenant);
      const sel: UsageSelection = {
        tenant: q.tenant,
        fromMs: Date.parse(q.from),
        toMs: Date.parse(q.to),
        space: q.space,
        granularity: q.granularity,
      };
      const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
      const csv =
        q.format === 'csv' ||
        (q.format === undefined &&
          accepts(c, { header: 'Accept', supports: ['application/json', 'text/csv'], default: '' }) ===
            'text/csv');
      if (csv)
        return c.body(await csvStream(deps.db, sel, after), 200, {
          'content-type': 'text/csv; charset=utf-8',
        });
      const key = usageCacheKey(sel, q.limit, after);
      const gz = acceptsGzip(c.req.header('accept-encoding'));
      const inm = c.req.header('if-none-match');
      const kept = cache.get(key);
      if (kept !== undefined) {
        const headers = { 'content-type': 'application/json', etag: kept.etag, vary: 'Accept-Encoding' };
        if (matchesIfNoneMatch(inm, kept.etag)) return c.body(null, 304, headers);
        return gz
          ? c.body(kept.gzip, 200, { ...headers, 'content-encoding': 'gzip' })
          : c.body(gunzipSync(kept.gzip), 200, headers);
      }
      // The ticket before the rows: if the tenant changes while they are read, the page is not kept.
      const ticket = cache.ticket();
      // One row more than asked tells whether another page exists without a count query.
      const rows = await usageTextRows(deps.db, sel, after, q.limit + 1);
      const page = rows.slice(0, q.limit);
      const nextCursor = rows.length > q.limit ? encodeCursor(keyOf(page.at(-1)!)) : null;
      const body = utf8.encode(usagePageJson(q.granularity, page, nextCursor));
      const etag = usageEtag(body);
      const headers = { 'content-type': 'application/json', etag, vary: 'Accept-Encoding' };
      if (cache.listening) {
        const packed = new Uint8Array(await gzipAsync(body, { level: GZIP_LEVEL }));
        cache.set(key, sel.tenant, ticket, { etag, gzip: packed });
        if (matchesIfNoneMatch(inm, etag)) return c.body(null, 304, headers);
        if (gz) return c.body(packed, 200, { ...headers, 'content-encoding': 'gzip' });
      }
      if (matchesIfNoneMatch(inm, etag)) return c.body(null, 304, headers);
      return c.body(body, 200, headers);
    });

    api.get('/billing/tenants/:t/summary', async (c) => {
      assertTenant(c, c.req.param('t'));
      const input = { ...c.req.query(), t: c.req.param('t') };
      const q = parseOr(
        summaryRequestSchema,
        input,
        (details) =>
          new OverseerError(ErrorCodes.BILLING_SUMMARY_QUERY_INVALID, 'the summary query is not valid', {
            status: 400,
            details,
            hint: 'GET /api/v1/billing/tenants/<tenant>/summary?month=2026-11',
          }),
      );
      const month = q.month ?? monthOf(deps.clock.nowMs());
      return c.json(await tenantSummary(deps.db, q.t, month, deps.closeAfterMs));
    });

    api.get('/openapi.json', (c) => c.json(openapi));
  };
}
