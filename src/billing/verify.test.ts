import { sql } from 'kysely';
import { beforeEach, describe, expect, it } from 'vitest';
import { billingLine, resetBilling, useMigratedDatabase } from '../../test/helpers/billing-db.js';
import { ingestBatch } from './ingest.js';
import { applyRetention } from './jobs.js';
import { parseRecords } from './record.js';
import { verifyHours } from './verify.js';

const NOW = Date.parse('2026-11-25T12:00:00Z');
const DAY = 86_400_000;

// Fractional memory_byte_seconds, and bytes_out at Number.MAX_SAFE_INTEGER so hourly sums pass 2^53.
const line = (id: string, ts: string, over: Record<string, unknown> = {}): string =>
  billingLine({ id, ts, memory_byte_seconds: 0.1, bytes_in: 100, bytes_out: 9_007_199_254_740_991, ...over });

describe('verifyHours on real Postgres', () => {
  const database = useMigratedDatabase();
  beforeEach(async () => {
    await resetBilling(database.db, { dropPartitions: true });
    // Three days, two tenants, two spaces; several files so hourly rows are sums of several ingests (and
    // memory_byte_seconds is added in another order than verify's one sum()).
    const files = [
      [line('1', '2026-11-23T10:00:00Z'), line('2', '2026-11-23T10:30:00Z', { tenant: 't2' })],
      [line('3', '2026-11-24T08:00:00Z'), line('4', '2026-11-24T08:59:59.999Z', { space: 's2' })],
      [line('5', '2026-11-24T08:10:00Z'), line('6', '2026-11-25T11:00:00Z', { memory_byte_seconds: 0.2 })],
      [line('7', '2026-11-25T11:20:00Z', { memory_byte_seconds: 0.7 }), line('8', '2026-11-23T10:05:00Z')],
    ];
    for (const [i, f] of files.entries())
      await ingestBatch(
        database.db,
        { host: 'h1', name: `f${i}`, sha256: `f${i}`, source: 'spool' },
        parseRecords(`${f.join('\n')}\n`),
        NOW,
      );
  });

  it('finds nothing when hourly rows are the sums of their raw records', async () => {
    expect(await verifyHours(database.db)).toEqual({
      checked: 5,
      notVerifiable: 0,
      notVerifiableHours: undefined,
      differences: [],
    });
  });

  it('finds exactly the tampered field of the tampered row', async () => {
    await database.db
      .updateTable('billing_hourly')
      .set({ messages: sql`messages + 1` })
      .where('tenant', '=', 't1')
      .where('space', '=', 's1')
      .where('hour', '=', new Date('2026-11-24T08:00:00Z'))
      .execute();
    const r = await verifyHours(database.db);
    expect(r.checked).toBe(5);
    expect(r.differences).toEqual([
      {
        tenant: 't1',
        space: 's1',
        hour: '2026-11-24T08:00:00.000Z',
        field: 'messages',
        hourly: '3',
        raw: '2',
      },
    ]);
    // Filters: another tenant, or a range without that hour, sees no difference.
    expect((await verifyHours(database.db, { tenant: 't2' })).differences).toEqual([]);
    expect(
      await verifyHours(database.db, { fromMs: Date.parse('2026-11-24T09:00:00Z'), toMs: NOW }),
    ).toMatchObject({ checked: 1, differences: [] });
    expect(
      await verifyHours(database.db, {
        tenant: 't1',
        fromMs: Date.parse('2026-11-24T08:00:00Z'),
        toMs: Date.parse('2026-11-24T09:00:00Z'),
      }),
    ).toMatchObject({ checked: 2, differences: [{ field: 'messages' }] });
  });

  it('reports a row with no raw records, and raw records with no row', async () => {
    await database.db.deleteFrom('billing_hourly').where('tenant', '=', 't2').execute();
    await database.db
      .insertInto('billing_hourly')
      .values({
        tenant: 't3',
        space: 's1',
        hour: new Date('2026-11-25T09:00:00Z'),
        cpu_ms: 1,
        memory_byte_seconds: 1,
        messages: 1,
        bytes_in: 1,
        bytes_out: 1,
        records: 1,
        first_ts: new Date('2026-11-25T09:00:00Z'),
        last_ts: new Date('2026-11-25T09:00:00Z'),
      })
      .execute();
    const r = await verifyHours(database.db);
    expect(r.differences).toEqual([
      {
        tenant: 't2',
        space: 's1',
        hour: '2026-11-23T10:00:00.000Z',
        field: 'row',
        hourly: null,
        raw: '1 record(s)',
      },
      {
        tenant: 't3',
        space: 's1',
        hour: '2026-11-25T09:00:00.000Z',
        field: 'row',
        hourly: '1 record(s)',
        raw: null,
      },
    ]);
  });

  it('hours whose raw records aged out are not verifiable, not differences', async () => {
    await applyRetention(database.db, NOW, 1.5 * DAY); // drops the 23rd
    await database.db
      .updateTable('billing_hourly')
      .set({ cpu_ms: 999_999 })
      .where('hour', '<', new Date('2026-11-24T00:00:00Z'))
      .execute();
    expect(await verifyHours(database.db)).toEqual({
      checked: 3,
      notVerifiable: 2,
      notVerifiableHours: { from: '2026-11-23T10:00:00.000Z', to: '2026-11-23T10:00:00.000Z' },
      differences: [],
    });
    // A late record re-creates the dropped day's partition holding only itself: still not verifiable when
    // the caller says which days retention has had.
    await ingestBatch(
      database.db,
      { host: 'h1', name: 'late', sha256: 'late', source: 'spool' },
      parseRecords(`${line('late', '2026-11-23T10:45:00Z')}\n`),
      NOW,
    );
    expect((await verifyHours(database.db)).differences.length).toBeGreaterThan(0);
    expect(await verifyHours(database.db, { retainedFromMs: NOW - 1.5 * DAY })).toMatchObject({
      checked: 3,
      notVerifiable: 2,
      differences: [],
    });
  });
});
