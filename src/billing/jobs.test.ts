import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { billingLine, resetBilling, useMigratedDatabase } from '../../test/helpers/billing-db.js';
import { ManualClock } from '../clock.js';
import { ingestBatch } from './ingest.js';
import { applyRetention, closeHours, scanSpoolDirs } from './jobs.js';
import { rawPartitions } from './partitions.js';
import { HOUR_MS, parseRecords } from './record.js';

const logger = pino({ level: 'silent' });
const T0 = Date.parse('2026-11-25T12:00:00Z');
const MIN = 60_000;
const DAY = 24 * HOUR_MS;

const line = (id: string, ts: string, over: Record<string, unknown> = {}): string =>
  billingLine({ id, ts, ...over });

describe('billing jobs on real Postgres', () => {
  const database = useMigratedDatabase();
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  beforeEach(() => resetBilling(database.db, { dropPartitions: true }));

  const ingest = (name: string, ...lines: string[]) =>
    ingestBatch(
      database.db,
      { host: 'h1', name, sha256: name, source: 'spool' },
      parseRecords(`${lines.join('\n')}\n`),
      T0,
    );
  const closed = async (): Promise<Record<string, string | null>> =>
    Object.fromEntries(
      (
        await database.db.selectFrom('billing_hourly').select(['hour', 'closed_at']).orderBy('hour').execute()
      ).map((r) => [r.hour.toISOString().slice(11, 16), r.closed_at?.toISOString() ?? null]),
    );

  it('closes an hour once it ended closeAfter ago, and only once', async () => {
    await ingest(
      'a',
      line('1', '2026-11-25T09:30:00Z'),
      line('2', '2026-11-25T10:59:00Z'),
      line('3', '2026-11-25T11:00:00Z'),
    );
    const clock = new ManualClock(T0); // 12:00
    const closeAfter = 60 * MIN;
    // 09:00 ended 10:00, closable from 11:00; 10:00 from exactly 12:00; 11:00 not before 13:00.
    expect(await closeHours(database.db, clock.nowMs(), closeAfter)).toBe(2);
    expect(await closed()).toEqual({
      '09:00': '2026-11-25T12:00:00.000Z',
      '10:00': '2026-11-25T12:00:00.000Z',
      '11:00': null,
    });
    clock.advance(59 * MIN);
    expect(await closeHours(database.db, clock.nowMs(), closeAfter)).toBe(0);
    clock.advance(MIN);
    expect(await closeHours(database.db, clock.nowMs(), closeAfter)).toBe(1);
    expect(await closed()).toMatchObject({
      '09:00': '2026-11-25T12:00:00.000Z',
      '11:00': '2026-11-25T13:00:00.000Z',
    });
  });

  it('retention drops raw day partitions that ended before now − rawRetention, never hourly rows', async () => {
    await ingest(
      'a',
      line('1', '2026-11-20T10:00:00Z'),
      line('2', '2026-11-21T23:59:59Z'),
      line('3', '2026-11-22T00:00:00Z'),
      line('4', '2026-11-25T10:00:00Z'),
    );
    const clock = new ManualClock(Date.parse('2026-11-25T03:00:00Z'));
    // Cutoff 2026-11-22T03:00: the 20th and 21st ended before it; the 22nd has not.
    expect(await applyRetention(database.db, clock.nowMs(), 3 * DAY)).toEqual([
      'billing_raw_20261120',
      'billing_raw_20261121',
    ]);
    expect((await rawPartitions(database.db)).map((p) => p.name)).toEqual([
      'billing_raw_20261122',
      'billing_raw_20261125',
    ]);
    expect(await database.db.selectFrom('billing_hourly').select('hour').execute()).toHaveLength(4);
    expect(await applyRetention(database.db, clock.nowMs(), 3 * DAY)).toEqual([]);
    // The keys stay: a record seen before the drop is still a duplicate after it.
    expect(await ingest('b', line('1', '2026-11-20T10:00:00Z'))).toMatchObject({
      accepted: 0,
      duplicates: 1,
    });
  });

  it('scans spool folders: files ingested and moved to done/, a failing file left and counted', async () => {
    const good = mkdtempSync(path.join(tmpdir(), 'overseer-spool-'));
    const broken = mkdtempSync(path.join(tmpdir(), 'overseer-spool-'));
    dirs.push(good, broken);
    writeFileSync(path.join(good, 'h1.1.ndjson'), `${line('1', '2026-11-25T10:00:00Z')}\nnot json\n`);
    writeFileSync(path.join(good, 'h1.2.ndjson'), `${line('1', '2026-11-25T10:00:00Z')}\n`);
    writeFileSync(path.join(good, 'h1.3.tmp'), 'being written');
    writeFileSync(path.join(broken, 'h1.4.ndjson'), `${line('4', '2026-11-25T10:00:00Z')}\n`);
    writeFileSync(path.join(broken, 'done'), 'a file where the done/ folder should be');
    const failures: string[] = [];
    const report = await scanSpoolDirs({
      db: database.db,
      dirs: [good, broken],
      clock: new ManualClock(T0),
      logger,
      onFailure: (file, err) => failures.push(`${path.basename(file)} ${err.code}`),
    });
    expect(report).toEqual({
      files: 3,
      ingested: 2,
      replays: 0,
      failed: 1,
      accepted: 1,
      duplicates: 1,
      rejected: 1,
    });
    expect(failures).toEqual(['h1.4.ndjson 101303']);
    expect(readdirSync(good).sort()).toEqual(['done', 'h1.3.tmp', 'rejected']);
    expect(readdirSync(path.join(good, 'done')).sort()).toEqual(['h1.1.ndjson', 'h1.2.ndjson']);
    expect(existsSync(path.join(broken, 'h1.4.ndjson'))).toBe(true);
    // Stopping between files: nothing is touched once keepGoing says no.
    writeFileSync(path.join(good, 'h1.5.ndjson'), `${line('5', '2026-11-25T10:00:00Z')}\n`);
    const none = await scanSpoolDirs({
      db: database.db,
      dirs: [good],
      clock: new ManualClock(T0),
      logger,
      keepGoing: () => false,
    });
    expect(none.files).toBe(0);
    expect(existsSync(path.join(good, 'h1.5.ndjson'))).toBe(true);
  });
});
