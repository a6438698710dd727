import { describe, expect, it } from 'vitest';
import type { HostModel, Move } from '../capacity/model.js';
import type { PublishedPlan } from '../capacity/plan-store.js';
import {
  bar,
  hostState,
  moveLine,
  renderAssignments,
  renderPlan,
  type AssignmentsView,
} from './capacity-render.js';

const host = (
  name: string,
  over: Partial<HostModel & { tenants: string[] }> = {},
): HostModel & { tenants: string[] } => ({
  name,
  cpuCores: 8,
  memoryBytes: 32 * 1024 ** 3,
  pool: 'shared',
  dedicatedTo: null,
  cordoned: false,
  draining: false,
  up: true,
  cpu: 0.5,
  memory: 0.25,
  tenants: [],
  ...over,
});

describe('bar', () => {
  it.each<[number | null, string]>([
    [0, '[----------]   0%'],
    [0.5, '[#####-----]  50%'],
    [0.04, '[----------]   4%'],
    [0.06, '[#---------]   6%'],
    [1, '[##########] 100%'],
    [1.7, '[##########] 100%'],
    [-0.2, '[----------]   0%'],
    [null, '[??????????]    ?'],
    [Number.NaN, '[??????????]    ?'],
  ])('%s → %s', (ratio, want) => {
    expect(bar(ratio)).toBe(want);
    expect(bar(ratio)).toHaveLength(17);
  });
});

describe('host state and moves', () => {
  it.each<[Partial<HostModel>, string]>([
    [{}, 'up'],
    [{ up: false }, 'down'],
    [{ cordoned: true }, 'up,cordoned'],
    [{ cordoned: true, draining: true, up: false }, 'down,draining'],
  ])('%j → %s', (over, want) => expect(hostState(host('h', over))).toBe(want));

  it.each<[Pick<Move, 'from' | 'to'>, string]>([
    [{ from: 'h1', to: 'h2' }, 'h1 → h2'],
    [{ from: null, to: 'h2' }, '+ h2'],
    [{ from: 'h1', to: null }, '- h1'],
  ])('%j → %s', (m, want) => expect(moveLine({ tenant: 't', reason: 'r', detail: '', ...m })).toBe(want));
});

describe('renderAssignments', () => {
  const view: AssignmentsView = {
    version: 7,
    mode: 'plan',
    frozen: false,
    hosts: [
      host('h1', { cpu: 0.9, tenants: ['t1', 't2'] }),
      host('h2', { up: false, cpu: null, memory: null, cpuCores: 0, memoryBytes: 0 }),
      host('d1', { pool: 'dedicated', dedicatedTo: 't9', cordoned: true }),
    ],
    tenants: [
      {
        name: 't1',
        demand: { cpu: 1.5, memoryBytes: 2 * 1024 ** 3 },
        pinned: [],
        dedicated: 0,
        frozen: false,
        hosts: ['h1'],
      },
      { name: 't2', demand: null, pinned: ['h1'], dedicated: 0, frozen: true, hosts: ['h1'] },
      { name: 't3', demand: null, pinned: [], dedicated: 2, frozen: false, hosts: [] },
    ],
  };

  it('one line per host with bars, state, pool, size and tenants; then tenants with settings', () => {
    const lines = renderAssignments(view).split('\n');
    expect(lines[0]).toBe('routing version 7 · mode plan');
    expect(lines[2]).toMatch(/^HOST\s+STATE\s+POOL\s+SIZE\s+CPU\s+MEMORY\s+TENANTS$/);
    expect(lines[3]).toMatch(
      /^h1\s+up\s+shared\s+8c\/32G\s+\[#########-\] {2}90%\s+\[###-------\] {2}25%\s+t1 t2$/,
    );
    expect(lines[4]).toMatch(/^h2\s+down\s+shared\s+-\s+\[\?{10}\] {4}\?\s+\[\?{10}\] {4}\?\s+-$/);
    expect(lines[5]).toMatch(/^d1\s+up,cordoned\s+dedicated:t9\s/);
    const rest = lines.slice(6).join('\n');
    expect(rest).not.toMatch(/^t1 /m);
    expect(rest).toMatch(/^t2\s+h1\s+unknown\s+pinned h1 · frozen$/m);
    expect(rest).toMatch(/^t3\s+-\s+unknown\s+dedicated 2 · no hosts yet$/m);
  });

  it('says so when frozen, and when there are no hosts', () => {
    const text = renderAssignments({ ...view, frozen: true, hosts: [], tenants: [] });
    expect(text).toMatch(/FROZEN/);
    expect(text).toMatch(/no hosts/);
  });
});

describe('renderPlan', () => {
  const plan = (over: Partial<PublishedPlan> = {}): PublishedPlan => ({
    planId: 'abc123',
    basedOn: 4,
    computedAt: '2026-11-25T10:00:00.000Z',
    mode: 'plan',
    appliedVersion: null,
    moves: [
      { tenant: 't1', from: 'h1', to: 'h4', reason: 'host-hot', detail: 'h1 is hot (cpu 95%)' },
      { tenant: 't2', from: null, to: 'h5', reason: 'min-hosts', detail: 't2 has 2 of 3 hosts' },
    ],
    inputs: { hosts: {}, tenants: {} },
    notes: ['hot: h1'],
    ...over,
  });

  it.each<[string, Parameters<typeof renderPlan>[0], RegExp[]]>([
    ['no plan yet', { mode: 'plan', version: 0, plan: null }, [/^no plan yet/]],
    [
      'a pending plan as a diff with the why',
      { mode: 'plan', version: 4, plan: plan() },
      [
        /not applied \(plan mode: overseer capacity apply\)/,
        /^t1\s+h1 → h4\s+host-hot\s+h1 is hot \(cpu 95%\)$/m,
        /^t2\s+\+ h5\s+min-hosts/m,
        /^note: hot: h1$/m,
      ],
    ],
    [
      'an applied plan',
      { mode: 'auto', version: 5, plan: plan({ appliedVersion: 5 }) },
      [/applied as version 5/],
    ],
    [
      'a plan the table has moved past',
      { mode: 'plan', version: 6, plan: plan() },
      [/made on version 4, the table is at 6 now/],
    ],
    [
      'a plan without moves',
      { mode: 'plan', version: 4, plan: plan({ moves: [], notes: [] }) },
      [/no moves: every tenant stays where it is/],
    ],
  ])('%s', (_, v, want) => {
    const text = renderPlan(v);
    for (const re of want) expect(text).toMatch(re);
  });
});
