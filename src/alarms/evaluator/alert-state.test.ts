import { describe, expect, it } from 'vitest';
import { evaluateAlerts, RESOLVED_RETENTION_MS, type AlertInstance, type AlertState } from './alert-state.js';
import { promIncrease } from './increase.js';

const L = { job: 'api', code: '1' };
const K = 'k';

/** Runs evaluations at t = 0, 1, 2, … minutes; `active[i]` says whether the expression returns the alert. */
function run(active: boolean[], timing: { forMs: number; keepFiringForMs: number }): Array<AlertState | '-'> {
  const alerts = new Map<string, AlertInstance>();
  return active.map((on, i) => {
    const results = new Map(on ? [[K, { labels: L, value: 1 }]] : []);
    evaluateAlerts(alerts, results, i * 60_000, timing);
    return alerts.get(K)?.state ?? '-';
  });
}

describe('evaluateAlerts (Prometheus alert states)', () => {
  it.each<[string, boolean[], { forMs: number; keepFiringForMs: number }, Array<AlertState | '-'>]>([
    [
      'for 0 fires at once',
      [true, true, false],
      { forMs: 0, keepFiringForMs: 0 },
      ['firing', 'firing', 'resolved'],
    ],
    [
      'for 2m: pending until held 2m',
      [true, true, true, true, false],
      { forMs: 120_000, keepFiringForMs: 0 },
      ['pending', 'pending', 'firing', 'firing', 'resolved'],
    ],
    [
      'a pending alert that goes away is dropped',
      [true, false, true],
      { forMs: 120_000, keepFiringForMs: 0 },
      ['pending', '-', 'pending'],
    ],
    [
      'keep_firing_for 2m holds a firing alert',
      [true, false, false, false, false],
      { forMs: 0, keepFiringForMs: 120_000 },
      ['firing', 'firing', 'firing', 'resolved', 'resolved'],
    ],
    [
      'returning within keep_firing_for resets it',
      [true, false, true, false, false, false],
      { forMs: 0, keepFiringForMs: 120_000 },
      ['firing', 'firing', 'firing', 'firing', 'firing', 'resolved'],
    ],
    [
      'keep_firing_for does not hold a pending alert',
      [true, false],
      { forMs: 120_000, keepFiringForMs: 600_000 },
      ['pending', '-'],
    ],
    [
      'a resolved alert that returns is pending again, with a new activeAt',
      [true, true, false, true, true, true],
      { forMs: 60_000, keepFiringForMs: 0 },
      ['pending', 'firing', 'resolved', 'pending', 'firing', 'firing'],
    ],
  ])('%s', (_name, active, timing, states) => {
    expect(run(active, timing)).toEqual(states);
  });

  it('reports transitions and forgets resolved alerts after the retention', () => {
    const alerts = new Map<string, AlertInstance>();
    const one = new Map([[K, { labels: L, value: 3 }]]);
    expect(evaluateAlerts(alerts, one, 0, { forMs: 0, keepFiringForMs: 0 })).toEqual([
      { key: K, from: undefined, to: 'pending' },
      { key: K, from: 'pending', to: 'firing' },
    ]);
    expect(evaluateAlerts(alerts, new Map(), 60_000, { forMs: 0, keepFiringForMs: 0 })).toEqual([
      { key: K, from: 'firing', to: 'resolved' },
    ]);
    evaluateAlerts(alerts, new Map(), 60_000 + RESOLVED_RETENTION_MS, { forMs: 0, keepFiringForMs: 0 });
    expect(alerts.has(K)).toBe(true);
    evaluateAlerts(alerts, new Map(), 60_001 + RESOLVED_RETENTION_MS, { forMs: 0, keepFiringForMs: 0 });
    expect(alerts.has(K)).toBe(false);
  });
});

describe('promIncrease (extrapolated, as PromQL increase)', () => {
  const pts = (...vs: Array<[number, number]>) => vs.map(([s, v]) => ({ t: s * 1000, v }));
  it.each<[string, Array<[number, number]>, number, number, number | undefined]>([
    ['fewer than two points', [[0, 1]], 60, 60, undefined],
    // 10→13 sampled over 45 s; the first point is one interval from the start: extrapolated to all 60 s.
    [
      'extrapolates to the range',
      [
        [15, 10],
        [30, 11],
        [45, 12],
        [60, 13],
      ],
      60,
      60,
      (3 * 60) / 45,
    ],
    // From 0 the counter cannot have risen before its first sample: no extrapolation at the start.
    [
      'a counter starting at 0 is not extrapolated back',
      [
        [15, 0],
        [30, 1],
        [45, 2],
        [60, 3],
      ],
      60,
      60,
      3,
    ],
    // 5, 6, restart, 1, 2: +1, +1 (from 0 after the restart), +1.
    [
      'counts a reset as a new start',
      [
        [0, 5],
        [15, 6],
        [30, 1],
        [45, 2],
      ],
      45,
      45,
      3,
    ],
    [
      'never extrapolates before zero',
      [
        [30, 1],
        [45, 3],
        [60, 5],
      ],
      60,
      60,
      (4 * (30 + 7.5)) / 30,
    ],
    [
      'ignores points outside the range',
      [
        [0, 100],
        [30, 1],
        [45, 2],
        [60, 3],
      ],
      60,
      30,
      2,
    ],
  ])('%s', (_name, points, end, range, expected) => {
    const got = promIncrease(pts(...points), end * 1000, range * 1000);
    if (expected === undefined) expect(got).toBeUndefined();
    else expect(got).toBeCloseTo(expected, 9);
  });
});
