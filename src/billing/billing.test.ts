import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { billingLine, resetBilling, useMigratedDatabase } from '../../test/helpers/billing-db.js';
import { waitFor } from '../../test/helpers/poll.js';
import { ManualClock } from '../clock.js';
import { configSchema } from '../config.js';
import { openDatabase } from '../db/open.js';
import { isOverseerError } from '../errors/index.js';
import { Billing, type BillingDeps } from './billing.js';
import { FileLock } from './leader.js';
import { rawPartitions } from './partitions.js';

const logger = pino({ level: 'silent' });
const T0 = Date.parse('2026-11-25T12:00:00Z');
const HOUR = 3_600_000;

const line = (id: string, ts: string): string => billingLine({ id, ts, cpu_ms: 5 });

/** A value of one series from the registry's exposition, or 0 when absent. */
async function metric(registry: Registry, series: string): Promise<number> {
  const text = await registry.metrics();
  const hit = text.split('\n').find((l) => l.startsWith(`${series} `));
  return hit === undefined ? 0 : Number(hit.split(' ')[1]);
}

describe('Billing component on real Postgres', () => {
  const database = useMigratedDatabase();
  let spool: string;
  const running: Billing[] = [];
  beforeEach(async () => {
    spool = mkdtempSync(path.join(tmpdir(), 'overseer-billing-'));
    await resetBilling(database.db);
  });
  afterEach(async () => {
    for (const b of running.splice(0)) await b.stop();
    rmSync(spool, { recursive: true, force: true });
  });

  const billing = (over: Partial<BillingDeps> = {}, schedule: Record<string, string> = {}) => {
    // Schedules that never fire during a test unless it asks for one.
    const never = { scan: '0 0 1 1 *', close: '0 0 1 1 *', retention: '0 0 1 1 *' };
    const config = configSchema.parse({
      billing: {
        spoolDirs: [spool],
        closeAfter: '1h',
        rawRetention: '2d',
        schedule: { ...never, ...schedule },
      },
    }).billing;
    const registry = new Registry();
    const b = new Billing({
      db: database.db,
      config,
      dbKind: 'postgres',
      dataDir: spool,
      clock: new ManualClock(T0),
      logger,
      registry,
      leaderCheckSchedule: '* * * * * *',
      ...over,
    });
    running.push(b);
    return { b, registry };
  };

  it('on becoming leader scans at once; runNow runs close and retention; metrics count it all', async () => {
    writeFileSync(path.join(spool, 'h1.1.ndjson'), `${line('a', '2026-11-25T10:00:00Z')}\nnope\n`);
    writeFileSync(
      path.join(spool, 'h1.2.ndjson'),
      `${line('a', '2026-11-25T10:00:00Z')}\n${line('b', '2026-11-22T10:00:00Z')}\n`,
    );
    const { b, registry } = billing();
    await b.start();
    expect(b.isLeader()).toBe(true);
    await waitFor('the first scan', () => (existsSync(path.join(spool, 'h1.2.ndjson')) ? undefined : true));
    await waitFor('its metrics', async () =>
      (await metric(registry, 'overseer_billing_job_runs_total{job="scan",result="ok"}')) === 1
        ? true
        : undefined,
    );
    expect(await metric(registry, 'overseer_billing_files_total{result="ingested"}')).toBe(2);
    expect(await metric(registry, 'overseer_billing_records_total{result="accepted"}')).toBe(2);
    expect(await metric(registry, 'overseer_billing_records_total{result="duplicate"}')).toBe(1);
    expect(await metric(registry, 'overseer_billing_records_total{result="rejected"}')).toBe(1);
    expect(await metric(registry, 'overseer_billing_leader')).toBe(1);

    expect(await b.runNow('close')).toEqual({ closed: 2 }); // 10:00 and the 22nd; closeAfter 1h at 12:00
    expect(await b.runNow('retention')).toEqual({ dropped: ['billing_raw_20261122'], doneDeleted: 0 });
    expect((await rawPartitions(database.db)).map((p) => p.name)).toEqual(['billing_raw_20261125']);
    expect(await b.runNow('scan')).toMatchObject({ files: 0 });
    expect(await metric(registry, 'overseer_billing_job_duration_seconds_count{job="close"}')).toBe(1);

    await b.stop();
    await b.stop();
    expect(b.isLeader()).toBe(false);
    expect(await metric(registry, 'overseer_billing_leader')).toBe(0);
  });

  it('a second replica does not run the jobs; it takes over when the leader stops', async () => {
    const first = billing();
    await first.b.start();
    const second = billing({ clock: new ManualClock(T0) }, { scan: '* * * * * *' });
    await second.b.start();
    expect([first.b.isLeader(), second.b.isLeader()]).toEqual([true, false]);
    writeFileSync(path.join(spool, 'h1.3.ndjson'), `${line('c', '2026-11-25T10:00:00Z')}\n`);
    // The follower's per-second scan never runs while it follows.
    await new Promise((r) => setTimeout(r, 1500));
    expect(existsSync(path.join(spool, 'h1.3.ndjson'))).toBe(true);
    expect(await metric(second.registry, 'overseer_billing_job_runs_total{job="scan",result="ok"}')).toBe(0);
    await first.b.stop();
    // Becoming leader scans at once.
    await waitFor('the follower to lead and scan', () =>
      second.b.isLeader() && !existsSync(path.join(spool, 'h1.3.ndjson')) ? true : undefined,
    );
  });

  it('a tick that finds the last run still going is skipped and counted', async () => {
    const { b, registry } = billing({}, { scan: '* * * * * *' });
    // Hold the ledger table so the scan blocks on its first file; ticks meanwhile are skips.
    const blocker = new pg.Client({ connectionString: database.url });
    await blocker.connect();
    try {
      await blocker.query('begin');
      await blocker.query('lock table billing_files in access exclusive mode');
      writeFileSync(path.join(spool, 'h1.4.ndjson'), `${line('d', '2026-11-25T10:00:00Z')}\n`);
      await b.start();
      await waitFor('a skipped tick', async () =>
        (await metric(registry, 'overseer_billing_job_runs_total{job="scan",result="skipped"}')) >= 1
          ? true
          : undefined,
      );
      await blocker.query('rollback');
      await waitFor('the blocked scan to finish', () =>
        existsSync(path.join(spool, 'h1.4.ndjson')) ? undefined : true,
      );
    } finally {
      await blocker.end();
    }
  });

  it('a failing job is counted and logged, and runNow rejects with the job code', async () => {
    const gone = await openDatabase({ url: database.url, dataDir: '/nonexistent', logger });
    await gone.close();
    const broken = billing({ db: gone.db, lock: new FileLock(path.join(spool, 'leader.lock')) });
    await broken.b.start();
    const err = await broken.b.runNow('close').catch((e: unknown) => e);
    expect(isOverseerError(err) && err.code).toBe(101302);
    expect(
      await metric(broken.registry, 'overseer_billing_job_runs_total{job="close",result="failed"}'),
    ).toBe(1);
    // A file that cannot be moved to done/ fails alone; the scan itself is ok.
    writeFileSync(path.join(spool, 'done'), 'not a folder');
    writeFileSync(path.join(spool, 'h1.5.ndjson'), `${line('e', '2026-11-25T10:00:00Z')}\n`);
    const { b, registry } = billing();
    expect(await b.runNow('scan')).toMatchObject({ failed: 1 });
    expect(await metric(registry, 'overseer_billing_files_total{result="failed"}')).toBe(1);
    expect(await metric(registry, 'overseer_billing_job_runs_total{job="scan",result="ok"}')).toBe(1);
  });

  it('refuses a schedule that is not cron', async () => {
    const { b } = billing({}, { close: 'every minute' });
    const err = await b.start().catch((e: unknown) => e);
    expect(isOverseerError(err) && err.code).toBe(101301);
    expect(isOverseerError(err) && err.details).toEqual(['billing.schedule.close: "every minute"']);
    expect(b.isLeader()).toBe(false);
  });

  it('closes an hour only after closeAfter', async () => {
    const clock = new ManualClock(T0 - HOUR);
    const { b } = billing({ clock });
    writeFileSync(path.join(spool, 'h1.6.ndjson'), `${line('f', '2026-11-25T10:00:00Z')}\n`);
    await b.runNow('scan');
    expect(await b.runNow('close')).toEqual({ closed: 0 }); // 11:00: ended, but not an hour ago
    clock.advance(HOUR);
    expect(await b.runNow('close')).toEqual({ closed: 1 });
  });
});
