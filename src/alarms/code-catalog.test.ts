import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../errors/index.js';
import { parseCatalogFile } from './catalog-file.js';
import type { AlarmCode } from './code-catalog.js';
import { loadCodeCatalog } from './load-catalog.js';

const fixtures = path.resolve(import.meta.dirname, '../../test/fixtures/alarms');
const alarms = (catalog?: string) => ({
  codeSources: [
    { dir: `${fixtures}/billing/src`, language: 'ts' as const, container: 'ErrorCodes' },
    { dir: `${fixtures}/ledger/src`, language: 'java' as const, container: 'ErrorCodes' },
  ],
  catalog,
  webhooks: [],
});

describe('code catalog from two services (TS and Java) and codes.yml', () => {
  const load = async (): Promise<Map<string, AlarmCode>> => {
    const { codes } = await loadCodeCatalog(alarms(`${fixtures}/codes.yml`));
    return new Map(codes.map((c) => [`${c.service}/${c.name}`, c]));
  };

  it.each([
    // service/name, class, owner, alert, source, runbook
    [
      'billing/LEDGER_UNREACHABLE',
      'server',
      'payments',
      true,
      'src/pay.ts:4',
      'https://runbooks.example/billing/ledger-down',
    ],
    [
      'billing/CARD_DECLINED',
      'client',
      'payments',
      true,
      'src/pay.ts:5',
      'https://runbooks.example/billing/104212',
    ],
    [
      'billing/RETRY_SCHEDULED',
      'ignore',
      'on-call',
      false,
      'src/pay.ts:6',
      'https://runbooks.example/billing/104213',
    ],
    ['billing/DOUBLE_USED', 'server', 'on-call', false, null, 'https://runbooks.example/billing/104214'],
    ['billing/NEVER_USED', 'server', 'on-call', false, null, 'https://runbooks.example/billing/104215'],
    [
      'billing/ODD_CLASS',
      'server',
      'on-call',
      false,
      'src/pay.ts:8',
      'https://runbooks.example/billing/104216',
    ],
    [
      'ledger/JOURNAL_WRITE_FAILED',
      'server',
      'ledger-team',
      true,
      'src/main/java/ledger/Journal.java:6',
      'https://runbooks.example/ledger/journal',
    ],
    [
      'ledger/ACCOUNT_UNKNOWN',
      'client',
      'on-call',
      true,
      'src/main/java/ledger/Journal.java:5',
      'https://runbooks.example/ledger/200102',
    ],
    [
      'billing/SHARED_NUMBER',
      'server',
      'on-call',
      false,
      'src/pay.ts:9',
      'https://runbooks.example/billing/500001',
    ],
    [
      'ledger/SHARED_NUMBER',
      'server',
      'on-call',
      false,
      'src/main/java/ledger/Journal.java:7',
      'https://runbooks.example/ledger/500001',
    ],
  ])('%s: %s, owner %s, alert %s', async (key, cls, owner, alert, source, runbook) => {
    const c = (await load()).get(key)!;
    expect(c).toMatchObject({ class: cls, owner, alert, source, runbookUrl: runbook });
    expect(c.problems.length === 0).toBe(alert || cls === 'ignore');
  });

  it('says why a code gets no alert', async () => {
    const codes = await load();
    expect(codes.get('billing/DOUBLE_USED')!.problems.join()).toMatch(
      /used at 2 places: src\/pay\.ts:7:\d+, src\/pay\.ts:10:\d+/,
    );
    expect(codes.get('billing/NEVER_USED')!.problems.join()).toMatch(/never used/);
    expect(codes.get('billing/ODD_CLASS')!.problems.join()).toMatch(
      /unknown class "whatever" in the comment at src\/errors\.ts:11/,
    );
    expect(codes.get('billing/SHARED_NUMBER')!.problems.join()).toMatch(/also defined by ledger/);
  });

  it('descriptions come from codes.yml first, then the comment', async () => {
    const codes = await load();
    expect(codes.get('billing/CARD_DECLINED')!.description).toBe(
      "Card declined by the issuer: the customer's problem.",
    );
    expect(codes.get('ledger/JOURNAL_WRITE_FAILED')!.description).toBe('Posting to the journal failed.');
  });

  it('without codes.yml: no owner or runbook beyond the comments, class server by default', async () => {
    const { codes } = await loadCodeCatalog(alarms());
    const card = codes.find((c) => c.name === 'CARD_DECLINED')!;
    expect(card).toMatchObject({
      class: 'client',
      owner: null,
      runbookUrl: null,
      description: 'The card issuer declined the charge.',
    });
  });
});

describe('codes.yml errors', () => {
  it.each([
    [
      'codes:\n  "1": { class: urgent }\n',
      /t\.yml:2:\d+: codes\.1\.class: class must be server, client or ignore/,
    ],
    ['codes:\n  "1": { colour: red }\n', /t\.yml:2:\d+: codes\.1: Unrecognized key: "colour"/],
    ['codes:\n  abc: { owner: x }\n', /t\.yml:2:\d+: codes\.abc/],
    ['classes:\n  client: { for: 5 }\n', /classes\.client\.for: invalid duration 5/],
    ['codes: [\n', /t\.yml: /],
  ])('%j', (text, detail) => {
    let err: unknown;
    try {
      parseCatalogFile(text, 't.yml');
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: ErrorCodes.CODE_CATALOG_INVALID });
    expect((err as { details: string[] }).details.join('\n')).toMatch(detail);
  });

  it('an unknown code in codes.yml that names another code is a conflict, not a silent override', async () => {
    const { buildCodeCatalog } = await import('./code-catalog.js');
    const file = parseCatalogFile('codes:\n  "7": { name: OTHER }\n', 't.yml');
    const [c] = buildCodeCatalog(
      [
        {
          service: 's',
          report: {
            files: 1,
            codes: [
              {
                name: 'SEVEN',
                code: 7,
                definedAt: { file: 'e.ts', line: 1, col: 1 },
                uses: [{ file: 'u.ts', line: 2, col: 3 }],
                comment: '',
              },
            ],
            problems: [],
          },
        },
      ],
      file,
    );
    expect(c!.alert).toBe(false);
    expect(c!.problems).toEqual(['the catalog file names code 7 OTHER, the source SEVEN']);
  });
});
