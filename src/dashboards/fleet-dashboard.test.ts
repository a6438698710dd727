import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Catalog, type CatalogEntry } from '../collector/catalog.js';
import { parseExposition } from '../collector/exposition/parse.js';
import { fleetDashboard } from './fleet-dashboard.js';
import { nodeRules } from './node-rules.js';
import { dashboardJson } from './render.js';
import { expressions, type DashboardSpec } from './spec.js';

/** The families of a real node_exporter 1.5 body, as the collector catalogs them. */
function nodeExporterFamilies(): CatalogEntry[] {
  const text = readFileSync(
    path.join(import.meta.dirname, '../collector/exposition/testdata/node-exporter.prom'),
    'utf8',
  );
  const c = new Catalog();
  c.update('h1', parseExposition(text, 'prometheus'), { instance: 'h1:9100', job: 'node' });
  return c.entries();
}

const family = (name: string, sampleNames = [name]): CatalogEntry => ({
  name,
  type: 'gauge',
  help: undefined,
  unit: undefined,
  labelNames: ['instance', 'job'],
  sampleNames,
  targets: 1,
  series: 1,
  jobs: ['node'],
  labelValues: {},
  conflictingTypes: [],
});

const titles = (d: DashboardSpec): string[] => d.rows.flatMap((r) => r.panels.map((p) => p.title));

const UP = ['Hosts up', 'Hosts down', 'Hosts total', 'Up per target'];
const CPU = ['node_cpu_seconds_total'];
const MEMORY = ['node_memory_MemAvailable_bytes', 'node_memory_MemTotal_bytes'];

describe('fleetDashboard', () => {
  it('is the fleet overview, one variable of each kind', () => {
    const d = fleetDashboard([]);
    expect([d.uid, d.title, d.variables]).toEqual([
      'overseer-fleet',
      'Fleet overview',
      { job: 'multi', instance: 'multi' },
    ]);
  });

  it.each<[string, string[], string[]]>([
    ['no node families: up only', [], UP],
    ['an app without node_exporter', ['http_requests_total'], UP],
    ['CPU only', CPU, [...UP, 'CPU utilisation per host', 'Busiest CPUs']],
    ['memory only', MEMORY, [...UP, 'Memory utilisation per host', 'Fullest memory']],
    ['MemTotal without MemAvailable: no memory panels', ['node_memory_MemTotal_bytes'], UP],
    ['load without CPUs to divide by', ['node_load1'], UP],
    [
      'CPU and load',
      [...CPU, 'node_load1'],
      [...UP, 'CPU utilisation per host', 'Load per CPU', 'Busiest CPUs', 'Highest load per CPU'],
    ],
  ])('%s', (_, names, want) => {
    expect(titles(fleetDashboard(names.map((n) => family(n))))).toEqual(want);
  });

  it('has every panel, in its rows, for a real node_exporter', () => {
    const d = fleetDashboard(nodeExporterFamilies());
    expect(d.rows.map((r) => [r.title, r.panels.map((p) => p.title)])).toEqual([
      ['Overview', UP],
      ['CPU and memory per host', ['CPU utilisation per host', 'Memory utilisation per host']],
      ['Load', ['Load per CPU']],
      ['Top hosts', ['Busiest CPUs', 'Fullest memory', 'Highest load per CPU']],
    ]);
  });

  it('finds a counter family OpenMetrics named without _total by its samples', () => {
    const om = family('node_cpu_seconds', ['node_cpu_seconds_total']);
    expect(titles(fleetDashboard([om]))).toContain('CPU utilisation per host');
  });

  it('counts hosts from up under the variables; a stat reads 0 rather than no data', () => {
    const byTitle = Object.fromEntries(expressions(fleetDashboard([])).map((e) => [e.panel, e.expr]));
    expect(byTitle).toEqual({
      'Overview / Hosts up': 'count(up{job=~"$job",instance=~"$instance"} == 1) or vector(0)',
      'Overview / Hosts down': 'count(up{job=~"$job",instance=~"$instance"} == 0) or vector(0)',
      'Overview / Hosts total': 'count(up{job=~"$job",instance=~"$instance"})',
      'Overview / Up per target': 'up{job=~"$job",instance=~"$instance"}',
    });
  });

  it('shows utilisation heat maps as ratios from 0 to 1, top hosts as instant topk(10)', () => {
    const panels = fleetDashboard(nodeExporterFamilies()).rows.flatMap((r) => r.panels);
    for (const p of panels.filter((x) => x.kind === 'statushistory' && x.title !== 'Up per target'))
      expect([p.unit, p.min, p.max], p.title).toEqual(['percentunit', 0, 1]);
    const top = panels.filter((x) => x.kind === 'bargauge' || x.kind === 'table');
    expect(top).toHaveLength(3);
    for (const p of top) {
      expect(p.queries[0]!.expr, p.title).toMatch(
        /^topk\(10, instance:\w+:\w+\{job=~"\$job",instance=~"\$instance"\}\)$/,
      );
      expect(p.queries[0]!.instant, p.title).toBe(true);
    }
  });

  it('reads only series that rules/node.yml records', () => {
    const doc = parse(nodeRules({ nodeJobs: [] })) as {
      groups: Array<{ rules: Array<{ record?: string }> }>;
    };
    const recorded = new Set(doc.groups.flatMap((g) => g.rules.flatMap((r) => (r.record ? [r.record] : []))));
    const used = expressions(fleetDashboard(nodeExporterFamilies())).flatMap(
      (e) => e.expr.match(/\binstance(_device)?:\w+:\w+/g) ?? [],
    );
    expect(used.length).toBeGreaterThan(0);
    for (const name of used) expect(recorded, name).toContain(name);
  });

  it('renders the same bytes twice, and whatever the order of the families', () => {
    const families = nodeExporterFamilies();
    const once = dashboardJson(fleetDashboard(families));
    expect(dashboardJson(fleetDashboard(families))).toBe(once);
    expect(dashboardJson(fleetDashboard([...families].reverse()))).toBe(once);
    expect(JSON.parse(once)).toMatchObject({ uid: 'overseer-fleet', title: 'Fleet overview' });
  });
});
