import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { fleetDashboard } from '../src/dashboards/fleet-dashboard.js';
import { hostDashboard } from '../src/dashboards/host-dashboard.js';
import { nodeRuleTests } from '../src/dashboards/node-rule-tests.js';
import { nodeRules } from '../src/dashboards/node-rules.js';
import { expressions } from '../src/dashboards/spec.js';
import { describeWithBinaries } from './helpers/integration.js';
import type { CatalogEntry } from '../src/collector/catalog.js';

const NODE_FAMILIES = [
  'node_cpu_seconds_total',
  'node_memory_MemAvailable_bytes',
  'node_memory_MemTotal_bytes',
  'node_load1',
  'node_load5',
  'node_load15',
  'node_disk_read_bytes_total',
  'node_disk_written_bytes_total',
  'node_disk_io_time_seconds_total',
  'node_network_receive_bytes_total',
  'node_network_transmit_bytes_total',
  'node_filesystem_avail_bytes',
  'node_filesystem_size_bytes',
].map((name): CatalogEntry => ({
  name,
  type: 'gauge',
  help: undefined,
  unit: undefined,
  labelNames: [],
  sampleNames: [name],
  targets: 1,
  series: 1,
  jobs: ['node'],
  labelValues: {},
  conflictingTypes: [],
}));

describeWithBinaries(['promtool'], 'node rules and their tests through promtool', (bins) => {
  const root = mkdtempSync(path.join(tmpdir(), 'overseer-node-rules-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const promtool = (...args: string[]) => spawnSync(bins.promtool, args, { encoding: 'utf8' });

  /** rules/node.yml and rules/node.test.yml as `overseer generate` lays them out. */
  function write(name: string, nodeJobs: string[]): { rules: string; tests: string } {
    const dir = path.join(root, name, 'rules');
    mkdirSync(dir, { recursive: true });
    const rules = path.join(dir, 'node.yml');
    const tests = path.join(dir, 'node.test.yml');
    writeFileSync(rules, nodeRules({ nodeJobs }));
    // promtool resolves rule_files relative to the test file.
    writeFileSync(tests, nodeRuleTests('node.yml', { nodeJobs }));
    return { rules, tests };
  }

  it.each<[string, string[]]>([
    ['every-job', []],
    ['one-job', ['node']],
    ['escaped-jobs', ['node', 'a.b', 'db+exporter']],
  ])('%s: passes check rules --lint=all --lint-fatal and its own promtool tests', (name, jobs) => {
    const { rules, tests } = write(name, jobs);
    const check = promtool('check', 'rules', '--lint=all', '--lint-fatal', rules);
    expect(check.status, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toContain('SUCCESS: 10 rules found');
    const test = promtool('test', 'rules', tests);
    expect(test.status, test.stdout + test.stderr).toBe(0);
  });

  it('the tests can fail: with the CPU threshold raised above the busy host, HostCpuHigh no longer fires', () => {
    const { rules, tests } = write('raised-threshold', ['node']);
    const text = readFileSync(rules, 'utf8');
    expect(text).toContain('rate5m > 0.9\n');
    writeFileSync(rules, text.replace('rate5m > 0.9\n', 'rate5m > 0.95\n'));
    const r = promtool('test', 'rules', tests);
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/FAILED:[\s\S]*HostCpuHigh/);
  });

  it('the tests can fail: an unescaped job regex lets the lookalike job axb page', () => {
    const { rules, tests } = write('unescaped', ['a.b']);
    const text = readFileSync(rules, 'utf8');
    expect(text).toContain('job=~"a\\\\.b"');
    writeFileSync(rules, text.replaceAll('job=~"a\\\\.b"', 'job=~"a.b"'));
    const r = promtool('test', 'rules', tests);
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/HostDown[\s\S]*job="axb"/);
  });

  it('every dashboard expression is PromQL promtool parses', () => {
    // Grafana substitutes its variables before Prometheus sees a query; stand-ins keep the syntax.
    const exprs = [fleetDashboard(NODE_FAMILIES), hostDashboard(NODE_FAMILIES)].flatMap((d) =>
      expressions(d).map((e) =>
        e.expr
          .replaceAll('$__rate_interval', '5m')
          .replaceAll('$job', '.+')
          .replaceAll('$instance', 'h1:9100'),
      ),
    );
    const file = path.join(root, 'dashboard-exprs.yml');
    const rules = exprs.map((expr, i) => ({ record: `dashboard_expr_${i}`, expr }));
    writeFileSync(file, stringify({ groups: [{ name: 'dashboards', rules }] }, { lineWidth: 0 }));
    const r = promtool('check', 'rules', file);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`SUCCESS: ${exprs.length} rules found`);
  });
});
