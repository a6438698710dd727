import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { driftAgainstDir, driftOfRules, lineDiff, normalizeExpr, rulesOfApi, rulesOfFiles } from './drift.js';

describe('lineDiff', () => {
  it.each([
    [
      'one changed line with context',
      'a\nb\nc\nd\ne',
      'a\nb\nX\nd\ne',
      '@@ line 1 @@\n  a\n  b\n- c\n+ X\n  d\n  e',
    ],
    ['an added line', 'a\nb', 'a\nb\nc', '@@ line 1 @@\n  a\n  b\n+ c'],
    ['a removed line far down', 'a\nb\nc\nd\ne\nf', 'a\nb\nc\nd\nf', '@@ line 3 @@\n  c\n  d\n- e\n  f'],
  ])('%s', (_, before, after, want) => {
    expect(lineDiff(before, after)).toBe(want);
  });
});

describe('normalizeExpr', () => {
  it.each([
    ['sum by (job) (rate(x[5m]))', 'sum by(job) (rate(x[5m]))'],
    ['x{a="b c"}  >  0', 'x{a="b c"} > 0'],
    ['x{job=~"node",device!="lo"}', 'x{device!="lo", job=~"node"}'],
    ['x{a="1,}",b="2"}', 'x{b="2",a="1,}"}'],
    ['x{a="1",}', 'x{a="1"}'],
  ])('%s equals %s', (a, b) => {
    expect(normalizeExpr(a)).toBe(normalizeExpr(b));
  });

  it('keeps spaces inside strings (they change the query)', () => {
    expect(normalizeExpr('x{a="b c"}')).not.toBe(normalizeExpr('x{a="bc"}'));
    expect(normalizeExpr('x{a="a\\" b"}')).toBe('x{a="a\\" b"}');
    expect(normalizeExpr('x{a="1"}')).not.toBe(normalizeExpr('x{a="2"}'));
  });
});

const RULES = `groups:
  - name: g
    rules:
      - record: instance:x:rate5m
        expr: sum by (instance) (rate(x_total[5m]))
      - alert: XHigh
        expr: instance:x:rate5m > 1
        for: 5m
        labels: { severity: ticket }
        annotations: { summary: x is high }
`;

/** The same rules as Prometheus 2.x's GET /api/v1/rules reports them. */
function api(overrides: { query?: string; duration?: number; extra?: boolean } = {}) {
  return {
    status: 'success',
    data: {
      groups: [
        {
          name: 'g',
          rules: [
            { type: 'recording', name: 'instance:x:rate5m', query: 'sum by(instance) (rate(x_total[5m]))' },
            {
              type: 'alerting',
              name: 'XHigh',
              query: overrides.query ?? 'instance:x:rate5m > 1',
              duration: overrides.duration ?? 300,
              keepFiringFor: 0,
              labels: { severity: 'ticket' },
              annotations: { summary: 'x is high' },
            },
            ...(overrides.extra ? [{ type: 'alerting', name: 'Old', query: 'up == 0', duration: 0 }] : []),
          ],
        },
      ],
    },
  };
}

describe('driftOfRules (generated files vs Prometheus /api/v1/rules)', () => {
  const generated = rulesOfFiles([{ path: 'rules/x.yml', content: RULES }]);

  it('no drift when Prometheus loaded exactly these rules (spacing and duration form aside)', () => {
    expect(driftOfRules(generated, rulesOfApi(api()))).toEqual([]);
  });

  it.each([
    ['a changed threshold', { query: 'instance:x:rate5m > 2' }, 'changed', 'group g alert XHigh', /expr/],
    ['a changed for', { duration: 60 }, 'changed', 'group g alert XHigh', /- for: "60s"\n\+ for: "300s"/],
    ['a rule no longer generated', { extra: true }, 'extra', 'group g alert Old', /no longer generated/],
  ])('%s', (_, overrides, kind, where, diff) => {
    const drift = driftOfRules(generated, rulesOfApi(api(overrides)));
    expect(drift).toHaveLength(1);
    expect(drift[0]).toMatchObject({ kind, where });
    expect(drift[0]!.diff).toMatch(diff);
  });

  it('a group Prometheus does not have is missing', () => {
    expect(driftOfRules(generated, rulesOfApi({ data: { groups: [] } }))).toEqual([
      { where: 'group g', kind: 'missing', diff: '2 rule(s) not loaded' },
    ]);
  });
});

describe('driftAgainstDir', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'overseer-drift-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports changed, missing and extra files; nothing when identical', async () => {
    mkdirSync(path.join(dir, 'rules'), { recursive: true });
    writeFileSync(path.join(dir, 'overseer-a.json'), '{\n  "x": 1\n}\n');
    writeFileSync(path.join(dir, 'rules', 'old.yml'), 'groups: []\n');
    writeFileSync(path.join(dir, 'README.md'), 'not generated, never reported\n');
    const files = [
      { path: 'overseer-a.json', content: '{\n  "x": 2\n}\n' },
      { path: 'rules/new.yml', content: 'groups: []\n' },
    ];
    const drift = await driftAgainstDir(files, dir);
    expect(drift.map((d) => [d.kind, d.where])).toEqual([
      ['changed', 'overseer-a.json'],
      ['missing', 'rules/new.yml'],
      ['extra', 'rules/old.yml'],
    ]);
    expect(drift[0]!.diff).toContain('-   "x": 1\n+   "x": 2');
    rmSync(path.join(dir, 'rules', 'old.yml'));
    for (const f of files) writeFileSync(path.join(dir, f.path), f.content);
    expect(await driftAgainstDir(files, dir)).toEqual([]);
  });
});
