import { describe, expect, it } from 'vitest';
import { seriesKey } from '../../collector/exposition/lexer.js';
import type { Sample } from '../../collector/exposition/types.js';
import { SampleWindow } from '../../collector/sample-window.js';
import { CodeSums } from './code-sums.js';
import { promIncrease } from './increase.js';

const INTERVAL = 15_000;
const RANGE = 4 * INTERVAL;

function sample(name: string, labels: Record<string, string>, value: number): Sample {
  const pairs = Object.keys(labels)
    .sort()
    .flatMap((k) => [k, labels[k]!]);
  return {
    name,
    labels: pairs,
    value,
    timestampMs: undefined,
    exemplar: undefined,
    family: 0,
    series: seriesKey(name, pairs),
  };
}

/** One series of one target; `values[k]` is its value in scrape k, `undefined` when absent (stale). */
interface SeriesIn {
  target: string;
  labels: Record<string, string>;
  name?: string;
  values: Array<number | undefined>;
}

/** `compute` after scrape `at` (at `at * INTERVAL`), over `targets` (default: all), then byJob per code. */
interface Check {
  at: number;
  targets?: string[];
  expect: Record<string, Record<string, number>>;
}

interface Case {
  name: string;
  jobs: Record<string, string>;
  series: SeriesIn[];
  checks: Check[];
}

/** Values of a counter over `n` scrapes starting at `from`, rising by `step`. */
const ramp = (n: number, from = 0, step = 1): number[] =>
  Array.from({ length: n }, (_, i) => from + i * step);
const absent = (n: number): undefined[] => Array.from({ length: n }, () => undefined);
const pts = (values: Array<number | undefined>, k0 = 0) =>
  values.flatMap((v, i) => (v === undefined ? [] : [{ t: (k0 + i) * INTERVAL, v }]));

const cases: Case[] = [
  {
    name: 'series of one job on several targets are summed',
    jobs: { t1: 'api', t2: 'api' },
    series: [
      // Points every interval filling [now - range, now]: the increase is last - first.
      { target: 't1', labels: { code: '104211' }, values: ramp(5) },
      { target: 't2', labels: { code: '104211' }, values: ramp(5, 0, 2) },
    ],
    checks: [{ at: 4, expect: { '104211': { api: 4 + 8 } } }],
  },
  {
    name: 'jobs and codes are summed apart',
    jobs: { t1: 'api', t2: 'web', t3: '' },
    series: [
      { target: 't1', labels: { code: '1' }, values: ramp(5) },
      { target: 't1', labels: { code: '2' }, values: ramp(5, 0, 3) },
      { target: 't2', labels: { code: '1' }, values: ramp(5, 7, 5) },
      { target: 't3', labels: { code: '1' }, values: ramp(5, 0, 10) },
    ],
    checks: [{ at: 4, expect: { '1': { api: 4, web: 20, '': 40 }, '2': { api: 12 } } }],
  },
  {
    name: 'a counter reset adds the value after the drop, not the drop',
    jobs: { t1: 'api' },
    series: [{ target: 't1', labels: { code: '1' }, values: [5, 6, 1, 2, 3] }],
    // 5→6 (+1), restart at 1 (+1), 1→2→3 (+2).
    checks: [{ at: 4, expect: { '1': { api: 4 } } }],
  },
  {
    name: 'a series with one point in the range has no increase: its job is absent',
    jobs: { t1: 'api', t2: 'web' },
    series: [
      { target: 't1', labels: { code: '1' }, values: [...absent(4), 100] },
      // Old points are outside [now - range, now]: only the last one counts.
      { target: 't2', labels: { code: '1' }, values: [0, 1, 2, 3, 4, ...absent(4), 9] },
    ],
    checks: [
      { at: 4, expect: { '1': { web: 4 } } },
      { at: 9, expect: { '1': {} } },
    ],
  },
  {
    name: 'stale markers (series missing from a scrape) are skipped, not read as values',
    jobs: { t1: 'api' },
    series: [{ target: 't1', labels: { code: '1' }, values: [0, 2, undefined, 6, 8] }],
    checks: [
      { at: 4, expect: { '1': { api: promIncrease(pts([0, 2, undefined, 6, 8]), 4 * INTERVAL, RANGE)! } } },
    ],
  },
  {
    name: 'a series that starts mid-range is extrapolated as PromQL does',
    jobs: { t1: 'api' },
    series: [{ target: 't1', labels: { code: '1' }, values: [undefined, undefined, 10, 13, 16] }],
    // Not 6: half an interval is added before the first point.
    checks: [{ at: 4, expect: { '1': { api: promIncrease(pts([10, 13, 16], 2), 4 * INTERVAL, RANGE)! } } }],
  },
  {
    name: 'a series without a code label is ignored; other metrics are not read',
    jobs: { t1: 'api' },
    series: [
      { target: 't1', labels: { code: '1' }, values: ramp(5) },
      { target: 't1', labels: { path: '/x' }, values: ramp(5, 0, 100) },
      { target: 't1', labels: { code: '1' }, name: 'requests_total', values: ramp(5, 0, 1000) },
    ],
    checks: [{ at: 4, expect: { '1': { api: 4 }, '': {}, '/x': {} } }],
  },
  {
    name: 'a target no longer passed is left out, and counted again when passed again',
    jobs: { t1: 'api', t2: 'api' },
    series: [
      { target: 't1', labels: { code: '1' }, values: ramp(5) },
      { target: 't2', labels: { code: '1' }, values: ramp(5, 0, 2) },
    ],
    checks: [
      { at: 4, expect: { '1': { api: 12 } } },
      { at: 4, targets: ['t1'], expect: { '1': { api: 4 } } },
      { at: 4, targets: ['t2'], expect: { '1': { api: 8 } } },
      { at: 4, targets: [], expect: { '1': {} } },
      { at: 4, expect: { '1': { api: 12 } } },
    ],
  },
  {
    name: 'a job with no increase this cycle is absent, even when it had one before',
    jobs: { t1: 'api' },
    series: [{ target: 't1', labels: { code: '1' }, values: [...ramp(5), ...absent(5)] }],
    checks: [
      { at: 4, expect: { '1': { api: 4 } } },
      { at: 9, expect: { '1': {} } },
    ],
  },
  {
    name: 'more codes than the first sums array holds (1,100) grow it, for every job',
    jobs: { t1: 'api', t2: 'web' },
    series: [
      ...Array.from({ length: 1100 }, (_, i) => ({
        target: 't1',
        labels: { code: String(i) },
        values: ramp(5, 0, i),
      })),
      { target: 't2', labels: { code: '1099' }, values: ramp(5, 0, 2) },
      { target: 't2', labels: { code: '0' }, values: ramp(5) },
    ],
    checks: [{ at: 4, expect: { '0': { api: 0, web: 4 }, '1': { api: 4 }, '1099': { api: 4396, web: 8 } } }],
  },
];

function run(c: Case): Array<Record<string, Record<string, number>>> {
  const window = new SampleWindow({
    windowMs: 5 * 60_000,
    intervalMs: INTERVAL,
    maxSeries: 10_000,
  });
  const sums = new CodeSums('errors_total');
  const targets = Object.keys(c.jobs);
  let scraped = -1;
  return c.checks.map((check) => {
    while (scraped < check.at) {
      scraped++;
      for (const t of targets) {
        const samples = c.series
          .filter((s) => s.target === t && s.values[scraped] !== undefined)
          .map((s) => sample(s.name ?? 'errors_total', s.labels, s.values[scraped]!));
        expect(window.append(t, scraped * INTERVAL, samples).duplicate).toBeUndefined();
      }
    }
    const passed = (check.targets ?? targets).map((id) => ({ id, job: c.jobs[id]! }));
    sums.compute(window, passed, check.at * INTERVAL, RANGE);
    return Object.fromEntries(
      Object.keys(check.expect).map((code) => [code, Object.fromEntries(sums.byJob(code))]),
    );
  });
}

describe('CodeSums: sum by (job, code) (increase(errors_total[range]))', () => {
  it.each(cases)('$name', (c) => {
    const got = run(c);
    c.checks.forEach((check, i) => {
      const want = check.expect;
      expect(Object.keys(got[i]!)).toEqual(Object.keys(want));
      for (const [code, byJob] of Object.entries(want)) {
        expect(Object.keys(got[i]![code]!).sort(), `check ${i}, code ${code}: jobs`).toEqual(
          Object.keys(byJob).sort(),
        );
        for (const [job, v] of Object.entries(byJob))
          expect(got[i]![code]![job], `check ${i}, code ${code}, job ${job}`).toBeCloseTo(v, 9);
      }
    });
  });

  it('a window row freed and reused by another series is read with the new series code', () => {
    // 5 slots: a series absent for 5 scrapes is freed, and the next new series takes its row.
    const window = new SampleWindow({ windowMs: RANGE, intervalMs: INTERVAL, maxSeries: 100 });
    const sums = new CodeSums('errors_total');
    const targets = [{ id: 't1', job: 'api' }];
    const rowsOf = (): Map<string, number> => {
      const rows = new Map<string, number>();
      window.scan('t1', 'errors_total', -Infinity, Infinity, (row, series) => rows.set(series, row));
      return rows;
    };
    for (let k = 0; k <= 4; k++)
      window.append('t1', k * INTERVAL, [sample('errors_total', { code: '1' }, k)]);
    sums.compute(window, targets, 4 * INTERVAL, RANGE);
    expect(Object.fromEntries(sums.byJob('1'))).toEqual({ api: 4 });
    const oldRow = rowsOf().get('errors_total{code="1"}');
    expect(oldRow).toBeDefined();
    for (let k = 5; k <= 9; k++) window.append('t1', k * INTERVAL, []);
    expect(rowsOf().size).toBe(0);
    for (let k = 10; k <= 14; k++)
      window.append('t1', k * INTERVAL, [sample('errors_total', { code: '2' }, 2 * (k - 10))]);
    // The scenario only tests the cache if the row really was reused.
    expect(rowsOf()).toEqual(new Map([['errors_total{code="2"}', oldRow]]));
    sums.compute(window, targets, 14 * INTERVAL, RANGE);
    expect(Object.fromEntries(sums.byJob('2'))).toEqual({ api: 8 });
    expect(Object.fromEntries(sums.byJob('1'))).toEqual({});
    expect(sums.series).toBe(1);
  });

  it.each<
    [string, Array<{ target: string; labels: Record<string, string>; name?: string }>, string[], number]
  >([
    [
      'every errors_total series of the passed targets',
      [
        { target: 't1', labels: { code: '1' } },
        { target: 't1', labels: { code: '2' } },
        { target: 't1', labels: { path: '/' } },
        { target: 't2', labels: { code: '1' } },
      ],
      ['t1', 't2'],
      4,
    ],
    [
      'not other metrics',
      [
        { target: 't1', labels: { code: '1' } },
        { target: 't1', labels: { code: '1' }, name: 'requests_total' },
      ],
      ['t1'],
      1,
    ],
    [
      'not targets left out',
      [
        { target: 't1', labels: { code: '1' } },
        { target: 't2', labels: { code: '1' } },
      ],
      ['t2'],
      1,
    ],
  ])('series counts %s', (_name, series, passed, want) => {
    const window = new SampleWindow({ windowMs: RANGE, intervalMs: INTERVAL, maxSeries: 100 });
    for (const t of ['t1', 't2'])
      window.append(
        t,
        0,
        series.filter((s) => s.target === t).map((s) => sample(s.name ?? 'errors_total', s.labels, 1)),
      );
    const sums = new CodeSums('errors_total');
    sums.compute(
      window,
      passed.map((id) => ({ id, job: 'api' })),
      0,
      RANGE,
    );
    expect(sums.series).toBe(want);
  });
});
