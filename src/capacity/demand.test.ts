import { describe, expect, it } from 'vitest';
import { useMigratedDatabase } from '../../test/helpers/migrated-db.js';
import { billedDemand, demandOf, demandWindowStart } from './demand.js';

const H = 3_600_000;
const T = (iso: string): number => Date.parse(iso);

describe('demand window', () => {
  it.each([
    ['mid-hour, 1 h: the previous hour and this one', '2026-11-25T10:30:00Z', H, '2026-11-25T09:00:00Z'],
    ['on the hour, 1 h: exactly the previous hour', '2026-11-25T10:00:00Z', H, '2026-11-25T09:00:00Z'],
    ['30 min window: this hour only, from its start', '2026-11-25T10:45:00Z', H / 2, '2026-11-25T10:00:00Z'],
    ['3 h window across midnight', '2026-11-25T01:10:00Z', 3 * H, '2026-11-24T22:00:00Z'],
  ])('%s', (_, now, window, start) => {
    expect(new Date(demandWindowStart(T(now), window)).toISOString()).toBe(new Date(T(start)).toISOString());
  });

  it.each([
    [
      'one core for 90 min',
      { cpuMs: 90 * 60_000, memoryByteSeconds: 0 },
      90 * 60_000,
      { cpu: 1, memoryBytes: 0 },
    ],
    [
      'quarter of a core, 2 GB held',
      { cpuMs: 15 * 60_000, memoryByteSeconds: 2e9 * 3600 },
      H,
      { cpu: 0.25, memoryBytes: 2e9 },
    ],
    ['nothing billed', { cpuMs: 0, memoryByteSeconds: 0 }, H, { cpu: 0, memoryBytes: 0 }],
  ])('demandOf: %s', (_, usage, spanMs, want) => {
    const got = demandOf(usage, 0, spanMs);
    expect(got.cpu).toBeCloseTo(want.cpu, 12);
    expect(got.memoryBytes).toBeCloseTo(want.memoryBytes, 3);
  });
});

describe('billedDemand on real Postgres', () => {
  const database = useMigratedDatabase();

  it('sums every space of a tenant inside the window, and leaves out tenants billed only before it', async () => {
    const row = (tenant: string, space: string, hour: string, cpuMs: number, mbs: number) => ({
      tenant,
      space,
      hour: new Date(hour),
      cpu_ms: cpuMs,
      memory_byte_seconds: mbs,
      messages: 0,
      bytes_in: 0,
      bytes_out: 0,
      records: 1,
      first_ts: new Date(hour),
      last_ts: new Date(hour),
    });
    await database.db
      .insertInto('billing_hourly')
      .values([
        row('t1', 'a', '2026-11-25T09:00:00Z', 60 * 60_000, 1e9 * 3600),
        row('t1', 'b', '2026-11-25T10:00:00Z', 30 * 60_000, 1e9 * 1800),
        row('t2', 'a', '2026-11-25T10:00:00Z', 6 * 60_000, 0),
        // Before the window, and after now (a clock-skewed host): neither counts.
        row('old', 'a', '2026-11-25T08:00:00Z', 1e9, 1e9),
        row('t2', 'a', '2026-11-25T12:00:00Z', 1e9, 1e9),
      ])
      .execute();
    // 10:30 with a 1 h window: 09:00 → 10:30, 90 minutes.
    const got = await billedDemand(database.db, T('2026-11-25T10:30:00Z'), H);
    expect([...got.keys()].sort()).toEqual(['t1', 't2']);
    expect(got.get('t1')!.cpu).toBeCloseTo(1, 9);
    expect(got.get('t1')!.memoryBytes).toBeCloseTo((1e9 * 5400) / 5400, 0);
    expect(got.get('t2')!.cpu).toBeCloseTo(6 / 90, 9);
  });
});
