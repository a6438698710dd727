import { describe, expect, it } from 'vitest';
import type { Move } from './model.js';
import { parseScenario } from './scenario.js';
import { belowMinHosts, requiredHosts, SimStats } from './sim-stats.js';
import type { HostLoad, SimTick } from './simulator.js';

const sc = parseScenario(
  JSON.stringify({
    hosts: [
      { name: 'a', cpuCores: 4, memoryBytes: 1 },
      { name: 'b', cpuCores: 4, memoryBytes: 1 },
      { name: 'c', cpuCores: 4, memoryBytes: 1 },
      { name: 'd', cpuCores: 4, memoryBytes: 1, pool: 'dedicated' },
    ],
    tenants: [{ name: 's' }, { name: 'p', pinned: ['a'] }, { name: 'x', dedicated: 1 }],
    ticks: [{ tick: 0 }],
  }),
  'stats',
);

const cool: HostLoad = { cpu: 0.2, memory: 0.2 };
const hot: HostLoad = { cpu: 0.9, memory: 0.2 };
const up = { cordoned: false, draining: false, up: true };

function tick(n: number, over: Partial<SimTick> = {}): SimTick {
  return {
    tick: n,
    nowMs: n * 10_000,
    events: [],
    demandSet: [],
    measured: {},
    moves: [],
    assignments: { s: ['a', 'b', 'c'], p: ['a'], x: ['d'] },
    hostLoad: { a: cool, b: cool, c: cool, d: cool },
    hosts: { a: up, b: up, c: up, d: up },
    hot: [],
    down: [],
    deferred: 0,
    notes: [],
    ...over,
  };
}
const move = (tenant: string, from: string | null, to: string | null, reason = 'host-hot'): Move => ({
  tenant,
  from,
  to,
  reason,
  detail: '',
});

describe('requiredHosts', () => {
  it.each<[string, number | null]>([
    ['s', 3],
    ['p', null],
    ['x', 1],
  ])('%s needs %s', (name, want) => {
    expect(
      requiredHosts(
        sc,
        sc.tenants.find((t) => t.name === name)!,
        false,
      ),
    ).toBe(want);
  });

  it('an auto-dedicated tenant needs minDedicatedHosts', () => {
    expect(requiredHosts(sc, sc.tenants[0]!, true)).toBe(sc.policy.minDedicatedHosts);
  });
});

describe('belowMinHosts', () => {
  it.each<[string, Record<string, string[]>, string[]]>([
    ['all fine', { s: ['a', 'b', 'c'], p: ['a'], x: ['d'] }, []],
    ['a shared tenant on two', { s: ['a', 'b'], p: ['a'], x: ['d'] }, ['s']],
    ['a dedicated tenant on none, a missing tenant', { p: ['a'], x: [] }, ['s', 'x']],
    ['a pinned tenant anywhere', { s: ['a', 'b', 'c'], p: [], x: ['d'] }, []],
  ])('%s', (_n, assignments, want) => {
    expect(belowMinHosts(sc, tick(0, { assignments })).map((b) => b.tenant)).toEqual(want);
  });
});

describe('SimStats', () => {
  it('counts moves by reason, the busiest tenant, and moves back onto a host left within the cooldown', () => {
    const st = new SimStats(sc);
    st.add(tick(0, { moves: [move('s', 'a', 'b'), move('p', null, 'a', 'pin')], deferred: 2 }));
    st.add(tick(1, { moves: [move('s', 'b', 'a')] })); // back within the cooldown
    st.add(tick(40, { moves: [move('s', 'a', 'c')] }));
    st.add(tick(80, { moves: [move('s', 'c', 'a')] })); // 400 s later: past the 5 min cooldown
    expect(st.s.moves).toEqual({
      total: 5,
      byReason: { 'host-hot': 4, pin: 1 },
      maxPerTenant: 4,
      busiestTenant: 's',
      backAndForth: 1,
      deferred: 2,
    });
    expect(st.s.ticks).toBe(4);
  });

  it('measures the longest hot streak of an up host after the moves, and the peaks', () => {
    const st = new SimStats(sc);
    const seq: Array<[HostLoad, boolean]> = [
      [hot, true],
      [hot, true],
      [cool, true],
      [hot, true],
      [hot, false], // down: not a hot host, the streak ends
      [hot, true],
    ];
    seq.forEach(([a, isUp], i) =>
      st.add(
        tick(i, {
          hostLoad: { a, b: cool, c: cool, d: cool },
          hosts: { a: { ...up, up: isUp }, b: up, c: up, d: up },
        }),
      ),
    );
    expect(st.s.longestHot).toEqual({ ticks: 2, host: 'a', from: 0 });
    expect(st.s.peakCpu).toEqual({ value: 0.9, host: 'a', tick: 0 });
  });

  it('counts ticks with a tenant below its hosts and keeps the first', () => {
    const st = new SimStats(sc);
    st.add(tick(0));
    st.add(tick(1, { assignments: { s: ['a'], p: ['a'], x: ['d'] } }));
    st.add(tick(2, { assignments: { s: ['a', 'b'], p: ['a'], x: ['d'] } }));
    expect(st.s.belowMin).toEqual({ ticks: 2, first: { tenant: 's', hosts: ['a'], required: 3, tick: 1 } });
  });
});
