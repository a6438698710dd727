import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { sql } from 'kysely';
import pino from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { billingLine, resetBilling, useMigratedDatabase } from '../../test/helpers/billing-db.js';
import { ManualClock } from '../clock.js';
import { DONE_DIR, REJECTED_DIR, scanSpools } from './spool.js';

const logger = pino({ level: 'silent' });
const clock = new ManualClock(Date.parse('2026-11-25T12:00:00Z'));

const rec = (id: string, over: Record<string, unknown> = {}): string => billingLine({ id, ...over });

describe('spool folders on real Postgres', () => {
  const database = useMigratedDatabase();
  let dir: string;
  beforeEach(async () => {
    await resetBilling(database.db);
    dir = mkdtempSync(path.join(tmpdir(), 'overseer-spool-'));
    return () => rmSync(dir, { recursive: true, force: true });
  });

  const totals = async () => {
    const r = await sql<{ records: string; cpu: string }>`
      select coalesce(sum(records), 0) as records, coalesce(sum(cpu_ms), 0) as cpu from billing_hourly`.execute(
      database.db,
    );
    return { records: Number(r.rows[0]!.records), cpu: Number(r.rows[0]!.cpu) };
  };
  const scan = () => scanSpools({ db: database.db, dirs: [dir], clock, logger });

  it('ingests complete files, quarantines bad lines with the reason, moves files to done/', async () => {
    writeFileSync(
      path.join(dir, 'h1.1.ndjson'),
      `${rec('a')}\n{broken\n${rec('b', { tenant: '' })}\n${rec('c')}`,
    );
    writeFileSync(path.join(dir, 'h1.2.ndjson.tmp'), `${rec('d')}\n`); // still being written: not ours yet
    const [r] = await scan();
    expect(r).toMatchObject({ accepted: 2, rejected: 2, duplicates: 0, replay: false });
    expect(readdirSync(dir).sort()).toEqual([DONE_DIR, 'h1.2.ndjson.tmp', REJECTED_DIR]);
    const quarantined = readFileSync(path.join(dir, REJECTED_DIR, 'h1.1.ndjson.rejected.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { line: number; reason: string });
    expect(quarantined.map((q) => [q.line, q.reason])).toEqual([
      [2, 'not JSON'],
      [3, expect.stringContaining('tenant') as string],
    ]);
    expect(await totals()).toEqual({ records: 2, cpu: 20 });
  });

  it('a crash after the commit but before the move: the file comes back as a replay and adds nothing', async () => {
    writeFileSync(path.join(dir, 'h1.1.ndjson'), `${rec('a')}\n${rec('b')}\n`);
    await scan();
    copyFileSync(path.join(dir, DONE_DIR, 'h1.1.ndjson'), path.join(dir, 'h1.1.ndjson'));
    const [again] = await scan();
    expect(again).toMatchObject({ replay: true, accepted: 0, duplicates: 2 });
    expect(await totals()).toEqual({ records: 2, cpu: 20 });
    // Both copies are kept in done/: the second under the name plus the start of its hash.
    expect(readdirSync(path.join(dir, DONE_DIR))).toHaveLength(2);
  });

  it('a reused file name with new content is a new file; ids already counted stay duplicates', async () => {
    writeFileSync(path.join(dir, 'h1.1.ndjson'), `${rec('a')}\n`);
    await scan();
    writeFileSync(path.join(dir, 'h1.1.ndjson'), `${rec('a')}\n${rec('b')}\n`);
    const [r] = await scan();
    expect(r).toMatchObject({ replay: false, accepted: 1, duplicates: 1 });
    expect(await totals()).toEqual({ records: 2, cpu: 20 });
  });

  it('two ingesters over the same spool at once count every record once', async () => {
    // 30 files, each sharing half its ids with the next: duplicates across files and across ingesters.
    let expected = 0;
    const ids = new Set<string>();
    for (let f = 0; f < 30; f++) {
      const lines: string[] = [];
      for (let i = f * 100; i < f * 100 + 200; i++) {
        lines.push(
          rec(`r${i}`, {
            cpu_ms: i,
            tenant: `t${i % 7}`,
            ts: `2026-11-25T${String(8 + (i % 4)).padStart(2, '0')}:00:00Z`,
          }),
        );
        if (!ids.has(`r${i}`)) {
          ids.add(`r${i}`);
          expected += i;
        }
      }
      writeFileSync(path.join(dir, `h1.${String(f).padStart(3, '0')}.ndjson`), `${lines.join('\n')}\n`);
    }
    const [a, b] = await Promise.all([scan(), scan()]);
    const accepted = [...a, ...b].reduce((n, r) => n + r.accepted, 0);
    expect(accepted).toBe(ids.size);
    expect(await totals()).toEqual({ records: ids.size, cpu: expected });
    expect(readdirSync(dir).filter((n) => n.endsWith('.ndjson'))).toEqual([]);
  });
});
