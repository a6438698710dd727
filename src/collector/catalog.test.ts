import { describe, expect, it } from 'vitest';
import { CARDINALITY_CAP, Catalog, type CatalogEntry } from './catalog.js';
import { parseExposition } from './exposition/parse.js';
import type { Exposition } from './exposition/types.js';

const prom = (text: string): Exposition => parseExposition(text, 'prometheus');
const om = (text: string): Exposition => parseExposition(text, 'openmetrics');

const TARGET_LABELS = { instance: 'h1:9100', job: 'api' };

const HISTOGRAM = `# HELP rpc_seconds RPC latency.
# TYPE rpc_seconds histogram
rpc_seconds_bucket{method="get",le="0.1"} 1
rpc_seconds_bucket{method="get",le="+Inf"} 2
rpc_seconds_sum{method="get"} 0.3
rpc_seconds_count{method="get"} 2
`;

const COUNTER_A = `# HELP http_requests_total Requests.
# TYPE http_requests_total counter
http_requests_total{code="200"} 5
http_requests_total{code="500"} 1
`;

const COUNTER_B = `# TYPE http_requests_total counter
http_requests_total{code="200",path="/x"} 7
`;

function entry(c: Catalog, name: string): CatalogEntry {
  const e = c.entries().find((x) => x.name === name);
  expect(e, `catalog entry ${name}`).toBeDefined();
  return e!;
}

describe('Catalog.update / entries', () => {
  it('describes one target: type, help, label names incl. target labels, sample names', () => {
    const c = new Catalog();
    c.update('t1', prom(HISTOGRAM), TARGET_LABELS);
    expect(c.has('t1')).toBe(true);
    expect(c.entries()).toEqual<CatalogEntry[]>([
      {
        name: 'rpc_seconds',
        type: 'histogram',
        help: 'RPC latency.',
        unit: undefined,
        labelNames: ['instance', 'job', 'le', 'method'],
        sampleNames: ['rpc_seconds_bucket', 'rpc_seconds_count', 'rpc_seconds_sum'],
        targets: 1,
        series: 4,
        jobs: ['api'],
        labelValues: { instance: 1, job: 1, le: 2, method: 1 },
        conflictingTypes: [],
      },
    ]);
  });

  it('merges a family across targets: targets, series, label names and help', () => {
    const c = new Catalog();
    c.update('t1', prom(COUNTER_A), TARGET_LABELS);
    c.update('t2', prom(COUNTER_B), { instance: 'h2:9100', job: 'api', host: 'h2' });
    expect(entry(c, 'http_requests_total')).toEqual<CatalogEntry>({
      name: 'http_requests_total',
      type: 'counter',
      help: 'Requests.',
      unit: undefined,
      labelNames: ['code', 'host', 'instance', 'job', 'path'],
      sampleNames: ['http_requests_total'],
      targets: 2,
      series: 3,
      jobs: ['api'],
      labelValues: { code: 2, host: 1, instance: 2, job: 1, path: 1 },
      conflictingTypes: [],
    });
  });

  it('takes help and unit from any target that has them', () => {
    const c = new Catalog();
    c.update('t1', prom(COUNTER_B), TARGET_LABELS);
    c.update('t2', prom(COUNTER_A), TARGET_LABELS);
    expect(entry(c, 'http_requests_total').help).toBe('Requests.');
  });

  it('keeps the OpenMetrics unit and family name', () => {
    const c = new Catalog();
    c.update(
      't1',
      om(`# TYPE disk_bytes gauge
# UNIT disk_bytes bytes
# HELP disk_bytes Disk size.
disk_bytes{dev="sda"} 1e9
# TYPE jobs counter
jobs_total 3
jobs_created 1.7e9
# EOF
`),
      {},
    );
    expect(c.entries().map((e) => [e.name, e.type, e.unit, e.sampleNames])).toEqual([
      ['disk_bytes', 'gauge', 'bytes', ['disk_bytes']],
      ['jobs', 'counter', undefined, ['jobs_created', 'jobs_total']],
    ]);
  });

  it('leaves out families without samples, also when merging', () => {
    const c = new Catalog();
    c.update(
      't1',
      prom('# HELP empty_total Nothing yet.\n# TYPE empty_total counter\n# TYPE up gauge\nup 1\n'),
      {},
    );
    expect(c.entries().map((e) => e.name)).toEqual(['up']);
    c.update('t2', prom('# TYPE up gauge\n# TYPE empty_total counter\nempty_total 4\n'), {});
    // `up` has no samples on t2, so t2 does not count as a target of it.
    expect(c.entries().map((e) => [e.name, e.targets, e.series])).toEqual([
      ['empty_total', 1, 1],
      ['up', 1, 1],
    ]);
  });

  it('sorts entries by name and names inside entries', () => {
    const c = new Catalog();
    c.update('t1', prom('zeta{b="1",a="2"} 1\nalpha 1\nMixed 1\n_under 1\n'), {
      z_target: 'z',
      a_target: 'a',
    });
    const entries = c.entries();
    expect(entries.map((e) => e.name)).toEqual(['Mixed', '_under', 'alpha', 'zeta']);
    expect(entry(c, 'zeta').labelNames).toEqual(['a', 'a_target', 'b', 'z_target']);
    expect(entry(c, 'alpha').labelNames).toEqual(['a_target', 'z_target']);
  });

  it('replaces a target on update instead of adding to it', () => {
    const c = new Catalog();
    c.update('t1', prom(COUNTER_A), TARGET_LABELS);
    c.update('t1', prom(COUNTER_B), TARGET_LABELS);
    expect(entry(c, 'http_requests_total')).toMatchObject({
      targets: 1,
      series: 1,
      labelNames: ['code', 'instance', 'job', 'path'],
    });
    c.update('t1', prom('up 1\n'), {});
    expect(c.entries().map((e) => e.name)).toEqual(['up']);
  });

  it('an untyped family takes the type another target declares', () => {
    const c = new Catalog();
    c.update('t1', prom('jobs 1\n'), {});
    c.update('t2', prom('# TYPE jobs gauge\njobs 2\n'), {});
    expect(entry(c, 'jobs')).toMatchObject({ type: 'gauge', targets: 2, series: 2 });
  });
});

describe('Catalog: jobs, label cardinality and clashing types', () => {
  it("counts distinct values per label over targets (target labels win over the exporter's)", () => {
    const c = new Catalog();
    c.update('t1', prom(COUNTER_A), { job: 'api', instance: 'a:1' });
    c.update('t2', prom('http_requests_total{code="404",job="spoofed"} 1\n'), {
      job: 'web',
      instance: 'b:1',
    });
    expect(entry(c, 'http_requests_total')).toMatchObject({
      jobs: ['api', 'web'],
      labelValues: { code: 3, instance: 2, job: 2 },
    });
  });

  it('stops counting a label at CARDINALITY_CAP', () => {
    const lines = Array.from({ length: CARDINALITY_CAP + 50 }, (_, i) => `user_sessions{user="u${i}"} 1`);
    const c = new Catalog();
    c.update('t1', prom(`# TYPE user_sessions gauge\n${lines.join('\n')}\n`), { job: 'api' });
    c.update('t2', prom(`# TYPE user_sessions gauge\nuser_sessions{user="other"} 1\n`), { job: 'api' });
    expect(entry(c, 'user_sessions').labelValues.user).toBe(CARDINALITY_CAP);
    expect(entry(c, 'user_sessions').series).toBe(CARDINALITY_CAP + 51);
  });

  it('reports a name declared with different types by different targets', () => {
    const c = new Catalog();
    c.update('t1', prom('# TYPE queue_depth gauge\nqueue_depth 1\n'), { job: 'a' });
    c.update('t2', prom('# TYPE queue_depth counter\nqueue_depth 2\n'), { job: 'b' });
    c.update('t3', prom('queue_depth 3\n'), { job: 'c' });
    expect(entry(c, 'queue_depth')).toMatchObject({ type: 'gauge', conflictingTypes: ['counter'] });
  });
});

describe('Catalog.drop', () => {
  it.each([
    { drop: ['t1'], want: [['http_requests_total', 1, 1]] },
    {
      drop: ['t2'],
      want: [
        ['http_requests_total', 1, 2],
        ['rpc_seconds', 1, 4],
      ],
    },
    { drop: ['t1', 't2'], want: [] },
    {
      drop: ['unknown'],
      want: [
        ['http_requests_total', 2, 3],
        ['rpc_seconds', 1, 4],
      ],
    },
  ])('dropping $drop', ({ drop, want }) => {
    const c = new Catalog();
    c.update('t1', prom(COUNTER_A + HISTOGRAM), TARGET_LABELS);
    c.update('t2', prom(COUNTER_B), TARGET_LABELS);
    for (const t of drop) c.drop(t);
    expect(c.entries().map((e) => [e.name, e.targets, e.series])).toEqual(want);
    for (const t of drop) expect(c.has(t)).toBe(false);
  });
});
