import { z } from 'zod';

// Tenant, space, host and id end up in CSV, file names and logs: no control characters.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f]/;
const name = z
  .string()
  .min(1)
  .max(200)
  .refine((v) => !CONTROL.test(v), 'must not contain control characters');
const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** Years 0001–9999 in UTC: what the hour columns hold and what the COPY text (four-digit years) can say. */
const MIN_TS_MS = Date.parse('0001-01-01T00:00:00Z');
const MAX_TS_MS = Date.parse('9999-12-31T23:59:59.999Z');
function inStoredRange(ts: string): boolean {
  const ms = Date.parse(ts);
  return ms >= MIN_TS_MS && ms <= MAX_TS_MS;
}

/**
 * One usage record as hosts write it (one JSON object per line). Identified by (host, id): the same pair
 * seen again, in any file or POST, is a duplicate. Counters are whole numbers (they are summed exactly in
 * bigint columns); memory_byte_seconds is a float.
 */
export const billingRecordSchema = z.object({
  id: name,
  tenant: name,
  space: name,
  host: name,
  ts: z.iso.datetime({ offset: true }).refine(inStoredRange, 'must lie in the years 0001–9999 once in UTC'),
  cpu_ms: count,
  memory_byte_seconds: z.number().nonnegative().finite(),
  messages: count,
  bytes_in: count,
  bytes_out: count,
});

export type BillingRecordInput = z.infer<typeof billingRecordSchema>;

/** The measures every hourly row sums, by their record field names (CSV columns use the same). */
export const MEASURES = ['cpu_ms', 'memory_byte_seconds', 'messages', 'bytes_in', 'bytes_out'] as const;
export type Measure = (typeof MEASURES)[number];

/** A validated record with its time as ms and its UTC hour. */
export interface BillingRecord extends Omit<BillingRecordInput, 'ts'> {
  tsMs: number;
  hourMs: number;
}

export const HOUR_MS = 3_600_000;

/** A line that could not be counted, with why (the quarantine keeps both). */
export interface RejectedLine {
  line: number;
  reason: string;
  text: string;
}

export interface ParsedBatch {
  records: BillingRecord[];
  rejected: RejectedLine[];
  /** Lines that were not blank. */
  lines: number;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const okName = (v: unknown): v is string =>
  typeof v === 'string' && v.length >= 1 && v.length <= 200 && !CONTROL.test(v);
const okCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** The digit at `i` of `s`, or NaN. */
const digit = (s: string, i: number): number => {
  const c = s.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : NaN;
};
const num = (s: string, i: number, n: number): number => {
  let v = 0;
  for (let k = 0; k < n; k++) v = v * 10 + digit(s, i + k);
  return v;
};
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeap = (y: number): boolean => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/**
 * `YYYY-MM-DDTHH:MM:SSZ` or `YYYY-MM-DDTHH:MM:SS.sssZ` (what toISOString and most writers emit) as ms,
 * without a regex or a Date; undefined for any other form or an impossible date (offsetMillis decides those).
 */
function utcMillis(ts: string): number | undefined {
  const n = ts.length;
  if (n !== 20 && n !== 24) return undefined;
  if (ts[4] !== '-' || ts[7] !== '-' || ts[10] !== 'T' || ts[13] !== ':' || ts[16] !== ':') return undefined;
  if (ts[n - 1] !== 'Z' || (n === 24 && ts[19] !== '.')) return undefined;
  const y = num(ts, 0, 4);
  // Date.UTC reads years 0–99 as 1900–1999: those take the slow path.
  if (!(y >= 100)) return undefined;
  const mo = num(ts, 5, 2);
  const d = num(ts, 8, 2);
  const h = num(ts, 11, 2);
  const mi = num(ts, 14, 2);
  const se = num(ts, 17, 2);
  const ms = n === 24 ? num(ts, 20, 3) : 0;
  // NaN (a non-digit) fails every comparison below.
  if (!(mo >= 1 && mo <= 12 && d >= 1 && h <= 23 && mi <= 59 && se <= 59 && ms >= 0)) return undefined;
  if (!(d <= (mo === 2 && isLeap(y) ? 29 : DAYS_IN_MONTH[mo - 1]!))) return undefined;
  return Date.UTC(y, mo - 1, d, h, mi, se, ms);
}

/** Any other RFC 3339 form the schema takes (offsets, 1–9 fraction digits), checked field by field. */
function offsetMillis(ts: string): number | undefined {
  const m = RFC3339.exec(ts);
  if (m === null) return undefined;
  const [y, mo, d, h, mi, se] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  // Date.UTC rolls 02-30 over to 03-02: a calendar date is valid only if it comes back unchanged.
  const day = new Date(Date.UTC(y, mo - 1, d));
  if (day.getUTCFullYear() !== y || day.getUTCMonth() !== mo - 1 || day.getUTCDate() !== d) return undefined;
  if (h > 23 || mi > 59 || se > 59) return undefined;
  if (m[7] !== 'Z' && (Number(m[7]!.slice(1, 3)) > 23 || Number(m[7]!.slice(4, 6)) > 59)) return undefined;
  const tsMs = Date.parse(ts);
  return Number.isFinite(tsMs) ? tsMs : undefined;
}

/**
 * The common case without zod: a record every field of which is plainly valid. Conservative — anything it
 * does not accept goes through the schema, which accepts or gives the reason — so it never admits what the
 * schema would refuse (a test holds it to that). Ingest throughput lives here: zod per line costs more
 * than the database work.
 */
function fastRecord(o: unknown): BillingRecord | undefined {
  if (typeof o !== 'object' || o === null) return undefined;
  const r = o as Record<string, unknown>;
  const { id, tenant, space, host, ts, cpu_ms, memory_byte_seconds, messages, bytes_in, bytes_out } = r;
  if (!okName(id) || !okName(tenant) || !okName(space) || !okName(host)) return undefined;
  if (!okCount(cpu_ms) || !okCount(messages) || !okCount(bytes_in) || !okCount(bytes_out)) return undefined;
  if (
    typeof memory_byte_seconds !== 'number' ||
    !(memory_byte_seconds >= 0) ||
    !Number.isFinite(memory_byte_seconds)
  )
    return undefined;
  if (typeof ts !== 'string') return undefined;
  const tsMs = utcMillis(ts) ?? offsetMillis(ts);
  if (tsMs === undefined || !(tsMs >= MIN_TS_MS && tsMs <= MAX_TS_MS)) return undefined;
  return {
    id,
    tenant,
    space,
    host,
    cpu_ms,
    memory_byte_seconds,
    messages,
    bytes_in,
    bytes_out,
    tsMs,
    hourMs: Math.floor(tsMs / HOUR_MS) * HOUR_MS,
  };
}

/**
 * Parses NDJSON. Bad lines are set aside with the reason and never stop the rest. A last line without its
 * newline is kept when it is a whole valid record (a writer that renamed a complete file without the final
 * newline), and rejected as `partial last line` otherwise.
 */
export function parseRecords(text: string): ParsedBatch {
  const records: BillingRecord[] = [];
  const rejected: RejectedLine[] = [];
  const partial = !text.endsWith('\n');
  let count = 0;
  // Line by line without splitting the text into an array first: a file is 20k+ lines.
  for (let start = 0, i = 0; start < text.length; i++) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const last = end === text.length && partial;
    const raw = text.slice(start, end);
    start = end + 1;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.charCodeAt(0) !== 123 /* { */ && line.trim() === '') continue;
    count++;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      rejected.push({
        line: i + 1,
        reason: last ? 'partial last line (no newline, not JSON)' : 'not JSON',
        text: line,
      });
      continue;
    }
    const fast = fastRecord(json);
    if (fast !== undefined) {
      records.push(fast);
      continue;
    }
    const r = billingRecordSchema.safeParse(json);
    if (!r.success) {
      const reason = r.error.issues
        .slice(0, 5)
        .map((x) => `${x.path.join('.') || '(record)'}: ${x.message}`)
        .join('; ');
      rejected.push({ line: i + 1, reason, text: line });
      continue;
    }
    const tsMs = Date.parse(r.data.ts);
    const { ts: _ts, ...rest } = r.data;
    records.push({ ...rest, tsMs, hourMs: Math.floor(tsMs / HOUR_MS) * HOUR_MS });
  }
  return { records, rejected, lines: count };
}
