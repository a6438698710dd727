import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  mkdirSync,
  existsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOverseer } from './helpers/cli-process.js';
import { createTestDatabase, type TestDatabase } from './helpers/test-db.js';

const line = (id: string, over: Record<string, unknown> = {}): string =>
  JSON.stringify({
    id,
    tenant: 't1',
    space: 's1',
    host: 'h1',
    ts: '2026-11-25T10:15:00Z',
    cpu_ms: 100,
    memory_byte_seconds: 1.5,
    messages: 2,
    bytes_in: 10,
    bytes_out: 20,
    ...over,
  });

describe('overseer billing ingest / verify as a process, on real Postgres', () => {
  let testDb: TestDatabase;
  let work: string;
  let env: Record<string, string>;
  const query = async <T extends pg.QueryResultRow>(text: string): Promise<T[]> => {
    const c = new pg.Client({ connectionString: testDb.url });
    await c.connect();
    try {
      return (await c.query<T>(text)).rows;
    } finally {
      await c.end();
    }
  };
  beforeAll(async () => {
    testDb = await createTestDatabase();
    work = mkdtempSync(path.join(tmpdir(), 'overseer-billing-cli-'));
    env = { DATABASE_URL: testDb.url, OVERSEER_DATA_DIR: path.join(work, 'data') };
  });
  afterAll(async () => {
    await testDb?.drop();
    rmSync(work, { recursive: true, force: true });
  });

  it('ingests a folder like a spool: summary, done/, rejected/ with reasons; again: nothing new', async () => {
    const spool = path.join(work, 'spool');
    mkdirSync(spool);
    writeFileSync(
      path.join(spool, 'h1.1.ndjson'),
      [line('a'), line('b', { space: 's2' }), '{not json', line('bad', { cpu_ms: -1 })].join('\n') + '\n',
    );
    writeFileSync(path.join(spool, 'h1.2.ndjson'), [line('a'), line('c')].join('\n') + '\n');
    writeFileSync(path.join(spool, 'h2.1.ndjson'), `${line('d', { host: 'h2', tenant: 't2' })}\n`);
    writeFileSync(path.join(spool, 'h1.3.ndjson.tmp'), 'still being written');

    const r = await runOverseer(['billing', 'ingest', spool], env, work);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      '3 file(s): 3 ingested, 0 replayed, 0 failed; records: 4 accepted, 1 duplicates, 2 rejected',
    );
    expect(r.stdout).toMatch(/h1\.1\.ndjson\s+ingested\s+2\s+2\s+0\s+2/);
    // Progress on stderr (not a terminal here: plain lines), ending with every file done.
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(
      /^3\/3 files · 7 records \(\d+\/s\) · 4 accepted · 1 duplicates · 2 rejected$/,
    );
    expect(readdirSync(spool).sort()).toEqual(['done', 'h1.3.ndjson.tmp', 'rejected']);
    expect(readdirSync(path.join(spool, 'done')).sort()).toEqual([
      'h1.1.ndjson',
      'h1.2.ndjson',
      'h2.1.ndjson',
    ]);
    const rejected = readFileSync(path.join(spool, 'rejected', 'h1.1.ndjson.rejected.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { line: number; reason: string; text: string });
    expect(rejected).toMatchObject([
      { line: 3, reason: 'not JSON', text: '{not json' },
      { line: 4, reason: expect.stringContaining('cpu_ms') as string },
    ]);
    expect(
      await query<{ tenant: string; space: string; records: number; cpu_ms: string }>(
        'select tenant, space, records, cpu_ms from billing_hourly order by tenant, space',
      ),
    ).toEqual([
      { tenant: 't1', space: 's1', records: 2, cpu_ms: '200' },
      { tenant: 't1', space: 's2', records: 1, cpu_ms: '100' },
      { tenant: 't2', space: 's1', records: 1, cpu_ms: '100' },
    ]);

    const again = await runOverseer(['--json', 'billing', 'ingest', spool], env, work);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ files: [], totals: { files: 0, accepted: 0 } });

    // A file named on its own is ingested in place and not moved: the same bytes again are a replay.
    const done = path.join(spool, 'done', 'h1.2.ndjson');
    const replay = await runOverseer(['billing', 'ingest', done, '--json'], env, work);
    expect(replay.code).toBe(0);
    expect(JSON.parse(replay.stdout)).toMatchObject({
      files: [{ file: done, result: 'replay', accepted: 0, duplicates: 2 }],
    });
    expect(existsSync(done)).toBe(true);
    expect((await query<{ n: string }>('select sum(records) as n from billing_hourly'))[0]!.n).toBe('4');
  });

  it('a file on its own keeps its place and gets its rejected/ next to it', async () => {
    const dir = path.join(work, 'loose');
    mkdirSync(dir);
    const file = path.join(dir, 'h3.export.json');
    writeFileSync(file, `${line('e', { host: 'h3' })}\n${line('f', { host: 'h3', ts: 'yesterday' })}`);
    const r = await runOverseer(['billing', 'ingest', file], env, work);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      '1 file(s): 1 ingested, 0 replayed, 0 failed; records: 1 accepted, 0 duplicates, 1 rejected',
    );
    expect(readdirSync(dir).sort()).toEqual(['h3.export.json', 'rejected']);
    expect(readFileSync(path.join(dir, 'rejected', 'h3.export.json.rejected.ndjson'), 'utf8')).toContain(
      '"line":2',
    );
  });

  it('refuses a path that is not there, before touching anything', async () => {
    const r = await runOverseer(['billing', 'ingest', path.join(work, 'nope'), work], env, work);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error 101306: cannot ingest these paths');
    expect(r.stderr).toContain('nope: no such file or folder');
  });

  it('verify: no differences, then exit 1 naming the tampered row', async () => {
    const ok = await runOverseer(['billing', 'verify'], env, work);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('checked 3 hourly row(s)');
    expect(ok.stdout).toContain('no differences');
    await query(`update billing_hourly set bytes_in = bytes_in + 1 where tenant = 't2'`);
    const bad = await runOverseer(['billing', 'verify', '--json', '--from', '2026-11-25'], env, work);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('error 101310');
    expect(JSON.parse(bad.stdout)).toMatchObject({
      checked: 3,
      differences: [
        {
          tenant: 't2',
          space: 's1',
          hour: '2026-11-25T10:00:00.000Z',
          field: 'bytes_in',
          hourly: '11',
          raw: '10',
        },
      ],
    });
    const badTime = await runOverseer(['billing', 'verify', '--to', 'tomorrow'], env, work);
    expect(badTime.code).toBe(2);
    expect(badTime.stderr).toContain('error 101309');
  });
});
