import { z } from 'zod';

const name = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^\u0000-\u001f]+$/, 'must not contain control characters');
const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

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
  ts: z.iso.datetime({ offset: true }),
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

/**
 * Parses NDJSON. Bad lines are set aside with the reason and never stop the rest. A last line without its
 * newline is kept when it is a whole valid record (a writer that renamed a complete file without the final
 * newline), and rejected as `partial last line` otherwise.
 */
export function parseRecords(text: string): ParsedBatch {
  const records: BillingRecord[] = [];
  const rejected: RejectedLine[] = [];
  const lines = text.split('\n');
  const partial = !text.endsWith('\n');
  let count = 0;
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return;
    count++;
    const last = i === lines.length - 1 && partial;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      rejected.push({
        line: i + 1,
        reason: last ? 'partial last line (no newline, not JSON)' : 'not JSON',
        text: line,
      });
      return;
    }
    const r = billingRecordSchema.safeParse(json);
    if (!r.success) {
      const reason = r.error.issues
        .slice(0, 5)
        .map((x) => `${x.path.join('.') || '(record)'}: ${x.message}`)
        .join('; ');
      rejected.push({ line: i + 1, reason, text: line });
      return;
    }
    const tsMs = Date.parse(r.data.ts);
    const { ts: _ts, ...rest } = r.data;
    records.push({ ...rest, tsMs, hourMs: Math.floor(tsMs / HOUR_MS) * HOUR_MS });
  });
  return { records, rejected, lines: count };
}
