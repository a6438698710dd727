import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runOverseer } from './helpers/cli-process.js';
import { describeWithBinaries } from './helpers/integration.js';

const fixtures = path.join(import.meta.dirname, 'fixtures/alarms');

describeWithBinaries(['promtool'], 'overseer generate: error-code rules through promtool', (bins) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'overseer-gen-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const config = path.join(dir, 'overseer.yaml');
  writeFileSync(
    config,
    [
      'collector: { scrapeInterval: 15s }',
      'alarms:',
      `  catalog: ${fixtures}/codes.yml`,
      '  codeSources:',
      `    - { dir: ${fixtures}/billing/src, language: ts }`,
      `    - { dir: ${fixtures}/ledger/src, language: java }`,
      '',
    ].join('\n'),
  );
  const out = path.join(dir, 'out');
  const rules = path.join(out, 'rules/error-codes.yml');
  const tests = path.join(out, 'rules/error-codes.test.yml');
  const promtool = (...args: string[]) => spawnSync(bins.promtool, args, { encoding: 'utf8' });

  it('writes one alert per single-use code and names the codes that get none', async () => {
    const r = await runOverseer(['--config', config, 'generate', '--out', out], {});
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('4 error-code alert(s) for 10 code(s)');
    for (const name of ['DOUBLE_USED', 'NEVER_USED', 'ODD_CLASS', 'SHARED_NUMBER']) {
      expect(r.stderr).toMatch(new RegExp(`no alert for \\w+ \\d+ ${name}: `));
    }
    const doc = parse(readFileSync(rules, 'utf8')) as {
      groups: Array<{ name: string; rules: Array<Record<string, unknown>> }>;
    };
    expect(doc.groups.map((g) => g.name)).toEqual(['error-codes-billing', 'error-codes-ledger']);
    const card = doc.groups[0]!.rules.find((x) => x.alert === 'ErrorCode104212')!;
    expect(card).toEqual({
      alert: 'ErrorCode104212',
      expr: 'sum by (job, code) (increase(errors_total{code="104212"}[1m])) > 5',
      for: '2m',
      keep_firing_for: '5m',
      labels: { severity: 'ticket', code: '104212', class: 'client' },
      annotations: {
        summary: 'billing: error 104212 (CARD_DECLINED) is being raised',
        description: "Card declined by the issuer: the customer's problem.",
        source: 'src/pay.ts:5',
        runbook_url: 'https://runbooks.example/billing/104212',
      },
    });
  });

  it('passes promtool check rules --lint=all --lint-fatal', () => {
    const r = promtool('check', 'rules', '--lint=all', '--lint-fatal', rules);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('SUCCESS: 4 rules found');
  });

  it('passes promtool test rules: each alert fires on an increase, stays silent when flat', () => {
    const r = promtool('test', 'rules', tests);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it('the generated tests can fail: a rule with a raised threshold no longer fires in them', () => {
    const broken = readFileSync(rules, 'utf8').replace('[1m])) > 5', '[1m])) > 500');
    writeFileSync(rules, broken);
    const r = promtool('test', 'rules', tests);
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/ErrorCode104212/);
  });
});
