import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlarmCode } from '../src/alarms/code-catalog.js';
import { startTestOverseer, type TestOverseer } from './helpers/overseer-instance.js';
import { createTestDatabase, type TestDatabase } from './helpers/test-db.js';

const fixtures = path.join(import.meta.dirname, 'fixtures/alarms');

describe('GET /api/v1/codes and catalog reloads', () => {
  let db: TestDatabase;
  let overseer: TestOverseer;
  const dir = mkdtempSync(path.join(tmpdir(), 'overseer-codes-'));
  const catalog = path.join(dir, 'codes.yml');

  beforeAll(async () => {
    db = await createTestDatabase();
    copyFileSync(path.join(fixtures, 'codes.yml'), catalog);
    overseer = await startTestOverseer(
      db,
      { selfScrape: false },
      {
        alarms: {
          catalog,
          codeSources: [
            { dir: path.join(fixtures, 'billing/src'), language: 'ts' },
            { dir: path.join(fixtures, 'ledger/src'), language: 'java' },
          ],
        },
      },
    );
  });
  afterAll(async () => {
    await overseer?.stop();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves every code with class, owner, source line and whether it alerts', async () => {
    const { codes, error } = await overseer.get<{ codes: AlarmCode[]; error: unknown }>('/api/v1/codes');
    expect(error).toBeNull();
    expect(codes).toHaveLength(10);
    expect(codes.filter((c) => c.alert).map((c) => c.code)).toEqual([104211, 104212, 200101, 200102]);
    expect(codes.find((c) => c.code === 104212)).toMatchObject({
      service: 'billing',
      name: 'CARD_DECLINED',
      class: 'client',
      owner: 'payments',
      source: 'src/pay.ts:5',
    });
  });

  it('a bad codes.yml on reload is reported with its code and the last good catalog stays', async () => {
    writeFileSync(catalog, 'codes:\n  "104212": { class: urgent }\n');
    const r = await overseer.get<{ codes: number; error: { code: number; details: string[] } }>(
      '/api/v1/codes/reload',
      'POST',
    );
    expect(r.codes).toBe(10);
    expect(r.error.code).toBe(101002);
    expect(r.error.details.join()).toMatch(
      /codes\.yml:2:\d+: codes\.104212\.class: class must be server, client or ignore/,
    );
    const after = await overseer.get<{ codes: AlarmCode[] }>('/api/v1/codes');
    expect(after.codes.find((c) => c.code === 104212)!.class).toBe('client');
    const metrics = await (await fetch(`${overseer.url}/metrics`)).text();
    expect(metrics).toMatch(/^errors_total\{code="101002"\} 1$/m);

    copyFileSync(path.join(fixtures, 'codes.yml'), catalog);
    const fixed = await overseer.get<{ error: unknown }>('/api/v1/codes/reload', 'POST');
    expect(fixed.error).toBeNull();
  });
});
