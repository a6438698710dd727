import { beforeEach, describe, expect, it } from 'vitest';
import { billingLine, resetBilling, useMigratedDatabase } from '../../test/helpers/billing-db.js';
import { copyText, ingestBatch, INGEST_CHUNK } from './ingest.js';
import { rawPartitions } from './partitions.js';
import { parseRecords } from './record.js';

const NOW = Date.parse('2026-11-25T12:30:00Z');

// Bigger measures than billingLine's: the expected sums below are multiples of cpu_ms 100 and messages 2.
const line = (over: Record<string, unknown> = {}): string =>
  billingLine({ cpu_ms: 100, memory_byte_seconds: 1.5e9, messages: 2, bytes_in: 10, bytes_out: 20, ...over });
const ndjson = (...lines: string[]): string => `${lines.join('\n')}\n`;

describe('ingestBatch on real Postgres', () => {
  const database = useMigratedDatabase();
  beforeEach(() => resetBilling(database.db));

  const hourly = async () =>
    (
      await database.db
        .selectFrom('billing_hourly')
        .selectAll()
        .orderBy('tenant')
        .orderBy('space')
        .orderBy('hour')
        .execute()
    ).map((r) => ({
      tenant: r.tenant,
      space: r.space,
      hour: r.hour.toISOString(),
      cpu_ms: Number(r.cpu_ms),
      messages: Number(r.messages),
      records: r.records,
      revision: r.revision,
    }));
  const src = (name: string, sha = name) => ({ host: 'h1', name, sha256: sha, source: 'spool' as const });

  it('sums records into one row per tenant, space and UTC hour, and keeps raw rows in day partitions', async () => {
    const r = await ingestBatch(
      database.db,
      src('a'),
      parseRecords(
        ndjson(
          line(),
          line({ id: 'r2', ts: '2026-11-25T10:59:59.999Z' }),
          line({ id: 'r3', ts: '2026-11-25T11:00:00Z' }),
          line({ id: 'r4', space: 's2' }),
          line({ id: 'r5', ts: '2026-11-24T23:59:59+00:00' }),
          line({ id: 'r6', ts: '2026-11-25T01:30:00+02:00' }),
        ),
      ),
      NOW,
    );
    expect(r).toMatchObject({ replay: false, records: 6, accepted: 6, duplicates: 0, rejected: 0 });
    expect(await hourly()).toEqual([
      {
        tenant: 't1',
        space: 's1',
        hour: '2026-11-24T23:00:00.000Z',
        cpu_ms: 200,
        messages: 4,
        records: 2,
        revision: 0,
      },
      {
        tenant: 't1',
        space: 's1',
        hour: '2026-11-25T10:00:00.000Z',
        cpu_ms: 200,
        messages: 4,
        records: 2,
        revision: 0,
      },
      {
        tenant: 't1',
        space: 's1',
        hour: '2026-11-25T11:00:00.000Z',
        cpu_ms: 100,
        messages: 2,
        records: 1,
        revision: 0,
      },
      {
        tenant: 't1',
        space: 's2',
        hour: '2026-11-25T10:00:00.000Z',
        cpu_ms: 100,
        messages: 2,
        records: 1,
        revision: 0,
      },
    ]);
    expect((await rawPartitions(database.db)).map((p) => p.name)).toEqual([
      'billing_raw_20261124',
      'billing_raw_20261125',
    ]);
  });

  it('a replayed file adds nothing; the same records in another file, or twice in one, are duplicates', async () => {
    const text = ndjson(line(), line({ id: 'r2' }));
    await ingestBatch(database.db, src('a'), parseRecords(text), NOW);
    expect(await ingestBatch(database.db, src('a'), parseRecords(text), NOW)).toMatchObject({
      replay: true,
      accepted: 0,
      duplicates: 2,
    });
    expect(
      await ingestBatch(
        database.db,
        src('b'),
        parseRecords(ndjson(line(), line({ id: 'r3' }), line({ id: 'r3' }))),
        NOW,
      ),
    ).toMatchObject({ replay: false, accepted: 1, duplicates: 2 });
    expect(await hourly()).toMatchObject([{ records: 3, cpu_ms: 300 }]);
  });

  it('a record for a sealed hour restates it: revision + 1', async () => {
    await ingestBatch(database.db, src('a'), parseRecords(ndjson(line())), NOW);
    await database.db
      .updateTable('billing_hourly')
      .set({ closed_at: new Date(NOW) })
      .execute();
    await ingestBatch(database.db, src('b'), parseRecords(ndjson(line({ id: 'late' }))), NOW);
    expect(await hourly()).toMatchObject([{ records: 2, revision: 1 }]);
  });

  it('bad lines are counted as rejected and do not stop the rest', async () => {
    const r = await ingestBatch(
      database.db,
      src('a'),
      parseRecords(`${line()}\n{not json\n${line({ id: 'r2', cpu_ms: -1 })}\n${line({ id: 'r3' })}`),
      NOW,
    );
    expect(r).toMatchObject({ accepted: 2, rejected: 2, records: 2 });
  });

  it(`a batch larger than one chunk (${INGEST_CHUNK}) is counted exactly once`, async () => {
    const n = INGEST_CHUNK + 123;
    const text = ndjson(...Array.from({ length: n }, (_, i) => line({ id: `r${i}` })));
    const r = await ingestBatch(database.db, src('big'), parseRecords(text), NOW);
    expect(r).toMatchObject({ accepted: n, duplicates: 0 });
    expect(await hourly()).toMatchObject([{ records: n, cpu_ms: 100 * n }]);
  });
});

describe('copyText', () => {
  it('writes each time as toISOString does, in its own hour', () => {
    const times = [
      0,
      1,
      59_999,
      3_599_999,
      Date.UTC(2026, 10, 25, 23, 59, 59, 999),
      -1,
      Date.UTC(9999, 11, 31, 23, 59, 59, 999),
    ];
    const records = parseRecords(
      times.map((ms, i) => billingLine({ id: `c${i}`, ts: new Date(ms).toISOString() })).join('\n') + '\n',
    ).records;
    const rows = copyText(records)
      .trimEnd()
      .split('\n')
      .map((l) => l.split('\t'));
    expect(rows.map((r) => r[4])).toEqual(times.map((ms) => new Date(ms).toISOString()));
    expect(rows.map((r) => r[5])).toEqual(
      times.map((ms) => new Date(Math.floor(ms / 3_600_000) * 3_600_000).toISOString()),
    );
  });

  it('escapes what COPY text format would read as an escape', () => {
    const [r] = parseRecords(billingLine({ id: 'a\\b', tenant: 't\\' })).records;
    expect(copyText([r!]).split('\t').slice(0, 3)).toEqual([expect.any(String), 'a\\\\b', 't\\\\']);
  });
});
