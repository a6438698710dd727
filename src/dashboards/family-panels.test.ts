import { describe, expect, it } from 'vitest';
import type { CatalogEntry } from '../collector/catalog.js';
import { panelsForFamily } from './family-panels.js';
import { INSTANCE, m } from './promql.js';
import { dashboardJson } from './render.js';
import type { PanelSpec } from './spec.js';

const BASE = [m('job', '=', 'api'), INSTANCE];
const S = '{job="api",instance=~"$instance"}';
const R = '[$__rate_interval]';
const SQ = '{job="api",instance=~"$instance",quantile!=""}';

/** A family of one job on one target; `labels` are its own labels with their distinct value counts. */
function fam(
  name: string,
  type: CatalogEntry['type'],
  labels: Record<string, number> = {},
  over: Partial<CatalogEntry> = {},
): CatalogEntry {
  return {
    name,
    type,
    help: undefined,
    unit: undefined,
    labelNames: ['instance', 'job', ...Object.keys(labels)].sort(),
    sampleNames: [name],
    targets: 1,
    series: 1,
    jobs: ['api'],
    labelValues: { instance: 1, job: 1, ...labels },
    conflictingTypes: [],
    ...over,
  };
}

const HIST = ['_bucket', '_count', '_sum'];
const samples = (name: string, suffixes: string[]): Pick<CatalogEntry, 'sampleNames'> => ({
  sampleNames: suffixes.map((s) => `${name}${s}`),
});

type Shown = Pick<PanelSpec, 'kind' | 'title' | 'unit' | 'queries'>;
const ts = (title: string, unit: string, queries: PanelSpec['queries']): Shown => ({
  kind: 'timeseries',
  title,
  unit,
  queries,
});

describe('panelsForFamily: panel choice per type and unit', () => {
  it.each<[string, CatalogEntry, Shown[]]>([
    [
      'counter without labels: plain sum of rates',
      fam('http_requests_total', 'counter'),
      [
        ts('http_requests_total', 'ops', [
          { expr: `sum (rate(http_requests_total${S}${R}))`, legend: 'total' },
        ]),
      ],
    ],
    [
      'counter: the first preferred label that fits (code before method)',
      fam('http_requests_total', 'counter', { method: 4, code: 3 }),
      [
        ts('http_requests_total', 'ops', [
          { expr: `sum by (code) (rate(http_requests_total${S}${R}))`, legend: '{{code}}' },
        ]),
      ],
    ],
    [
      'counter: a label of 1 or 21+ values is no group; another label that fits is',
      fam('jobs_done_total', 'counter', { code: 1, method: 21, queue: 4 }),
      [
        ts('jobs_done_total', 'ops', [
          { expr: `sum by (queue) (rate(jobs_done_total${S}${R}))`, legend: '{{queue}}' },
        ]),
      ],
    ],
    [
      'OpenMetrics counter: the rate reads its _total sample; UNIT seconds → s',
      fam(
        'process_cpu_seconds',
        'counter',
        {},
        {
          unit: 'seconds',
          ...samples('process_cpu_seconds', ['_created', '_total']),
        },
      ),
      [
        ts('process_cpu_seconds', 's', [
          { expr: `sum (rate(process_cpu_seconds_total${S}${R}))`, legend: 'total' },
        ]),
      ],
    ],
    [
      'bytes counter → Bps, grouped by device',
      fam('node_network_receive_bytes_total', 'counter', { device: 3 }),
      [
        ts('node_network_receive_bytes_total', 'Bps', [
          { expr: `sum by (device) (rate(node_network_receive_bytes_total${S}${R}))`, legend: '{{device}}' },
        ]),
      ],
    ],
    [
      'histogram: p50/p90/p99 and the mean, in seconds',
      fam(
        'http_request_duration_seconds',
        'histogram',
        { le: 12 },
        samples('http_request_duration_seconds', HIST),
      ),
      [
        ts(
          'http_request_duration_seconds',
          's',
          [0.5, 0.9, 0.99].map((q) => ({
            expr: `histogram_quantile(${q}, sum by (le) (rate(http_request_duration_seconds_bucket${S}${R})))`,
            legend: `p${q * 100}`,
          })),
        ),
        ts('http_request_duration_seconds (mean)', 's', [
          {
            expr: `sum (rate(http_request_duration_seconds_sum${S}${R})) / sum (rate(http_request_duration_seconds_count${S}${R}))`,
            legend: 'mean',
          },
        ]),
      ],
    ],
    [
      'histogram with a route label: p90 by route',
      fam('rpc_size_bytes', 'histogram', { le: 12, route: 7 }, samples('rpc_size_bytes', HIST)),
      [
        ts('rpc_size_bytes', 'bytes', [
          {
            expr: `histogram_quantile(0.9, sum by (le, route) (rate(rpc_size_bytes_bucket${S}${R})))`,
            legend: '{{route}}',
          },
        ]),
        ts('rpc_size_bytes (mean)', 'bytes', [
          {
            expr: `sum (rate(rpc_size_bytes_sum${S}${R})) / sum (rate(rpc_size_bytes_count${S}${R}))`,
            legend: 'mean',
          },
        ]),
      ],
    ],
    [
      'OpenMetrics histogram without _sum/_count: no mean',
      fam('q_seconds', 'histogram', { le: 3 }, samples('q_seconds', ['_bucket'])),
      [
        ts(
          'q_seconds',
          's',
          [0.5, 0.9, 0.99].map((q) => ({
            expr: `histogram_quantile(${q}, sum by (le) (rate(q_seconds_bucket${S}${R})))`,
            legend: `p${q * 100}`,
          })),
        ),
      ],
    ],
    [
      'gauge: avg, max and min over instances',
      fam('process_resident_memory_bytes', 'gauge'),
      [
        ts(
          'process_resident_memory_bytes',
          'bytes',
          ['avg', 'max', 'min'].map((op) => ({
            expr: `${op} (process_resident_memory_bytes${S})`,
            legend: op,
          })),
        ),
      ],
    ],
    [
      'gauge with a label that fits: max by it',
      fam('cache_hit_ratio', 'gauge', { type: 2 }),
      [
        ts('cache_hit_ratio', 'percentunit', [
          { expr: `max by (type) (cache_hit_ratio${S})`, legend: '{{type}}' },
        ]),
      ],
    ],
    [
      'summary: per-series quantiles (never aggregated) and the rate of _count',
      fam(
        'rpc_duration_seconds',
        'summary',
        { quantile: 3 },
        samples('rpc_duration_seconds', ['', '_count', '_sum']),
      ),
      [
        ts('rpc_duration_seconds', 's', [
          { expr: `rpc_duration_seconds${SQ}`, legend: '{{instance}} q{{quantile}}' },
        ]),
        ts('rpc_duration_seconds (rate)', 'ops', [
          { expr: `sum (rate(rpc_duration_seconds_count${S}${R}))`, legend: 'total' },
        ]),
      ],
    ],
    [
      'summary with a label: the label in the legend and the rate by it',
      fam(
        'rpc_duration_seconds',
        'summary',
        { quantile: 3, method: 2 },
        samples('rpc_duration_seconds', ['', '_count', '_sum']),
      ),
      [
        ts('rpc_duration_seconds', 's', [
          { expr: `rpc_duration_seconds${SQ}`, legend: '{{instance}} {{method}} q{{quantile}}' },
        ]),
        ts('rpc_duration_seconds (rate)', 'ops', [
          { expr: `sum by (method) (rate(rpc_duration_seconds_count${S}${R}))`, legend: '{{method}}' },
        ]),
      ],
    ],
    [
      'summary without quantiles (client_golang default): only the rate',
      fam('gc_seconds', 'summary', {}, samples('gc_seconds', ['_count', '_sum'])),
      [ts('gc_seconds (rate)', 'ops', [{ expr: `sum (rate(gc_seconds_count${S}${R}))`, legend: 'total' }])],
    ],
    [
      'stateset: drawn as a gauge, by its state label',
      fam('feature_state', 'stateset', { feature_state: 3 }),
      [
        ts('feature_state', 'short', [
          { expr: `max by (feature_state) (feature_state${S})`, legend: '{{feature_state}}' },
        ]),
      ],
    ],
    [
      'info: a table of the current label sets',
      fam('build', 'info', { version: 2 }, samples('build', ['_info'])),
      [
        {
          kind: 'table',
          title: 'build',
          unit: 'short',
          queries: [{ expr: `build_info${S}`, instant: true }],
        },
      ],
    ],
  ])('%s', (_, entry, want) => {
    const got = panelsForFamily(entry, BASE);
    expect(got.warnings).toEqual([]);
    expect(got.panels.map(({ kind, title, unit, queries }) => ({ kind, title, unit, queries }))).toEqual(
      want,
    );
  });

  it.each<[string | undefined, string | undefined]>([
    ['Requests served.', 'Requests served.'],
    ['', undefined],
    [undefined, undefined],
  ])('description is the HELP (%j → %j)', (help, want) => {
    const [p] = panelsForFamily(fam('x_total', 'counter', {}, { help }), BASE).panels;
    expect(p?.description).toBe(want);
    expect(p !== undefined && 'description' in p).toBe(want !== undefined);
  });
});

describe('panelsForFamily: bad input gives warnings', () => {
  it.each<[string, CatalogEntry, RegExp[], number]>([
    [
      'clashing types: no panel',
      fam('jobs_total', 'counter', {}, { conflictingTypes: ['gauge'] }),
      [/^jobs_total: targets declare clashing types \(counter, gauge\): not shown$/],
      0,
    ],
    [
      'no TYPE, _total: a counter',
      fam('hits_total', 'untyped'),
      [/^hits_total: no TYPE: shown as counter$/],
      1,
    ],
    ['no TYPE: a gauge', fam('temperature', 'unknown'), [/^temperature: no TYPE: shown as gauge$/], 1],
    [
      'gaugehistogram: not shown',
      fam('queue_wait', 'gaugehistogram'),
      [/^queue_wait: gaugehistogram: not shown$/],
      0,
    ],
    [
      'invalid metric name',
      fam('my.metric', 'gauge'),
      [/^"my\.metric": not a valid metric name: not shown$/],
      0,
    ],
    [
      'invalid label name: never grouped by',
      fam('g', 'gauge', { 'my.label': 3 }),
      [/^g: label "my\.label" is not a valid label name: never grouped by$/],
      1,
    ],
    [
      'a label at the cardinality cap: never grouped by',
      fam('req_total', 'counter', { path: 1000 }),
      [/^req_total: label path has at least 1000 values: never grouped by$/],
      1,
    ],
    [
      'over 10,000 series: still one aggregated panel',
      fam('g', 'gauge', {}, { series: 10_001 }),
      [/^g: 10001 series \(over 10000\): shown aggregated only$/],
      1,
    ],
    [
      'over 10,000 series of a summary: no per-series quantiles, the rate stays',
      fam(
        's_seconds',
        'summary',
        { quantile: 3 },
        { series: 20_000, ...samples('s_seconds', ['', '_count', '_sum']) },
      ),
      [/^s_seconds: 20000 series \(over 10000\): shown aggregated only$/],
      1,
    ],
    [
      'over 10,000 series of an info: no table',
      fam('build', 'info', {}, { series: 20_000, ...samples('build', ['_info']) }),
      [/^build: info not shown: 20000 series and no aggregate$/],
      0,
    ],
    [
      'a histogram without its samples',
      fam('h', 'histogram', {}, { sampleNames: [] }),
      [/^h: histogram not shown: no samples to draw$/],
      0,
    ],
  ])('%s', (_, entry, want, panels) => {
    const got = panelsForFamily(entry, BASE);
    expect(got.warnings).toHaveLength(want.length);
    want.forEach((re, i) => expect(got.warnings[i]).toMatch(re));
    expect(got.panels).toHaveLength(panels);
  });

  it('never groups by an invalid or capped label, even a preferred one', () => {
    const got = panelsForFamily(fam('req_total', 'counter', { code: 1000, 'x-y': 3 }), BASE);
    expect(got.panels[0]?.queries).toEqual([{ expr: `sum (rate(req_total${S}${R}))`, legend: 'total' }]);
  });
});

it('every panel renders with the Grafana SDK', () => {
  const panels = [
    fam('a_total', 'counter', { code: 3 }),
    fam('b_seconds', 'histogram', { le: 5, route: 3 }, samples('b_seconds', HIST)),
    fam('c_bytes', 'gauge'),
    fam('d_seconds', 'summary', { quantile: 3 }, samples('d_seconds', ['', '_count', '_sum'])),
    fam('e', 'info', {}, samples('e', ['_info'])),
  ].flatMap((e) => panelsForFamily(e, BASE).panels);
  const json = dashboardJson({
    uid: 'test',
    title: 'test',
    description: '',
    tags: [],
    variables: { job: { fixed: 'api' }, instance: 'multi' },
    rows: [{ title: 'all', panels }],
  });
  expect(JSON.parse(json)).toMatchObject({ uid: 'test' });
});
