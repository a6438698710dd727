import type { CatalogEntry } from '../collector/catalog.js';
import { NODE_RECORDS } from './node-rules.js';
import { INSTANCE, JOB, selector } from './promql.js';
import type { DashboardSpec, PanelSpec, RowSpec } from './spec.js';

/** A panel and the families (by family or sample name) it reads; it is left out when one is missing. */
export interface PanelCandidate {
  needs: string[];
  panel: PanelSpec;
}

const CPU = 'node_cpu_seconds_total';
const MEMORY = ['node_memory_MemAvailable_bytes', 'node_memory_MemTotal_bytes'];

const up = selector('up', [JOB, INSTANCE]);
/** A recorded node series (rules/node.yml) under the dashboard's variables. */
const recorded = (name: string): string => selector(name, [JOB, INSTANCE]);
const top = (name: string): string => `topk(10, ${recorded(name)})`;

const ratio = { unit: 'percentunit', min: 0, max: 1 } as const;

/** `or vector(0)`: with every host up, `== 0` selects nothing, and a stat should read 0, not "No data". */
const overview: PanelCandidate[] = [
  {
    needs: [],
    panel: {
      kind: 'stat',
      title: 'Hosts up',
      unit: 'short',
      width: 8,
      height: 4,
      queries: [{ expr: `count(${up} == 1) or vector(0)`, instant: true }],
    },
  },
  {
    needs: [],
    panel: {
      kind: 'stat',
      title: 'Hosts down',
      unit: 'short',
      width: 8,
      height: 4,
      queries: [{ expr: `count(${up} == 0) or vector(0)`, instant: true }],
    },
  },
  {
    needs: [],
    panel: {
      kind: 'stat',
      title: 'Hosts total',
      unit: 'short',
      width: 8,
      height: 4,
      queries: [{ expr: `count(${up})`, instant: true }],
    },
  },
  {
    needs: [],
    panel: {
      kind: 'statushistory',
      title: 'Up per target',
      description: 'Whether the last scrape of each target succeeded (1) or failed (0).',
      min: 0,
      max: 1,
      width: 24,
      queries: [{ expr: up, legend: '{{job}} {{instance}}' }],
    },
  },
];

const cpuAndMemory: PanelCandidate[] = [
  {
    needs: [CPU],
    panel: {
      kind: 'statushistory',
      title: 'CPU utilisation per host',
      description:
        'Share of all CPUs not idle, in iowait or stolen, over 5m (instance:node_cpu_utilisation:rate5m).',
      ...ratio,
      queries: [{ expr: recorded(NODE_RECORDS.cpuUtilisation), legend: '{{instance}}' }],
    },
  },
  {
    needs: MEMORY,
    panel: {
      kind: 'statushistory',
      title: 'Memory utilisation per host',
      description: 'Share of memory not available to new work (instance:node_memory_utilisation:ratio).',
      ...ratio,
      queries: [{ expr: recorded(NODE_RECORDS.memoryUtilisation), legend: '{{instance}}' }],
    },
  },
];

const load: PanelCandidate[] = [
  {
    needs: ['node_load1', CPU],
    panel: {
      kind: 'timeseries',
      title: 'Load per CPU',
      description: '1m load average divided by the CPU count: above 1, work waits for a CPU.',
      unit: 'short',
      min: 0,
      width: 24,
      queries: [{ expr: recorded(NODE_RECORDS.load1PerCpu), legend: '{{instance}}' }],
    },
  },
];

const topHosts: PanelCandidate[] = [
  {
    needs: [CPU],
    panel: {
      kind: 'bargauge',
      title: 'Busiest CPUs',
      ...ratio,
      width: 8,
      queries: [{ expr: top(NODE_RECORDS.cpuUtilisation), legend: '{{instance}}', instant: true }],
    },
  },
  {
    needs: MEMORY,
    panel: {
      kind: 'bargauge',
      title: 'Fullest memory',
      ...ratio,
      width: 8,
      queries: [{ expr: top(NODE_RECORDS.memoryUtilisation), legend: '{{instance}}', instant: true }],
    },
  },
  {
    needs: ['node_load1', CPU],
    panel: {
      kind: 'table',
      title: 'Highest load per CPU',
      unit: 'short',
      width: 8,
      queries: [{ expr: top(NODE_RECORDS.load1PerCpu), legend: '{{instance}}', instant: true }],
    },
  },
];

/** Whether the catalog has a family: OpenMetrics names a counter family without `_total`, so samples count. */
export function familyNames(families: readonly CatalogEntry[]): Set<string> {
  return new Set(families.flatMap((f) => [f.name, ...f.sampleNames]));
}

/** Rows of the candidates whose families are all present; a row left with no panel is dropped. */
export function presentRows(
  rows: ReadonlyArray<[string, PanelCandidate[]]>,
  families: readonly CatalogEntry[],
): RowSpec[] {
  const names = familyNames(families);
  return rows
    .map(([title, candidates]) => ({
      title,
      panels: candidates.filter((c) => c.needs.every((n) => names.has(n))).map((c) => c.panel),
    }))
    .filter((r) => r.panels.length > 0);
}

/**
 * The fleet at a glance: targets up and down from `up` alone, and, where node_exporter is scraped, CPU,
 * memory and load per host. Node panels read the recorded series of rules/node.yml (loaded into the
 * Prometheus the dashboard queries), so a fleet of hundreds of hosts costs one series per host per panel.
 */
export function fleetDashboard(families: CatalogEntry[]): DashboardSpec {
  return {
    uid: 'overseer-fleet',
    title: 'Fleet overview',
    description: 'Hosts up and down, and CPU, memory and load per host (node_exporter recording rules).',
    tags: ['overseer', 'fleet', 'node'],
    variables: { job: 'multi', instance: 'multi' },
    rows: presentRows(
      [
        ['Overview', overview],
        ['CPU and memory per host', cpuAndMemory],
        ['Load', load],
        ['Top hosts', topHosts],
      ],
      families,
    ),
  };
}
