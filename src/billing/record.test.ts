import { describe, expect, it } from 'vitest';
import { billingRecordSchema, parseRecords } from './record.js';

const good = {
  id: 'r1',
  tenant: 't1',
  space: 's1',
  host: 'h1',
  ts: '2026-11-25T10:15:00Z',
  cpu_ms: 120,
  memory_byte_seconds: 2.1e9,
  messages: 14,
  bytes_in: 5120,
  bytes_out: 900,
};
const line = (over: Record<string, unknown>): string => JSON.stringify({ ...good, ...over });

const TS = [
  '2026-11-25T10:15:00Z',
  '2026-11-25T10:15:00.5Z',
  '2026-11-25T10:15:00.123456789Z',
  '2026-11-25T10:15:00+02:00',
  '2026-11-25T10:15:00-23:59',
  '2026-11-25T10:15:00+24:00',
  '2026-11-25T10:15Z',
  '2026-11-25 10:15:00Z',
  '2026-11-25T10:15:00',
  '2026-02-29T00:00:00Z',
  '2024-02-29T00:00:00Z',
  '2026-02-30T00:00:00Z',
  '2026-13-01T00:00:00Z',
  '2026-11-25T24:00:00Z',
  '2026-11-25T23:60:00Z',
  '2026-11-25T23:59:60Z',
  '2026-11-25t10:15:00z',
  '+02026-11-25T10:15:00Z',
  // At the ends of the years 0001–9999 once in UTC (the COPY text writes four-digit years).
  '0001-01-01T00:00:00Z',
  '0000-12-31T23:30:00Z',
  '0001-01-01T00:30:00+01:00',
  '9999-12-31T23:59:59.999Z',
  '9999-12-31T23:30:00-01:00',
  '',
];
const NUMBERS = [0, -0, 1, 1.5, -1, 2 ** 53, 2 ** 53 - 1, 1e300, Number.NaN, '12', null, true];
const NAMES = ['a', '', 'x'.repeat(200), 'x'.repeat(201), 'tab\there', 'é', 'a b', 7, null];

describe('parseRecords never accepts what the schema refuses, and refuses with the reason', () => {
  const cases: Array<[string, string]> = [
    ...TS.map((ts): [string, string] => [`ts ${JSON.stringify(ts)}`, line({ ts })]),
    ...NUMBERS.flatMap((n) =>
      ['cpu_ms', 'messages', 'bytes_in', 'bytes_out', 'memory_byte_seconds'].map((f): [string, string] => [
        `${f} ${String(n)}`,
        line({ [f]: n }),
      ]),
    ),
    ...NAMES.flatMap((v) =>
      ['id', 'tenant', 'space', 'host'].map((f): [string, string] => [
        `${f} ${JSON.stringify(v)}`,
        line({ [f]: v }),
      ]),
    ),
    ['an extra field', line({ region: 'eu' })],
    ['a missing field', JSON.stringify({ ...good, space: undefined })],
    ['an array', '[1,2]'],
    ['a number', '42'],
  ];

  it.each(cases)('%s', (_, text) => {
    const parsed = parseRecords(`${text}\n`);
    const schema = billingRecordSchema.safeParse(JSON.parse(text));
    expect(parsed.records.length === 1, 'accepted exactly when the schema accepts').toBe(schema.success);
    if (schema.success) {
      expect(parsed.records[0]!.tsMs).toBe(Date.parse(schema.data.ts));
      expect(parsed.records[0]!.hourMs % 3_600_000 === 0).toBe(true);
    } else {
      expect(parsed.rejected).toEqual([{ line: 1, reason: expect.stringMatching(/.+/) as string, text }]);
    }
  });
});

describe('parseRecords: lines and files', () => {
  it('keeps going after bad lines, numbering them as in the file, skipping blank ones', () => {
    const r = parseRecords(
      `${line({})}\n\n{oops\n${line({ id: 'r2', cpu_ms: -5 })}\r\n${line({ id: 'r3' })}\n`,
    );
    expect(r.records.map((x) => x.id)).toEqual(['r1', 'r3']);
    expect(r.rejected.map((x) => [x.line, x.reason])).toEqual([
      [3, 'not JSON'],
      [4, expect.stringContaining('cpu_ms') as string],
    ]);
    expect(r.lines).toBe(4);
  });

  it.each([
    ['a complete record without the final newline is kept', line({}), 1, 0],
    ['a cut-off last line is rejected as partial', `${line({})}\n${line({ id: 'r2' }).slice(0, 30)}`, 1, 1],
  ])('%s', (_, text, accepted, rejected) => {
    const r = parseRecords(text);
    expect([r.records.length, r.rejected.length]).toEqual([accepted, rejected]);
    if (rejected) expect(r.rejected[0]!.reason).toMatch(/partial last line/);
  });

  it('hours are UTC whatever the offset written', () => {
    const r = parseRecords(`${line({ ts: '2026-11-25T00:30:00+02:00' })}\n`);
    expect(new Date(r.records[0]!.hourMs).toISOString()).toBe('2026-11-24T22:00:00.000Z');
  });
});

describe('record times: the fast forms read as Date.parse reads them', () => {
  // A seeded walk over years 100–9999, both the second and the millisecond form.
  let seed = 42;
  const rand = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const lo = Date.UTC(100, 0, 1);
  const hi = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
  const times = Array.from({ length: 2_000 }, () => Math.floor(lo + rand() * (hi - lo)));
  const line = (ts: string) =>
    JSON.stringify({
      id: 'i',
      tenant: 't',
      space: 's',
      host: 'h',
      ts,
      cpu_ms: 1,
      memory_byte_seconds: 1,
      messages: 1,
      bytes_in: 1,
      bytes_out: 1,
    });

  it.each([
    ['milliseconds', (ms: number) => new Date(ms).toISOString()],
    ['seconds', (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')],
  ])('%s', (_n, format) => {
    const texts = times.map(format);
    const { records, rejected } = parseRecords(texts.map(line).join('\n') + '\n');
    expect(rejected).toEqual([]);
    expect(records.map((r) => r.tsMs)).toEqual(texts.map((t) => Date.parse(t)));
    expect(records.map((r) => r.hourMs)).toEqual(
      texts.map((t) => Math.floor(Date.parse(t) / 3_600_000) * 3_600_000),
    );
  });

  it.each([
    '2023-02-29T00:00:00Z',
    '2100-02-29T00:00:00.000Z',
    '2024-04-31T00:00:00Z',
    '2024-13-01T00:00:00Z',
    '2024-00-01T00:00:00Z',
    '2024-01-00T00:00:00Z',
    '2024-01-01T24:00:00Z',
    '2024-01-01T00:60:00Z',
    '2024-01-01T00:00:60Z',
    '2024-01-01T00:00:00.00aZ',
    '2024-01-01 00:00:00Z',
    '2024-01-01T00:00:00z',
  ])('refuses %s, as the schema does', (ts) => {
    expect(billingRecordSchema.safeParse(JSON.parse(line(ts))).success && !Number.isNaN(Date.parse(ts))).toBe(
      false,
    );
    expect(parseRecords(line(ts) + '\n').records).toEqual([]);
  });

  it.each([
    '2024-02-29T12:00:00Z',
    '0099-06-01T00:00:00Z',
    '2024-06-01T00:00:00.5Z',
    '2024-06-01T02:00:00+02:00',
  ])('takes %s with the time Date.parse gives', (ts) => {
    expect(parseRecords(line(ts) + '\n').records.map((r) => r.tsMs)).toEqual([Date.parse(ts)]);
  });
});
