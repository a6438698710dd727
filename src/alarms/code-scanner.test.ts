import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { codePattern } from './code-patterns.js';
import { checkCodes } from './code-scanner.js';
import { scanPaths } from './scan-files.js';
import { isOverseerError } from '../errors/index.js';

const fixtures = path.resolve(import.meta.dirname, '../../test/fixtures/codes');
const ts = codePattern({ language: 'ts' });
const java = codePattern({ language: 'java' });

describe('codes scan on fixture codebases', () => {
  it('a clean TS codebase: every code single-use; comments, strings and tests do not count', async () => {
    const r = await scanPaths(['ts-clean/src'], ts, fixtures);
    expect(r.problems).toEqual([]);
    expect(r.codes.map((c) => [c.name, c.code, c.uses.map((u) => `${u.file}:${u.line}`)])).toEqual([
      ['USER_NOT_FOUND', 404100, ['ts-clean/src/users.ts:6']],
      ['QUOTA_EXCEEDED', 429100, ['ts-clean/src/quota.ts:5']],
    ]);
  });

  it('finds enum containers by name', async () => {
    const r = await scanPaths(
      ['ts-clean/src'],
      codePattern({ language: 'ts', containerName: 'MoreCodes' }),
      fixtures,
    );
    expect(r.codes.map((c) => [c.name, c.code])).toEqual([['DISK_FULL', 507100]]);
    expect(r.problems.map((p) => p.kind)).toEqual(['unused']);
  });

  it('a bad TS codebase: every kind of violation, each with file:line', async () => {
    const r = await scanPaths(['ts-bad'], ts, fixtures);
    const byKind = Object.fromEntries(
      ['duplicate-code', 'duplicate-name', 'multiple-uses', 'unused', 'undefined'].map((k) => [
        k,
        r.problems.filter((p) => p.kind === k).map((p) => p.message),
      ]),
    );
    expect(byKind).toEqual({
      'duplicate-code': [
        'code 404100 is defined 2 times (USER_NOT_FOUND, USER_MISSING) at ts-bad/src/errors.ts:2:3, ts-bad/src/errors.ts:3:3',
      ],
      'duplicate-name': [
        'DEFINED_TWICE is defined 2 times at ts-bad/src/errors.ts:6:3, ts-bad/src/errors.ts:7:3',
      ],
      'multiple-uses': [
        'RAISED_TWICE (500100) is used at 2 places: ts-bad/src/a.ts:3:26, ts-bad/src/b.ts:3:26',
      ],
      unused: ['NEVER_RAISED (500101) defined at ts-bad/src/errors.ts:5:3 is never used'],
      undefined: ['NOT_DEFINED_ANYWHERE is used at ts-bad/src/b.ts:5:24 but never defined'],
    });
  });

  it('a clean Java codebase (Adama style), text blocks and javadoc ignored', async () => {
    const r = await scanPaths(['java-clean'], java, fixtures);
    expect(r.problems).toEqual([]);
    expect(r.codes.map((c) => [c.name, c.code, c.uses.length])).toEqual([
      ['API_BAD_JSON', 120001, 1],
      ['API_NO_SUCH_SPACE', 120002, 1],
    ]);
  });

  it('a bad Java codebase: duplicate number, double use, unused (uses in src/test do not count)', async () => {
    const r = await scanPaths(['java-bad'], java, fixtures);
    expect(r.problems.map((p) => `${p.kind} ${p.name ?? p.code}`).sort()).toEqual([
      'duplicate-code 120001',
      'multiple-uses API_TWICE',
      'unused API_UNUSED',
    ]);
    const withTests = await scanPaths(
      ['java-bad'],
      codePattern({ language: 'java', includeTests: true }),
      fixtures,
    );
    expect(withTests.problems.map((p) => p.kind)).not.toContain('unused');
  });

  it("Overseer's own src/ follows its own rule", async () => {
    const r = await scanPaths(['src'], ts, path.resolve(import.meta.dirname, '../..'));
    expect(r.problems).toEqual([]);
    expect(r.codes.length).toBeGreaterThan(20);
  });
});

describe('custom patterns', () => {
  it('audits a codebase with its own conventions', () => {
    const pattern = codePattern({
      language: 'ts',
      containerName: 'Errs',
      entry: String.raw`(?<name>E_[A-Z]+)\s*=\s*(?<code>\d+)`,
      use: String.raw`raise\(\s*Errs\.(?<name>E_[A-Z]+)`,
    });
    const r = checkCodes(
      [
        { file: 'e.ts', text: 'enum Errs { E_ONE = 1, E_TWO = 2 }' },
        { file: 'x.ts', text: 'raise(Errs.E_ONE);\nconst n = Errs.E_TWO; // not a raise\n' },
      ],
      pattern,
    );
    expect(r.problems.map((p) => `${p.kind} ${p.name}`)).toEqual(['unused E_TWO']);
  });

  it.each([
    ['invalid regex', { entry: '(?<name>[' }, 100502],
    ['entry without code group', { entry: '(?<name>\\w+)' }, 100503],
    ['use without name group', { use: 'ErrorCodes\\.\\w+' }, 100503],
  ])('%s is a coded error', (_n, opts, code) => {
    let err: unknown;
    try {
      codePattern({ language: 'ts', ...opts });
    } catch (e) {
      err = e;
    }
    expect(isOverseerError(err) && err.code).toBe(code);
  });

  it('a path that does not exist is a coded error', async () => {
    const err = await scanPaths(['no/such/dir'], ts, fixtures).catch((e: unknown) => e);
    expect(isOverseerError(err) && err.code).toBe(100501);
  });
});
