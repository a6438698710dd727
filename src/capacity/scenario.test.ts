import { describe, expect, it } from 'vitest';
import { ErrorCodes, OverseerError } from '../errors/index.js';
import { DEFAULT_POLICY } from './policy.js';
import { jsonPath, parseScenario, SCENARIO_LIMITS } from './scenario.js';

/** The example, with the hosts it names declared. */
const example = {
  intervalSeconds: 10,
  policy: { minHostsPerTenant: 3 },
  hosts: ['h1', 'h2', 'h3', 'h4'].map((name) => ({
    name,
    cpuCores: 8,
    memoryBytes: 34359738368,
    pool: 'shared',
    background: { cpu: 0.5, memoryBytes: 2e9 },
  })),
  tenants: [{ name: 't1', pinned: [], dedicated: 0 }],
  assignments: { t1: ['h1', 'h2', 'h3'] },
  ticks: [{ tick: 0, demand: { t1: { cpu: 2.5, memoryBytes: 4e9 } }, events: [{ cordon: 'h2' }] }],
};
const minimal = { hosts: [{ name: 'a', cpuCores: 4, memoryBytes: 8e9 }], ticks: [{ tick: 0 }] };

function problemsOf(json: unknown): { code: number; details: string[] } {
  try {
    parseScenario(typeof json === 'string' ? json : JSON.stringify(json), 'bad.json');
  } catch (e) {
    expect(e).toBeInstanceOf(OverseerError);
    const err = e as OverseerError;
    expect(err.exitCode).toBe(2);
    expect(err.hint).toBeTruthy();
    return { code: err.code, details: err.details ?? [] };
  }
  throw new Error('parsed');
}

describe('parseScenario', () => {
  it('reads the issue’s example', () => {
    const s = parseScenario(JSON.stringify(example), 'example.json');
    expect(s.policy).toEqual({ ...DEFAULT_POLICY, minHostsPerTenant: 3 });
    expect(s.hosts[0]).toEqual({
      name: 'h1',
      cpuCores: 8,
      memoryBytes: 34359738368,
      pool: 'shared',
      background: { cpu: 0.5, memoryBytes: 2e9 },
    });
    expect(s.ticks).toEqual([
      {
        tick: 0,
        demand: { t1: { cpu: 2.5, memoryBytes: 4e9 } },
        events: [{ kind: 'cordon', host: 'h2' }],
      },
    ]);
  });

  it('fills the defaults: interval 10 s, shared pool, no background, no pins, nothing dedicated', () => {
    const s = parseScenario(JSON.stringify({ ...minimal, tenants: [{ name: 't' }] }), 'min.json');
    expect(s.intervalSeconds).toBe(10);
    expect(s.policy).toEqual(DEFAULT_POLICY);
    expect(s.hosts[0]).toMatchObject({ pool: 'shared', background: { cpu: 0, memoryBytes: 0 } });
    expect(s.tenants).toEqual([{ name: 't', pinned: [], dedicated: 0 }]);
    expect(s.assignments).toEqual({});
    expect(s.ticks).toEqual([{ tick: 0, demand: {}, events: [] }]);
  });

  it('takes any planner policy override, with units', () => {
    const s = parseScenario(
      JSON.stringify({ ...minimal, policy: { tenantCooldown: '1m', settle: '0s' } }),
      'p',
    );
    expect([s.policy.tenantCooldownMs, s.policy.settleMs]).toEqual([60_000, 0]);
  });

  const many = (n: number, make: (i: number) => object): object[] =>
    Array.from({ length: n }, (_, i) => make(i));
  it.each<[string, unknown, number, Array<string | RegExp>]>([
    ['not JSON', '{"hosts": [', ErrorCodes.CAPACITY_SCENARIO_NOT_JSON, [/JSON/]],
    [
      'too many hosts',
      { ...minimal, hosts: many(SCENARIO_LIMITS.hosts + 1, (i) => ({ name: `h${i}` })) },
      ErrorCodes.CAPACITY_SCENARIO_TOO_LARGE,
      [`$.hosts: ${SCENARIO_LIMITS.hosts + 1} hosts, at most ${SCENARIO_LIMITS.hosts}`],
    ],
    [
      'too many tenants',
      { ...minimal, tenants: many(SCENARIO_LIMITS.tenants + 1, (i) => ({ name: `t${i}` })) },
      ErrorCodes.CAPACITY_SCENARIO_TOO_LARGE,
      [`$.tenants: ${SCENARIO_LIMITS.tenants + 1} tenants, at most ${SCENARIO_LIMITS.tenants}`],
    ],
    [
      'a tick past the last allowed',
      { ...minimal, ticks: [{ tick: 0 }, { tick: SCENARIO_LIMITS.ticks }] },
      ErrorCodes.CAPACITY_SCENARIO_TOO_LARGE,
      [`$.ticks[1].tick: ${SCENARIO_LIMITS.ticks}; ticks run from 0 to at most ${SCENARIO_LIMITS.ticks - 1}`],
    ],
    ['no hosts', { ticks: [{ tick: 0 }] }, ErrorCodes.CAPACITY_SCENARIO_INVALID, ['$.hosts: Invalid input']],
    ['no ticks', { ...minimal, ticks: [] }, ErrorCodes.CAPACITY_SCENARIO_INVALID, ['$.ticks: Too small']],
    [
      'an unknown key',
      { ...minimal, duration: '10m' },
      ErrorCodes.CAPACITY_SCENARIO_INVALID,
      ['$: Unrecognized key: "duration"'],
    ],
    [
      'a host without its size',
      { ...minimal, hosts: [{ name: 'a', cpuCores: 0 }] },
      ErrorCodes.CAPACITY_SCENARIO_INVALID,
      ['$.hosts[0].cpuCores: Too small', '$.hosts[0].memoryBytes: Invalid input'],
    ],
    [
      'the old format’s units',
      { ...minimal, hosts: [{ name: 'a', cpuCores: 4, memoryBytes: '8GiB' }] },
      ErrorCodes.CAPACITY_SCENARIO_INVALID,
      ['$.hosts[0].memoryBytes: Invalid input: expected number, received string'],
    ],
    [
      'a bad pool and a bad name',
      { ...minimal, hosts: [{ name: 'a b', cpuCores: 4, memoryBytes: 1, pool: 'gold' }] },
      ErrorCodes.CAPACITY_SCENARIO_INVALID,
      ['$.hosts[0].name: must be 1–128', '$.hosts[0].pool: Invalid option'],
    ],
    [
      'negative demand',
      {
        ...minimal,
        tenants: [{ name: 't' }],
        ticks: [{ tick: 0, demand: { t: { cpu: -1, memoryBytes: 0 } } }],
      },
      ErrorCodes.CAPACITY_SCENARIO_INVALID,
      ['$.ticks[0].demand.t.cpu: Too small'],
    ],
    [
      'an unknown event, and two in one',
      { ...minimal, ticks: [{ tick: 0, events: [{ reboot: 'a' }, { cordon: 'a', drain: 'a' }] }] },
      ErrorCodes.CAPACITY_SCENARIO_INVALID,
      [
        '$.ticks[0].events[0]: Unrecognized key: "reboot"',
        '$.ticks[0].events[1]: an event is exactly one of {"cordon"|"uncordon"|"drain"|"down"|"up": "<host>"}',
      ],
    ],
    [
      'a policy key the planner does not have',
      { ...minimal, policy: { watermark: 0.5 } },
      ErrorCodes.CAPACITY_SCENARIO_INVALID,
      ['$.policy: Unrecognized key: "watermark"'],
    ],
    [
      'names nobody declared',
      {
        ...minimal,
        tenants: [{ name: 't', pinned: ['zz'] }],
        assignments: { u: ['a', 'y'] },
        ticks: [{ tick: 0, demand: { v: { cpu: 1, memoryBytes: 1 } }, events: [{ drain: 'x' }] }],
      },
      ErrorCodes.CAPACITY_SCENARIO_INCONSISTENT,
      [
        '$.tenants[0].pinned[0]: no host zz in $.hosts',
        '$.assignments.u: no tenant u in $.tenants',
        '$.assignments.u[1]: no host y in $.hosts',
        '$.ticks[0].demand.v: no tenant v in $.tenants',
        '$.ticks[0].events[0].drain: no host x in $.hosts',
      ],
    ],
    [
      'a name declared twice, a host named twice in an assignment',
      {
        ...minimal,
        hosts: [minimal.hosts[0], minimal.hosts[0]],
        tenants: [{ name: 't' }],
        assignments: { t: ['a', 'a'] },
      },
      ErrorCodes.CAPACITY_SCENARIO_INCONSISTENT,
      ['$.hosts[1].name: host a is declared twice', '$.assignments.t: names a host twice'],
    ],
    [
      'ticks out of order',
      { ...minimal, ticks: [{ tick: 0 }, { tick: 5 }, { tick: 5 }, { tick: 3 }] },
      ErrorCodes.CAPACITY_SCENARIO_INCONSISTENT,
      [
        '$.ticks[2].tick: 5 after 5; ticks must be listed in increasing order',
        '$.ticks[3].tick: 3 after 5; ticks must be listed in increasing order',
      ],
    ],
    [
      'an inconsistent policy',
      { ...minimal, policy: { cpuLowWatermark: 0.9 } },
      ErrorCodes.CAPACITY_POLICY_INVALID,
      ['cpuLowWatermark must be below cpuHighWatermark'],
    ],
  ])('refuses %s with its code, naming every problem', (_n, json, code, problems) => {
    const r = problemsOf(json);
    expect(r.code).toBe(code);
    for (const p of problems)
      expect(
        r.details.some((d) => (typeof p === 'string' ? d.startsWith(p) : p.test(d))),
        String(p),
      ).toBe(true);
    expect(r.details.length).toBeGreaterThanOrEqual(problems.length);
  });

  it('lists at most 50 problems', () => {
    const r = problemsOf({ ...minimal, ticks: many(60, () => ({ tick: -1 })) });
    expect(r.details).toHaveLength(51);
    expect(r.details.at(-1)).toBe('and 10 more');
  });

  it.each<[PropertyKey[], string]>([
    [[], '$'],
    [['hosts', 2, 'cpuCores'], '$.hosts[2].cpuCores'],
    [['assignments', 't-1.x', 0], '$.assignments["t-1.x"][0]'],
  ])('jsonPath %j is %s', (path, want) => {
    expect(jsonPath(path)).toBe(want);
  });
});
