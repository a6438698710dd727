import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Catalog, type CatalogEntry } from '../collector/catalog.js';
import { parseExposition } from '../collector/exposition/parse.js';
import { hostDashboard } from './host-dashboard.js';
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

const family = (name: string): CatalogEntry => ({
  name,
  type: 'gauge',
  help: undefined,
  unit: undefined,
  labelNames: ['instance', 'job'],
  sampleNames: [name],
  targets: 1,
  series: 1,
  jobs: ['node'],
  labelValues: {},
  conflictingTypes: [],
});

const rows = (d: DashboardSpec): Array<[string, string[]]> =>
  d.rows.map((r) => [r.title, r.panels.map((p) => p.title)]);

const UP: [string, string[]] = ['Availability', ['Up']];
const CPU = 'node_cpu_seconds_total';
const LOADS = ['node_load1', 'node_load5', 'node_load15'];

describe('hostDashboard', () => {
  it('is one host at a time', () => {
    const d = hostDashboard([]);
    expect([d.uid, d.title, d.variables]).toEqual([
      'overseer-host',
      'Host',
      { job: 'multi', instance: 'single' },
    ]);
  });

  it.each<[string, string[], Array<[string, string[]]>]>([
    ['nothing from node_exporter', [], [UP]],
    ['CPU', [CPU], [UP, ['CPU', ['CPU by mode', 'CPUs']]]],
    [
      'memory',
      ['node_memory_MemAvailable_bytes', 'node_memory_MemTotal_bytes'],
      [UP, ['Memory', ['Memory', 'Memory used']]],
    ],
    ['half the memory families', ['node_memory_MemTotal_bytes'], [UP]],
    ['load without CPUs', LOADS, [UP, ['Load', ['Load average']]]],
    [
      'load with CPUs',
      [...LOADS, CPU],
      [UP, ['CPU', ['CPU by mode', 'CPUs']], ['Load', ['Load average', 'Load per CPU']]],
    ],
    ['disk io time only', ['node_disk_io_time_seconds_total'], [UP, ['Disk', ['Disk busy']]]],
    [
      'disk bytes only',
      ['node_disk_read_bytes_total', 'node_disk_written_bytes_total'],
      [UP, ['Disk', ['Disk throughput']]],
    ],
    ['network receive without transmit', ['node_network_receive_bytes_total'], [UP]],
    [
      'network',
      ['node_network_receive_bytes_total', 'node_network_transmit_bytes_total'],
      [UP, ['Network', ['Network traffic']]],
    ],
    [
      'filesystem',
      ['node_filesystem_avail_bytes', 'node_filesystem_size_bytes'],
      [UP, ['Filesystem', ['Filesystem used', 'Filesystem used now']]],
    ],
  ])('%s', (_, names, want) => {
    expect(rows(hostDashboard(names.map(family)))).toEqual(want);
  });

  it('has every row for a real node_exporter', () => {
    expect(hostDashboard(nodeExporterFamilies()).rows.map((r) => r.title)).toEqual([
      'Availability',
      'CPU',
      'Memory',
      'Load',
      'Disk',
      'Network',
      'Filesystem',
    ]);
  });

  it('stacks CPU modes as a share of all CPUs', () => {
    const p = hostDashboard([family(CPU)]).rows[1]!.panels[0]!;
    expect([p.kind, p.stack, p.unit, p.min, p.max]).toEqual(['timeseries', true, 'percentunit', 0, 1]);
    expect(p.queries).toEqual([
      {
        expr: 'sum by (mode) (rate(node_cpu_seconds_total{instance="$instance",mode!="idle"}[$__rate_interval])) / scalar(count(node_cpu_seconds_total{instance="$instance",mode="idle"}))',
        legend: '{{mode}}',
      },
    ]);
  });

  it('shows memory used, available and total in bytes', () => {
    const p = hostDashboard(nodeExporterFamilies()).rows.find((r) => r.title === 'Memory')!.panels[0]!;
    expect(p.unit).toBe('bytes');
    expect(p.queries.map((q) => q.legend)).toEqual(['used', 'available', 'total']);
  });

  it('selects exactly the one instance in every query', () => {
    for (const { panel, expr } of expressions(hostDashboard(nodeExporterFamilies()))) {
      const selectors = expr.match(/\b[a-zA-Z_:][\w:]*\{[^}]*\}/g) ?? [];
      expect(selectors.length, panel).toBeGreaterThan(0);
      for (const s of selectors) expect(s, panel).toContain('instance="$instance"');
      expect(expr, panel).not.toContain('instance=~');
    }
  });

  it.each<[string, RegExp]>([
    ['Network / Network traffic', /device!="lo"/],
    ['Filesystem / Filesystem used', /fstype!~"tmpfs\|[^"]*overlay/],
  ])('%s leaves out what is not the host’s', (panel, re) => {
    const exprs = expressions(hostDashboard(nodeExporterFamilies())).filter((e) => e.panel === panel);
    expect(exprs.length).toBeGreaterThan(0);
    for (const e of exprs) expect(e.expr).toMatch(re);
  });

  it('renders the same bytes twice, and whatever the order of the families', () => {
    const families = nodeExporterFamilies();
    const once = dashboardJson(hostDashboard(families));
    expect(dashboardJson(hostDashboard(families))).toBe(once);
    expect(dashboardJson(hostDashboard([...families].reverse()))).toBe(once);
    expect(JSON.parse(once)).toMatchObject({ uid: 'overseer-host', title: 'Host' });
  });
});
