import { describe, expect, it } from 'vitest';
import {
  brief,
  cycles,
  fleet,
  host,
  hotA,
  STEP,
  T0,
  tenant,
  testPolicy,
  type PlanCase,
} from '../../test/helpers/capacity-model.js';
import type { CapacityModel } from './model.js';
import { applyMoves, emptyPlannerState, plan } from './planner.js';

const cases: PlanCase[] = [
  {
    name: 'a hot host waits for N of M samples, then moves the tenant that alone brings it to its low watermark',
    at: () => fleet({ hosts: hotA }),
    cycles: 2,
    moves: [[], ['t3:a>b:host-hot']],
  },
  {
    name: 'absolute floor: a host above its watermark but using less than the floor in absolute terms is not hot',
    // a: 95 % of 16 cores = 15.2 cores, under a 16-core floor; its memory is far from its watermark.
    at: () => fleet({ hosts: hotA }),
    policy: { hotFloorCpuCores: 16 },
    cycles: 3,
    moves: [[], [], []],
  },
  {
    name: 'absolute floor: the same host above the floor is hot',
    at: () => fleet({ hosts: hotA }),
    policy: { hotFloorCpuCores: 15 },
    cycles: 2,
    moves: [[], ['t3:a>b:host-hot']],
  },
  {
    name: 'friction: no move when the best fit would end less than moveMargin cooler than the source is',
    // Only t2 (6.25 % of a host) fits under b's low watermark: b 78 % → 84.25 %, 10.75 points under a's 95 %.
    at: () => fleet({ hosts: { ...hotA, b: { cpu: 0.78 }, c: { cpu: 0.78 }, d: { cpu: 0.78 } } }),
    policy: { cpuHighWatermark: 0.9, cpuLowWatermark: 0.85, moveMargin: 0.15 },
    cycles: 2,
    moves: [[], []],
  },
  {
    name: 'friction: the same move with the default margin (10 points)',
    at: () => fleet({ hosts: { ...hotA, b: { cpu: 0.78 }, c: { cpu: 0.78 }, d: { cpu: 0.78 } } }),
    policy: { cpuHighWatermark: 0.9, cpuLowWatermark: 0.85 },
    cycles: 2,
    moves: [[], ['t2:a>b:host-hot']],
  },
  {
    name: 'per-tenant budget: a tenant that must grow by two hosts takes one per cycle',
    // t3: 24 cores over 2 hosts is 75 % of a 16-core host each; growShare 0.3 wants 5 hosts.
    at: () =>
      fleet({
        tenants: { t3: { demand: { cpu: 24, memoryBytes: 8 * 2 ** 30 } } },
        hosts: { a: { cpu: 0.5 }, d: { cpu: 0.5 } },
      }),
    policy: { maxMovesPerTenantPerCycle: 1 },
    apply: true,
    cycles: 2,
    moves: [['t3:+>b:grow'], ['t3:+>c:grow']],
  },
  {
    name: 'one hot sample in three is a spike: nothing moves',
    at: (i) => fleet({ hosts: i === 1 ? hotA : {} }),
    cycles: 4,
    moves: [[], [], [], []],
  },
  {
    name: 'hot in 2 of the last 3 samples, not in a row, is hot',
    at: (i) => fleet({ hosts: i === 1 ? {} : hotA }),
    cycles: 3,
    moves: [[], [], ['t3:a>b:host-hot']],
  },
  {
    name: 'moved load is projected while the measure lags: no second move off the same host',
    at: () => fleet({ hosts: hotA }),
    cycles: 4,
    apply: true,
    moves: [[], ['t3:a>b:host-hot'], [], []],
  },
  {
    name: 'cordoned, draining, hot and unknown-load hosts take no tenants',
    at: () =>
      fleet({
        hosts: { ...hotA, b: { cordoned: true }, c: { cpu: null } },
        extraHosts: [host('e', { draining: true }), host('f', { cpu: 0.9 }), host('g', { cpu: 0.4 })],
        assignments: { t2: ['a', 'b'] },
      }),
    cycles: 2,
    moves: [[], ['t3:a>g:host-hot']],
  },
  {
    name: 'no target stays below the low watermark: nothing moves',
    at: () => fleet({ hosts: { ...hotA, b: { cpu: 0.7 }, c: { cpu: 0.7 }, d: { cpu: 0.7 } } }),
    cycles: 2,
    moves: [[], []],
  },
  {
    name: 'pinned and frozen tenants stay; the others move, largest first, until none is left',
    at: () => fleet({ hosts: hotA, tenants: { t3: { pinned: ['a', 'd'] }, t2: { frozen: true } } }),
    cycles: 2,
    moves: [[], ['t1:a>c:host-hot']],
  },
  {
    name: 'tenants of unknown demand are not moved off a hot host (it would be a guess)',
    at: () => fleet({ hosts: hotA, tenants: { t3: { demand: null } } }),
    cycles: 2,
    moves: [[], ['t1:a>c:host-hot', 't2:a>b:host-hot']],
  },
  {
    name: 'a down host (N of M samples) is evacuated to the least loaded host',
    at: () => fleet({ hosts: { c: { up: false, cpu: null, memory: null }, d: { cpu: 0.2 } } }),
    cycles: 2,
    moves: [[], ['t2:c>d:host-down']],
  },
  {
    name: 'a host gone from the model is evacuated at once',
    at: () => fleet({ assignments: { t1: ['a', 'zz'] } }),
    cycles: 1,
    moves: [['t1:zz>b:host-gone']],
  },
  {
    name: 'no room: a tenant still served elsewhere leaves the down host; one served nowhere goes to the least loaded',
    at: () =>
      fleet({
        hosts: { a: { cpu: 0.74 }, b: { cpu: 0.73 }, c: { up: false }, d: { cpu: 0.74 } },
        extraTenants: [tenant('t4', 1)],
        assignments: { t4: ['c'] },
      }),
    cycles: 2,
    moves: [[], ['t2:c>-:host-down', 't4:c>b:host-down']],
  },
  {
    name: 'a drain moves tenants within the watermarks without waiting for samples',
    at: () => fleet({ hosts: { d: { draining: true } } }),
    cycles: 1,
    moves: [['t3:d>b:drain']],
  },
  {
    name: 'a drain with no room waits: the tenant keeps its host',
    at: () => fleet({ hosts: { a: { cpu: 0.6 }, b: { cpu: 0.6 }, c: { cpu: 0.6 }, d: { draining: true } } }),
    cycles: 1,
    moves: [[]],
  },
  {
    name: 'a pin is converged to at once, outside the budgets',
    at: () => fleet({ tenants: { t1: { pinned: ['c', 'd'] } } }),
    cycles: 1,
    policy: { maxMovesPerCycle: 1 },
    moves: [['t1:a>c:pin', 't1:b>d:pin']],
  },
  {
    name: 'a new tenant is placed on min hosts, least loaded first',
    at: () => fleet({ hosts: { a: { cpu: 0.5 }, c: { cpu: 0.2 } }, extraTenants: [tenant('t9', 1)] }),
    cycles: 1,
    moves: [['t9:+>c:place', 't9:+>b:place']],
  },
  {
    name: 'a tenant below min hosts gets more',
    at: () => fleet({ extraTenants: [tenant('t5', 1)], assignments: { t5: ['a'] } }),
    cycles: 1,
    moves: [['t5:+>b:min-hosts']],
  },
  {
    name: 'the per-cycle budget defers the rest to the next cycle',
    at: () =>
      fleet({
        hosts: { c: { up: false } },
        extraTenants: [tenant('t6', 1)],
        assignments: { t6: ['b', 'c'] },
      }),
    cycles: 3,
    apply: true,
    policy: { maxMovesPerCycle: 1 },
    moves: [[], ['t2:c>b:host-down'], ['t6:c>a:host-down']],
  },
  {
    name: 'the per-host budget spreads a burst of moves',
    at: () =>
      fleet({
        hosts: { c: { up: false } },
        extraTenants: [tenant('t6', 1)],
        assignments: { t6: ['a', 'c'] },
      }),
    cycles: 2,
    policy: { maxMovesPerHostPerCycle: 1 },
    moves: [[], ['t2:c>b:host-down', 't6:c>d:host-down']],
  },
  {
    name: 'a frozen fleet plans nothing',
    at: () => fleet({ hosts: { ...hotA, c: { up: false } }, frozen: true }),
    cycles: 3,
    moves: [[], [], []],
  },
];

describe('plan', () => {
  it.each(cases)('$name', (c) => {
    const outs = cycles(c.at, testPolicy(c.policy), c.cycles, c.apply ?? false);
    expect(outs.map((o) => brief(o.moves))).toEqual(c.moves);
    // The published assignments are exactly the input with the moves applied.
    for (const o of outs) expect(o.assignments).toEqual(applyMoves(o.input.assignments, o.moves));
  });

  it('a tenant moved for load is left alone for its cooldown, then moved again', () => {
    const policy = testPolicy({ tenantCooldownMs: 60_000 });
    // a is hot for two cycles (t3 leaves it for b); from then on b is hot and t3 is the only tenant
    // that can leave b (t1 is frozen).
    const at = (i: number): CapacityModel =>
      fleet({ hosts: i < 2 ? hotA : { b: { cpu: 0.95 } }, tenants: { t1: { frozen: true } } });
    const outs = cycles(at, policy, 12, true);
    const moved = outs.flatMap((o, i) => brief(o.moves).map((m) => `${i}:${m}`));
    expect(moved).toEqual(['1:t3:a>b:host-hot', '7:t3:b>c:host-hot']);
  });

  it('in plan mode (moves never applied) nothing accumulates: the same move is proposed every cycle', () => {
    const outs = cycles(() => fleet({ hosts: hotA }), testPolicy({ tenantCooldownMs: 600_000 }), 8);
    expect(outs.slice(1).map((o) => brief(o.moves))).toEqual(Array(7).fill(['t3:a>b:host-hot']));
    expect(outs[7]!.state.recent).toEqual([]);
    expect(outs[7]!.state.cooldowns).toEqual({});
  });

  it('a frozen fleet still records samples: the first cycle after thawing acts on them', () => {
    const outs = cycles((i) => fleet({ hosts: hotA, frozen: i < 2 }), testPolicy(), 3);
    expect(outs[1]!.notes).toContain('capacity is frozen: no moves are planned until it is unfrozen');
    expect(outs[1]!.hot).toEqual(['a']);
    expect(brief(outs[2]!.moves)).toEqual(['t3:a>b:host-hot']);
  });

  it('reports what it could not do, with the numbers', () => {
    const outs = cycles(
      () => fleet({ hosts: { ...hotA, b: { cpu: 0.7 }, c: { cpu: 0.7 }, d: { cpu: 0.7 } } }),
      testPolicy(),
      2,
    );
    const last = outs[1]!;
    expect(last.hot).toEqual(['a']);
    expect(last.unmet).toEqual([
      {
        tenant: null,
        host: 'a',
        reason: 'host-hot',
        detail: 'a stays hot (cpu 95% memory 30%): no movable tenant fits on another host',
      },
    ]);
    expect(last.notes).toEqual(['hot: a', last.unmet[0]!.detail]);
  });

  it('counts deferred moves and says so', () => {
    const at = (): CapacityModel => fleet({ hosts: { a: { up: false } } });
    const out = cycles(at, testPolicy({ maxMovesPerCycle: 2 }), 2)[1]!;
    expect(out.moves).toHaveLength(2);
    expect(out.deferred).toBe(1);
    expect(out.down).toEqual(['a']);
    expect(out.notes).toContain(
      '1 move(s) wait for a later cycle: budgets of 2 moves per cycle, 10 per target host',
    );
  });

  it('is deterministic and never changes its input', () => {
    const deepFreeze = <T>(o: T): T => {
      if (o && typeof o === 'object') {
        Object.values(o).forEach(deepFreeze);
        Object.freeze(o);
      }
      return o;
    };
    const input = deepFreeze({
      model: fleet({ hosts: { ...hotA, c: { up: false } }, extraTenants: [tenant('t9', 3)] }),
      policy: testPolicy(),
      state: cycles(() => fleet({ hosts: hotA }), testPolicy(), 1)[0]!.state,
      nowMs: T0 + STEP,
    });
    const a = plan(input);
    expect(a.moves.length).toBeGreaterThan(0);
    expect(plan(input)).toEqual(a);
  });

  it('describes each move with the numbers behind it', () => {
    const out = cycles(() => fleet({ hosts: hotA }), testPolicy(), 2)[1]!;
    expect(out.moves[0]!.detail).toBe(
      'a is hot (cpu 95% memory 30%, above 85% cpu or 90% memory in 2 of the last 3 samples); ' +
        't3 takes ~25% cpu, ~2% memory of it',
    );
  });

  it('keeps a state that stays bounded over many cycles', () => {
    const policy = testPolicy({
      windowSamples: 5,
      hotSamples: 3,
      settleMs: 30_000,
      tenantCooldownMs: 30_000,
    });
    let state = emptyPlannerState();
    for (let i = 0; i < 200; i++) {
      const m = fleet({ hosts: i % 2 === 0 ? hotA : { b: { cpu: 0.95 } } });
      state = plan({ model: m, policy, state, nowMs: T0 + i * STEP }).state;
    }
    expect(Object.keys(state.hosts)).toEqual(['a', 'b', 'c', 'd']);
    for (const h of Object.values(state.hosts)) expect(h.cpu).toHaveLength(5);
    expect(state.recent.every((d) => d.atMs > T0 + 199 * STEP - 30_000)).toBe(true);
    expect(Object.keys(state.cooldowns).length).toBeLessThanOrEqual(3);
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
  });
});
