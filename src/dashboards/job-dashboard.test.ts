import { describe, expect, it } from 'vitest';
import type { CatalogEntry } from '../collector/catalog.js';
import { jobDashboard, jobMatcher, jobSlug, jobUid } from './job-dashboard.js';
import { selector } from './promql.js';
import { dashboardJson } from './render.js';
import { expressions } from './spec.js';

function fam(
  name: string,
  type: CatalogEntry['type'],
  labels: Record<string, number> = {},
  over: Partial<CatalogEntry> = {},
): CatalogEntry {
  return {
    name,
    type,
    help: `${name} help`,
    unit: undefined,
    labelNames: ['instance', 'job', ...Object.keys(labels)].sort(),
    sampleNames: [name],
    targets: 2,
    series: 2,
    jobs: ['api'],
    labelValues: { instance: 2, job: 1, ...labels },
    conflictingTypes: [],
    ...over,
  };
}

const hist = (name: string): Pick<CatalogEntry, 'sampleNames'> => ({
  sampleNames: ['_bucket', '_count', '_sum'].map((s) => `${name}${s}`),
});

const CATALOG: CatalogEntry[] = [
  fam('http_requests_total', 'counter', { code: 4, method: 3 }),
  fam(
    'http_request_duration_seconds',
    'histogram',
    { le: 10, route: 6 },
    hist('http_request_duration_seconds'),
  ),
  fam('process_start_time_seconds', 'gauge'),
  fam('process_resident_memory_bytes', 'gauge'),
  fam('nodejs_heap_size_used_bytes', 'gauge'),
  fam('app_sessions_active', 'gauge'),
  fam('app_jobs_total', 'counter', {}, { conflictingTypes: ['gauge'] }),
  fam('up', 'gauge'),
  fam('scrape_duration_seconds', 'gauge'),
  fam('node_cpu_seconds_total', 'counter', { mode: 8 }, { jobs: ['node'] }),
  fam('go_goroutines', 'gauge', {}, { jobs: ['api', 'worker'] }),
];

const B = '{job="api",instance=~"$instance"}';

describe('jobDashboard', () => {
  const { spec, warnings } = jobDashboard('api', CATALOG);

  it('is the dashboard of one job', () => {
    expect(spec).toMatchObject({
      uid: 'overseer-job-api',
      title: 'Job: api',
      tags: ['overseer', 'generated', 'job'],
      variables: { job: { fixed: 'api' }, instance: 'multi' },
    });
  });

  it('groups its families in rows by name prefix, sorted, after the highlights', () => {
    expect(spec.rows.map((r) => [r.title, r.panels.map((p) => p.title)])).toEqual([
      [
        'Highlights',
        [
          'Endpoint timings: http_request_duration_seconds p90 by route',
          'Active: app_sessions_active',
          'Process restarts in the last hour',
        ],
      ],
      ['app', ['app_sessions_active']],
      ['go', ['go_goroutines']],
      [
        'http',
        ['http_request_duration_seconds', 'http_request_duration_seconds (mean)', 'http_requests_total'],
      ],
      ['nodejs', ['nodejs_heap_size_used_bytes']],
      ['process', ['process_resident_memory_bytes', 'process_start_time_seconds']],
    ]);
  });

  it('leaves out up, scrape_* and other jobs’ families, and says why it left out a clash', () => {
    const exprs = expressions(spec).map((x) => x.expr);
    for (const name of ['up{', 'scrape_', 'node_cpu', 'app_jobs_total'])
      expect(exprs.join('\n')).not.toContain(name);
    expect(warnings).toEqual(['app_jobs_total: targets declare clashing types (counter, gauge): not shown']);
  });

  it('writes the highlight queries over the job’s selector', () => {
    expect(spec.rows[0]?.panels.map((p) => p.queries)).toEqual([
      [
        {
          expr: `histogram_quantile(0.9, sum by (le, route) (rate(http_request_duration_seconds_bucket${B}[$__rate_interval])))`,
          legend: '{{route}}',
        },
      ],
      [{ expr: `sum (app_sessions_active${B})`, legend: 'all instances' }],
      [{ expr: `sum by (instance) (changes(process_start_time_seconds${B}[1h]))`, legend: '{{instance}}' }],
    ]);
  });

  it.each<[string, CatalogEntry[], string[]]>([
    ['no highlight metrics: no Highlights row', [fam('http_requests_total', 'counter')], ['http']],
    [
      'a histogram without an endpoint label is no highlight',
      [fam('db_query_seconds', 'histogram', { le: 5, table: 4 }, hist('db_query_seconds'))],
      ['db'],
    ],
    [
      'a clashing start time is no highlight',
      [fam('process_start_time_seconds', 'gauge', {}, { conflictingTypes: ['counter'] })],
      [],
    ],
    ['users_active counts as active users', [fam('users_active', 'gauge')], ['Highlights', 'users']],
    ['nothing of the job: no rows', [fam('http_requests_total', 'counter', {}, { jobs: ['other'] })], []],
  ])('%s', (_, families, rows) => {
    expect(jobDashboard('api', families).spec.rows.map((r) => r.title)).toEqual(rows);
  });
});

describe('determinism', () => {
  const orders: Array<[string, CatalogEntry[]]> = [
    ['reversed', [...CATALOG].reverse()],
    ['rotated', [...CATALOG.slice(5), ...CATALOG.slice(0, 5)]],
    ['interleaved', [...CATALOG.filter((_, i) => i % 2 === 1), ...CATALOG.filter((_, i) => i % 2 === 0)]],
  ];

  it('gives the same bytes twice', () => {
    expect(dashboardJson(jobDashboard('api', CATALOG).spec)).toBe(
      dashboardJson(jobDashboard('api', CATALOG).spec),
    );
  });

  it.each(orders)('gives the same bytes and warnings whatever the input order (%s)', (_, shuffled) => {
    const a = jobDashboard('api', CATALOG);
    const b = jobDashboard('api', shuffled);
    expect(dashboardJson(b.spec)).toBe(dashboardJson(a.spec));
    expect(b.warnings).toEqual(a.warnings);
  });
});

describe('jobSlug / jobUid', () => {
  it.each<[string, RegExp]>([
    ['api', /^api$/],
    ['billing-worker', /^billing-worker$/],
    ['API', /^api-[0-9a-f]{8}$/],
    ['a"b', /^a-b-[0-9a-f]{8}$/],
    ['node_exporter', /^node-exporter-[0-9a-f]{8}$/],
    ['-api-', /^api-[0-9a-f]{8}$/],
    ['a--b', /^a-b-[0-9a-f]{8}$/],
    ['日本', /^[0-9a-f]{8}$/],
    ['', /^[0-9a-f]{8}$/],
    ['a-very-long-job-name-that-goes-on', /^a-very-long-job-na-[0-9a-f]{8}$/],
  ])('%j → %s', (job, want) => {
    expect(jobSlug(job)).toMatch(want);
    expect(jobSlug(job)).toBe(jobSlug(job));
    // Grafana's limit on a uid, and its alphabet.
    expect(jobUid(job)).toMatch(/^[a-z0-9-]{1,40}$/);
  });

  it('keeps jobs that clean to the same text apart', () => {
    const jobs = ['api', 'API', 'Api', 'a_pi', 'a-pi', 'a pi', 'a.pi', 'x'.repeat(60), `${'x'.repeat(60)}y`];
    expect(new Set(jobs.map(jobUid)).size).toBe(jobs.length);
  });
});

/** PromQL string literals of an expression, decoded (its escapes \\ \" \n are JSON's too). */
const literals = (expr: string): string[] =>
  [...expr.matchAll(/"(?:[^"\\]|\\.)*"/g)].map((x) => JSON.parse(x[0]) as string);

describe('catalog text never reaches PromQL unescaped', () => {
  it('quotes a job name with a quote, a backslash and a newline', () => {
    const { spec } = jobDashboard('a"b', [fam('g', 'gauge', {}, { jobs: ['a"b'] })]);
    expect(expressions(spec)[0]?.expr).toBe('avg (g{job="a\\"b",instance=~"$instance"})');
    expect(selector('g', [jobMatcher('a\\b\nc')])).toBe('g{job="a\\\\b\\nc"}');
  });

  it.each<[string, string]>([
    ['x$job', 'job=~"x[$]job"'],
    ['${instance}', 'job=~"[$]\\\\{instance\\\\}"'],
    ['[[job]].*', 'job=~"\\\\[\\\\[job\\\\]\\\\]\\\\.\\\\*"'],
  ])('keeps Grafana variable syntax in job %j out of Grafana’s reach', (job, want) => {
    expect(selector('g', [jobMatcher(job)])).toBe(`g{${want}}`);
    // The regex matches exactly the job name (Prometheus anchors regex matchers).
    const re = new RegExp(`^(?:${literals(want)[0]!})$`);
    expect(re.test(job)).toBe(true);
    expect(re.test(`${job}x`)).toBe(false);
  });

  it.each([
    'a"b',
    'a\\b',
    'line\nbreak',
    'x$job',
    '${datasource}',
    '[[instance]]',
    "o'brien",
    '} or vector(1) {',
  ])(
    'every expression of job %j: its only text outside PromQL syntax is quoted, no Grafana variable but ours',
    (job) => {
      const families = CATALOG.map((e) => ({ ...e, jobs: [job] }));
      const { spec } = jobDashboard(job, families);
      const exprs = expressions(spec).map((x) => x.expr);
      expect(exprs.length).toBeGreaterThan(5);
      for (const expr of exprs) {
        const outside = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
        // PromQL syntax only: names, numbers, operators, grouping; the catalog's text lives in the quotes.
        expect(outside).toMatch(/^[\w:(){}[\],.=!~ /$"]+$/);
        expect(outside).not.toContain('vector');
        expect(outside.split('{').length).toBe(outside.split('}').length);
        const values = literals(expr);
        for (const v of values)
          expect(['', '$instance', job].includes(v) || new RegExp(`^(?:${v})$`).test(job)).toBe(true);
        const grafana = expr.replace(/\$__rate_interval|\$instance/g, '');
        expect(grafana).not.toMatch(/\$\w|\$\{|\[\[/);
      }
    },
  );
});
