import { describe, expect, it } from 'vitest';
import {
  brief,
  cycles,
  fleet,
  host,
  T0,
  tenant,
  testPolicy,
  type PlanCase,
} from '../../test/helpers/capacity-model.js';
import { unseen } from './planner-hosts.js';
import { applyMoves, emptyPlannerState, plan } from './planner.js';

/** How many hosts a tenant runs on: grow and shrink by demand, dedicated hosts by the admin or demand. */
const cases: PlanCase[] = [
  {
    name: 'demand above growShare per host adds hosts',
    at: () => fleet({ extraTenants: [tenant('t7', 12)], assignments: { t7: ['a', 'b'] } }),
    cycles: 1,
    moves: [['t7:+>c:grow']],
  },
  {
    name: 'demand far below shrinkShare takes one host away',
    at: () => fleet({ extraTenants: [tenant('t8', 1)], assignments: { t8: ['a', 'b', 'c'] } }),
    cycles: 1,
    moves: [['t8:a>-:shrink']],
  },
  {
    name: 'demand inside the grow/shrink band changes nothing',
    at: () => fleet({ extraTenants: [tenant('t8', 9)], assignments: { t8: ['a', 'b', 'c'] } }),
    cycles: 1,
    moves: [[]],
  },
  {
    name: 'unknown demand never shrinks',
    at: () => fleet({ extraTenants: [tenant('t8', null)], assignments: { t8: ['a', 'b', 'c'] } }),
    cycles: 1,
    moves: [[]],
  },
  {
    name: 'an explicit dedication adds the dedicated hosts before it leaves the shared ones',
    at: () =>
      fleet({
        tenants: { t3: { dedicated: 2 } },
        extraHosts: [
          host('e', { pool: 'dedicated', cpu: 0.05 }),
          host('f', { pool: 'dedicated', cpu: 0.05 }),
        ],
      }),
    cycles: 1,
    moves: [['t3:+>e:dedicate', 't3:+>f:dedicate', 't3:a>-:dedicate', 't3:d>-:dedicate']],
  },
  {
    name: 'a dedicated host reserved for another tenant is not taken; the tenant keeps its shared hosts',
    at: () =>
      fleet({
        tenants: { t3: { dedicated: 2 } },
        extraHosts: [
          host('e', { pool: 'dedicated' }),
          host('f', { pool: 'dedicated', dedicatedTo: 'other' }),
        ],
      }),
    cycles: 1,
    moves: [['t3:+>e:dedicate']],
  },
  {
    name: 'demand over the dedicate threshold auto-dedicates',
    at: () =>
      fleet({
        extraHosts: [host('e', { pool: 'dedicated' }), host('f', { pool: 'dedicated' })],
        extraTenants: [tenant('t10', 20, 8)],
        assignments: { t10: ['b', 'c', 'd'] },
      }),
    cycles: 1,
    policy: { dedicateCpuCores: 20 },
    moves: [
      ['t10:+>e:dedicate', 't10:+>f:dedicate', 't10:b>-:dedicate', 't10:c>-:dedicate', 't10:d>-:dedicate'],
    ],
  },
  {
    name: 'an auto-dedicated tenant between the two thresholds stays dedicated',
    at: () =>
      fleet({
        extraHosts: [host('e', { pool: 'dedicated' }), host('f', { pool: 'dedicated' })],
        extraTenants: [tenant('t10', 15, 8)],
        assignments: { t10: ['e', 'f'] },
      }),
    cycles: 1,
    policy: { dedicateCpuCores: 20 },
    moves: [[]],
  },
  {
    name: 'below the undedicate threshold it returns to shared hosts, added first',
    at: () =>
      fleet({
        extraHosts: [host('e', { pool: 'dedicated' }), host('f', { pool: 'dedicated' })],
        extraTenants: [tenant('t10', 8, 8)],
        assignments: { t10: ['e', 'f'] },
      }),
    cycles: 1,
    policy: { dedicateCpuCores: 20 },
    moves: [['t10:+>a:undedicate', 't10:+>b:undedicate', 't10:e>-:undedicate', 't10:f>-:undedicate']],
  },
];

describe('plan: sizing', () => {
  it.each(cases)('$name', (c) => {
    const outs = cycles(c.at, testPolicy(c.policy), c.cycles, c.apply ?? false);
    expect(outs.map((o) => brief(o.moves))).toEqual(c.moves);
    for (const o of outs) expect(o.assignments).toEqual(applyMoves(o.input.assignments, o.moves));
  });

  it('sizes memory too: a tenant over growShare of a host memory grows', () => {
    const m = fleet({ extraTenants: [tenant('t7', 1, 48)], assignments: { t7: ['a', 'b'] } });
    // 48 GiB over 2 hosts is 37.5% of 64 GiB each; at 19.2 GiB (30%) per host it needs 3.
    expect(
      brief(plan({ model: m, policy: testPolicy(), state: emptyPlannerState(), nowMs: T0 }).moves),
    ).toEqual(['t7:+>c:grow']);
  });
});

describe('unseen: the part of a settling move the measure does not show yet', () => {
  it.each([
    ['added, not measured yet', 0.2, 0.3, 0.3, 0.2],
    ['added, half measured', 0.2, 0.3, 0.4, 0.1],
    ['added, measured', 0.2, 0.3, 0.5, 0],
    ['added, measured and more', 0.2, 0.3, 0.9, 0],
    ['removed, not measured yet', -0.2, 0.5, 0.5, -0.2],
    ['removed, measured', -0.2, 0.5, 0.3, 0],
    ['removed, and the host fell further', -0.2, 0.5, 0.1, 0],
    ['no reading before', 0.2, null, 0.3, 0.2],
    ['no reading now', -0.2, 0.5, null, -0.2],
  ])('%s', (_n, delta, base, now, want) => {
    expect(unseen(delta, base, now)).toBeCloseTo(want, 10);
  });
});
