import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseScenario, type Scenario } from './scenario.js';
import { belowMinHosts, isHot, SimStats, type SimSummary } from './sim-stats.js';
import { hostLoads, simulate, type SimTick } from './simulator.js';

const GiB = 1024 ** 3;
const FIXTURES = new URL('../../test/fixtures/capacity/', import.meta.url);
const fixtureJson = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`${name}.json`, FIXTURES), 'utf8')) as Record<string, unknown>;

/**
 * Runs a scenario and checks, after every tick, what must hold in every scenario of the issue: every
 * tenant on at least the hosts it needs; pinned tenants exactly on their pins; dedicated hosts serve one
 * tenant at most and no shared tenant; no host stays hot for more than 2 intervals.
 */
function run(json: object): { sc: Scenario; ticks: SimTick[]; s: SimSummary } {
  const sc = parseScenario(JSON.stringify(json), 'test');
  const stats = new SimStats(sc);
  const ticks: SimTick[] = [];
  const dedicated = new Set(sc.hosts.filter((h) => h.pool === 'dedicated').map((h) => h.name));
  for (const t of simulate(sc)) {
    stats.add(t);
    ticks.push(t);
    expect(belowMinHosts(sc, t), `tick ${t.tick}: tenants below their hosts`).toEqual([]);
    for (const tenant of sc.tenants) {
      const hosts = t.assignments[tenant.name]!;
      if (tenant.pinned.length > 0)
        expect([...hosts].sort(), `tick ${t.tick}: ${tenant.name} pinned`).toEqual([...tenant.pinned].sort());
      const mayDedicate = tenant.dedicated > 0 || sc.policy.dedicateCpuCores !== null;
      if (!mayDedicate)
        expect(
          hosts.filter((h) => dedicated.has(h)),
          `tick ${t.tick}`,
        ).toEqual([]);
    }
    for (const h of dedicated) {
      const on = Object.entries(t.assignments).filter(([, l]) => l.includes(h));
      expect(on.length, `tick ${t.tick}: tenants on dedicated ${h}`).toBeLessThanOrEqual(1);
    }
  }
  expect(stats.s.longestHot.ticks, 'ticks a host stayed hot after the moves').toBeLessThanOrEqual(2);
  return { sc, ticks, s: stats.s };
}

const movesOf = (ticks: SimTick[]): string[] =>
  ticks.flatMap((t) =>
    t.moves.map((m) => `${t.tick}:${m.tenant}:${m.from ?? '+'}>${m.to ?? '-'}:${m.reason}`),
  );
const tenantsOn = (t: SimTick, host: string): string[] =>
  Object.entries(t.assignments)
    .filter(([, l]) => l.includes(host))
    .map(([n]) => n);

const host = (name: string, extra: object = {}): object => ({
  name,
  cpuCores: 16,
  memoryBytes: 64 * GiB,
  background: { cpu: 1, memoryBytes: 4 * GiB },
  ...extra,
});

describe('hostLoads', () => {
  const hosts = parseScenario(
    JSON.stringify({ hosts: [host('a'), host('b', { cpuCores: 8 })], ticks: [{ tick: 0 }] }),
    't',
  ).hosts;
  it.each<
    [string, Record<string, { cpu: number; memoryBytes: number } | null>, Record<string, string[]>, object]
  >([
    ['background only', {}, {}, { a: { cpu: 1 / 16, memory: 1 / 16 }, b: { cpu: 1 / 8, memory: 1 / 16 } }],
    [
      'demand split evenly over the tenant’s hosts',
      { t: { cpu: 4, memoryBytes: 8 * GiB } },
      { t: ['a', 'b'] },
      { a: { cpu: 3 / 16, memory: 8 / 64 }, b: { cpu: 3 / 8, memory: 8 / 64 } },
    ],
    [
      'unknown demand adds nothing',
      { t: null },
      { t: ['a'] },
      { a: { cpu: 1 / 16, memory: 1 / 16 }, b: { cpu: 1 / 8, memory: 1 / 16 } },
    ],
    [
      'overload is above 1',
      { t: { cpu: 31, memoryBytes: 0 } },
      { t: ['a'] },
      { a: { cpu: 2, memory: 1 / 16 }, b: { cpu: 1 / 8, memory: 1 / 16 } },
    ],
  ])('%s', (_n, demand, assignments, want) => {
    expect(hostLoads(hosts, new Map(Object.entries(demand)), assignments)).toEqual(want);
  });
});

describe('simulate: the ticks', () => {
  const small = {
    intervalSeconds: 15,
    hosts: ['a', 'b', 'c', 'd'].map((n) => host(n)),
    tenants: [{ name: 't' }],
    assignments: { t: ['a', 'b', 'c'] },
  };

  it('runs every tick from 0 to the last listed, on a fake clock, keeping the last demand', () => {
    const { ticks } = run({
      ...small,
      ticks: [{ tick: 2, demand: { t: { cpu: 3, memoryBytes: 0 } } }, { tick: 5 }],
    });
    expect(ticks.map((t) => [t.tick, t.nowMs])).toEqual([0, 1, 2, 3, 4, 5].map((k) => [k, k * 15_000]));
    // No demand before tick 2: background only; from tick 2 on, 1 core of t on each of its hosts.
    expect(ticks.map((t) => t.hostLoad.a!.cpu * 16)).toEqual([1, 1, 2, 2, 2, 2]);
    expect(ticks.map((t) => t.demandSet)).toEqual([[], [], ['t'], [], [], []]);
  });

  const demand = { tick: 0, demand: { t: { cpu: 1, memoryBytes: GiB } } };
  it.each<[string, object[], string[]]>([
    [
      'cordon: takes no new tenant',
      [{ tick: 1, events: [{ cordon: 'd' }, { down: 'c' }] }],
      ['2:t:c>e:host-down'],
    ],
    [
      'uncordon: takes tenants again',
      [{ tick: 1, events: [{ cordon: 'd' }, { uncordon: 'd' }, { down: 'c' }] }],
      ['2:t:c>d:host-down'],
    ],
    ['drain: its tenants leave at once', [{ tick: 1, events: [{ drain: 'a' }] }], ['1:t:a>d:drain']],
    [
      'down then up before it counts as down (2 of 3 samples): nothing moves',
      [
        { tick: 1, events: [{ down: 'c' }] },
        { tick: 2, events: [{ up: 'c' }] },
      ],
      [],
    ],
  ])('%s', (_n, ticks, moves) => {
    const json = {
      ...small,
      hosts: ['a', 'b', 'c', 'd', 'e'].map((n) => host(n)),
      ticks: [demand, ...ticks, { tick: 4 }],
    };
    expect(movesOf(run(json).ticks)).toEqual(moves);
  });

  it('places tenants missing from the assignments at tick 0', () => {
    const { ticks } = run({ ...small, assignments: {}, ticks: [{ tick: 0 }] });
    expect(ticks[0]!.assignments.t).toHaveLength(3);
    expect(ticks[0]!.moves.every((m) => m.reason === 'place' && m.from === null)).toBe(true);
  });

  it('the checks of run() catch a tenant left on too few hosts', () => {
    const two = { ...small, hosts: [host('a'), host('b')], assignments: { t: ['a', 'b'] }, ticks: [demand] };
    expect(() => run(two)).toThrow(/tick 0: tenants below their hosts/);
  });

  it('is deterministic', () => {
    const json = fixtureJson('hot-host');
    expect(run(json).ticks).toEqual(run(json).ticks);
  });
});

describe('simulate: the issue’s scenarios (test/fixtures/capacity), default policy unless said', () => {
  it('hot-host: h1 turns hot at tick 3 and sheds at tick 4, to at most the low watermark', () => {
    const { sc, ticks, s } = run(fixtureJson('hot-host'));
    expect(isHot(ticks[2]!.measured.h1!, sc.policy)).toBe(false);
    expect(isHot(ticks[3]!.measured.h1!, sc.policy)).toBe(true);
    expect(ticks[3]!.moves).toEqual([]); // one hot sample of the two it takes
    expect(ticks[4]!.moves.map((m) => [m.from, m.reason])).toEqual([['h1', 'host-hot']]);
    expect(ticks[4]!.hostLoad.h1!.cpu).toBeLessThanOrEqual(0.7);
    expect(s.longestHot).toEqual({ ticks: 1, host: 'h1', from: 3 });
    expect(s.moves.total).toBe(1);
  });

  it('oscillating-demand: ±5% around the high watermark moves one tenant once, nothing back and forth', () => {
    const { sc, ticks, s } = run(fixtureJson('oscillating-demand'));
    const h1 = ticks.slice(0, 3).map((t) => +t.measured.h1!.cpu.toFixed(2));
    expect(h1).toEqual([0.81, 0.89, 0.81]);
    // Hot in samples 1 and 3 (2 of the last 3): relieved at tick 3, two intervals after it first crossed.
    expect(movesOf(ticks)).toEqual(['3:t1:h1>h8:host-hot']);
    expect(s.moves.backAndForth).toBe(0);
    // The run lasts two cooldowns: the swing goes on, and nothing moves again.
    expect(ticks.at(-1)!.nowMs).toBeGreaterThanOrEqual(2 * sc.policy.tenantCooldownMs);
  });

  // The fixture's tight budgets (4 moves a cycle, 2 per target host) make the drain span ticks; the
  // default ones (50, 10) let it finish in the tick it starts.
  it.each<[string, object, number[]]>([
    ['the fixture’s tight budgets', {}, [2, 3, 4]],
    ['the default budgets', { policy: {} }, [2]],
  ])('drain: h1 empties within %s', (_n, over, drainTicks) => {
    const json = { ...fixtureJson('drain'), ...over };
    const { sc, ticks } = run(json);
    const p = sc.policy;
    expect(ticks.filter((t) => t.moves.length > 0).map((t) => t.tick)).toEqual(drainTicks);
    for (const t of ticks) {
      expect(t.moves.length).toBeLessThanOrEqual(p.maxMovesPerCycle);
      const perTarget = new Map<string, number>();
      for (const m of t.moves) perTarget.set(m.to!, (perTarget.get(m.to!) ?? 0) + 1);
      expect(Math.max(0, ...perTarget.values())).toBeLessThanOrEqual(p.maxMovesPerHostPerCycle);
      expect(t.moves.every((m) => m.reason === 'drain' && m.from === 'h1')).toBe(true);
    }
    expect(tenantsOn(ticks[1]!, 'h1')).toHaveLength(12);
    expect(tenantsOn(ticks[drainTicks.at(-1)!]!, 'h1')).toEqual([]);
  });

  it('host-down: h2 down at tick 5 is empty after tick 6, and its tenants stay put when it returns', () => {
    const { ticks } = run(fixtureJson('host-down'));
    expect(tenantsOn(ticks[5]!, 'h2')).toHaveLength(15);
    expect(ticks[6]!.moves.every((m) => m.from === 'h2' && m.to !== null && m.reason === 'host-down')).toBe(
      true,
    );
    expect(tenantsOn(ticks[6]!, 'h2')).toEqual([]);
    expect(movesOf(ticks).filter((m) => !m.startsWith('6:'))).toEqual([]);
    expect(tenantsOn(ticks.at(-1)!, 'h2')).toEqual([]);
  });

  // The 90 placements of tick 0 settle for 2 min while the simulator's measure shows them at once: only the
  // part of a settling move the measure does not show yet may be projected (it once was counted twice, h4–h6
  // looked full and 9 tenants left h2 for nowhere at tick 6).
  it('host-down right after the first placement: re-placed within 2 intervals', () => {
    const sc = parseScenario(JSON.stringify({ ...fixtureJson('host-down'), assignments: {} }), 'test');
    const ticks = [...simulate(sc)];
    expect(ticks[6]!.moves.filter((m) => m.from === 'h2' && m.to === null)).toEqual([]);
    expect(ticks.flatMap((t) => belowMinHosts(sc, t))).toEqual([]);
  });

  it('pins-and-dedicated: pins hold through a drain, dedicated tenants get their hosts alone', () => {
    const { ticks } = run(fixtureJson('pins-and-dedicated'));
    const last = ticks.at(-1)!;
    expect(last.assignments.t1).toEqual(['s1', 's2']);
    expect([...last.assignments.t2!].sort()).toEqual(['d1', 'd2']);
    expect([...last.assignments.t3!].sort()).toEqual(['d3', 'd4']);
    // t3 crosses the dedicate threshold (32 cores) at tick 4: dedicated hosts first, then it leaves.
    expect(movesOf([ticks[4]!])).toEqual([
      '4:t3:+>d3:dedicate',
      '4:t3:+>d4:dedicate',
      '4:t3:s3>-:dedicate',
      '4:t3:s5>-:dedicate',
      '4:t3:s1>-:dedicate',
    ]);
    expect(tenantsOn(last, 's1')).toEqual(['t1']);
  });
});
