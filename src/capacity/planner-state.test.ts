import { describe, expect, it } from 'vitest';
import { host, model, T0, tenant, testPolicy } from '../../test/helpers/capacity-model.js';
import { advanceState, emptyPlannerState, MAX_RECENT_DELTAS, parsePlannerState } from './planner-state.js';

const policy = testPolicy({ windowSamples: 3, settleMs: 60_000, tenantCooldownMs: 120_000 });
const fleet = (cpuA: number | null, upB = true) =>
  model([host('a', { cpu: cpuA, memory: 0.5 }), host('b', { up: upB, cpu: 0.2 })], [tenant('t1')], {});

describe('advanceState', () => {
  it('keeps the last M samples per host, oldest first', () => {
    let s = emptyPlannerState();
    [0.1, 0.2, 0.3, 0.4].forEach((v, i) => (s = advanceState(s, fleet(v), policy, T0 + i * 10_000)));
    expect(s.hosts.a).toEqual({
      cpu: [0.2, 0.3, 0.4],
      memory: [0.5, 0.5, 0.5],
      up: [true, true, true],
      lastMs: T0 + 30_000,
    });
  });

  it('replaces the sample of a second call at the same time (a preview) instead of adding one', () => {
    let s = advanceState(emptyPlannerState(), fleet(0.1), policy, T0);
    s = advanceState(s, fleet(0.9), policy, T0 + 10_000);
    s = advanceState(s, fleet(0.5), policy, T0 + 10_000);
    expect(s.hosts.a!.cpu).toEqual([0.1, 0.5]);
  });

  it('records a down host with unknown load, clamps ratios, and forgets hosts that left the model', () => {
    let s = advanceState(emptyPlannerState(), fleet(1.7, false), policy, T0);
    expect(s.hosts.b).toMatchObject({ cpu: [null], memory: [null], up: [false] });
    expect(s.hosts.a!.cpu).toEqual([1]);
    s = advanceState(s, model([host('a')], [], {}), policy, T0 + 10_000);
    expect(Object.keys(s.hosts)).toEqual(['a']);
  });

  it('drops cooldowns and load deltas once they expire', () => {
    const prev = {
      ...emptyPlannerState(),
      cooldowns: { old: T0 - 120_000, fresh: T0 - 119_999 },
      recent: [
        { host: 'a', cpu: 0.1, memory: 0, atMs: T0 - 60_000 },
        { host: 'a', cpu: 0.2, memory: 0, atMs: T0 - 59_999 },
      ],
    };
    const s = advanceState(prev, fleet(0.1), policy, T0);
    expect(s.cooldowns).toEqual({ fresh: T0 - 119_999 });
    expect(s.recent.map((d) => d.cpu)).toEqual([0.2]);
  });

  it.each([
    ['applied', { t1: ['b'] }, 1],
    ['not applied (plan mode, a failed apply)', { t1: ['a'] }, 0],
    ['overridden by an operator', { t1: ['a', 'b'] }, 0],
  ])(
    "counts the last cycle's move only when the routing table shows it: %s",
    (_name, assignments, counted) => {
      const delta = { host: 'b', cpu: 0.1, memory: 0.01, atMs: T0 };
      const prev = {
        ...emptyPlannerState(),
        pending: [{ tenant: 't1', from: 'a', to: 'b', load: true, atMs: T0, deltas: [delta] }],
      };
      const s = advanceState(prev, { ...fleet(0.1), assignments }, policy, T0 + 10_000);
      expect(s.recent).toEqual(counted ? [delta] : []);
      expect(s.cooldowns).toEqual(counted ? { t1: T0 } : {});
      expect(s.pending).toEqual([]);
    },
  );

  it('bounds the load deltas', () => {
    const recent = Array.from({ length: MAX_RECENT_DELTAS + 5 }, (_, i) => ({
      host: 'a',
      cpu: i,
      memory: 0,
      atMs: T0,
    }));
    expect(advanceState({ ...emptyPlannerState(), recent }, fleet(0.1), policy, T0).recent).toHaveLength(
      MAX_RECENT_DELTAS,
    );
  });
});

describe('parsePlannerState', () => {
  it('reads back what it wrote', () => {
    const s = advanceState(emptyPlannerState(), fleet(0.4), policy, T0);
    expect(parsePlannerState(JSON.parse(JSON.stringify(s)))).toEqual(s);
  });

  it.each([
    null,
    'x',
    {},
    { version: 2, hosts: {}, cooldowns: {}, recent: [] },
    { version: 1, hosts: { a: {} }, cooldowns: {}, recent: [] },
  ])('starts afresh from anything else: %j', (value) => {
    expect(parsePlannerState(value)).toEqual(emptyPlannerState());
  });
});
