import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { CatalogEntry } from '../src/collector/catalog.js';
import { generate } from '../src/dashboards/generate.js';
import { expressions } from '../src/dashboards/spec.js';
import { describeWithBinaries } from './helpers/integration.js';

function family(name: string, over: Partial<CatalogEntry> = {}): CatalogEntry {
  return {
    name,
    type: 'counter',
    help: 'a "quoted" help\nwith a newline',
    unit: undefined,
    labelNames: ['instance', 'job'],
    sampleNames: [name],
    targets: 1,
    series: 2,
    jobs: ['api'],
    labelValues: { instance: 1, job: 1 },
    conflictingTypes: [],
    ...over,
  };
}

/** A catalog built to break generators: awkward job names, names, labels, types and sizes. */
const NASTY: CatalogEntry[] = [
  family('http_requests_total', {
    jobs: ['api', 'a"b', 'x$job', 'dots.in.job', 'new\nline', '[[a]].*\\z'],
    labelNames: ['code', 'instance', 'job', 'méthode', 'route'],
    labelValues: { code: 5, instance: 3, job: 6, méthode: 3, route: 7 },
  }),
  family('rpc_seconds', {
    type: 'histogram',
    sampleNames: ['rpc_seconds_bucket', 'rpc_seconds_count', 'rpc_seconds_sum'],
    labelNames: ['endpoint', 'instance', 'job', 'le'],
    labelValues: { endpoint: 4, instance: 1, job: 1, le: 12 },
  }),
  family('gc_pause_seconds', {
    type: 'summary',
    sampleNames: ['gc_pause_seconds', 'gc_pause_seconds_count', 'gc_pause_seconds_sum'],
    labelNames: ['instance', 'job', 'quantile'],
    labelValues: { instance: 1, job: 1, quantile: 3 },
  }),
  family('queue_depth', { type: 'gauge', conflictingTypes: ['counter'] }),
  family('legacy_total', { type: 'untyped' }),
  family('mystery', { type: 'unknown' }),
  family('bad-name.with.dots'),
  family('user_sessions', {
    type: 'gauge',
    labelNames: ['instance', 'job', 'user'],
    labelValues: { instance: 1, job: 1, user: 1000 },
    series: 250_000,
  }),
  family('build', { type: 'info', sampleNames: ['build_info'] }),
  family('door', { type: 'stateset', labelNames: ['door', 'instance', 'job'], labelValues: { door: 2 } }),
];

describeWithBinaries(['promtool'], 'generate on a hostile catalog', (bins) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'overseer-bad-catalog-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('succeeds with warnings naming the metrics, and every expression is PromQL promtool parses', () => {
    const g = generate({ families: NASTY, codes: [], ruleOptions: { scrapeIntervalMs: 15_000 } });
    const warned = g.warnings.join('\n');
    for (const name of [
      'queue_depth',
      'legacy_total',
      'mystery',
      'bad-name.with.dots',
      'user_sessions',
      'méthode',
    ])
      expect(warned, name).toContain(name);
    expect(g.dashboards.length).toBeGreaterThanOrEqual(4 + 6);
    // Grafana substitutes its variables before a query reaches Prometheus; stand-ins keep the syntax.
    const exprs = g.dashboards.flatMap((d) =>
      expressions(d.spec).map((e) =>
        e.expr
          .replaceAll('$__rate_interval', '1m')
          .replaceAll('$__range', '1h')
          .replaceAll('$job', '.+')
          .replaceAll('$instance', '.+'),
      ),
    );
    const file = path.join(dir, 'exprs.yml');
    writeFileSync(
      file,
      stringify(
        {
          groups: [
            { name: 'exprs', rules: exprs.map((expr, i) => ({ record: `generated_expr_${i}`, expr })) },
          ],
        },
        { lineWidth: 0 },
      ),
    );
    const r = spawnSync(bins.promtool, ['check', 'rules', file], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`SUCCESS: ${exprs.length} rules found`);
  });
});
