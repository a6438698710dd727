import { describe, expect, it } from 'vitest';
import type { HostLoad } from '../collector/metrics-source.js';
import { buildModel, type LiveInputs } from './live-model.js';
import type { HostModel, TenantModel } from './model.js';

const load = (host: string, over: Partial<HostLoad> = {}): HostLoad => ({
  host,
  cpu: 0.5,
  memory: 0.4,
  load1: 1,
  up: true,
  lastScrape: '2026-11-25T10:00:00.000Z',
  labels: { host },
  source: 'scrape',
  cpuWindowSeconds: 60,
  memorySource: 'MemAvailable',
  cpuCores: 8,
  memoryBytes: 32e9,
  ...over,
});

const inputs = (over: Partial<LiveInputs> = {}): LiveInputs => ({
  hosts: [],
  hostSettings: [],
  tenantSettings: [],
  routes: {},
  demand: new Map(),
  frozen: false,
  ...over,
});

const host = (name: string, over: Partial<HostModel> = {}): HostModel => ({
  name,
  cpuCores: 8,
  memoryBytes: 32e9,
  pool: 'shared',
  dedicatedTo: null,
  cordoned: false,
  draining: false,
  up: true,
  cpu: 0.5,
  memory: 0.4,
  ...over,
});

const unknownHost = (name: string): HostModel =>
  host(name, { cpuCores: 0, memoryBytes: 0, up: false, cpu: null, memory: null });

const tenant = (name: string, over: Partial<TenantModel> = {}): TenantModel => ({
  name,
  demand: null,
  pinned: [],
  dedicated: 0,
  frozen: false,
  ...over,
});

describe('buildModel', () => {
  it.each<{ title: string; in: LiveInputs; hosts: HostModel[] }>([
    { title: 'nothing known', in: inputs(), hosts: [] },
    {
      title: 'a scraped host with its load and size',
      in: inputs({ hosts: [load('h1')] }),
      hosts: [host('h1')],
    },
    {
      title: 'a scraped host without node metrics yet: unknown load and size',
      in: inputs({
        hosts: [load('h1', { cpu: null, memory: null, cpuCores: null, memoryBytes: null })],
      }),
      hosts: [host('h1', { cpu: null, memory: null, cpuCores: 0, memoryBytes: 0 })],
    },
    {
      title: 'a host whose scrape fails is down',
      in: inputs({ hosts: [load('h1', { up: false })] }),
      hosts: [host('h1', { up: false })],
    },
    {
      title: 'hosts only in settings, routes or pins: down with unknown load (the worst case)',
      in: inputs({
        hostSettings: [{ host: 'hs', pool: 'shared', dedicatedTo: null, cordoned: true, draining: false }],
        routes: { t1: ['hr'] },
        tenantSettings: [{ tenant: 't2', pinned: ['hp'], dedicated: 0, frozen: false }],
      }),
      hosts: [unknownHost('hp'), unknownHost('hr'), { ...unknownHost('hs'), cordoned: true }],
    },
    {
      title: 'draining implies cordoned',
      in: inputs({
        hosts: [load('h1')],
        hostSettings: [{ host: 'h1', pool: 'shared', dedicatedTo: null, cordoned: false, draining: true }],
      }),
      hosts: [host('h1', { cordoned: true, draining: true })],
    },
    {
      title: 'dedicated pool keeps its tenant; a shared host never has one',
      in: inputs({
        hosts: [load('d1'), load('s1')],
        hostSettings: [
          { host: 'd1', pool: 'dedicated', dedicatedTo: 't9', cordoned: false, draining: false },
          { host: 's1', pool: 'shared', dedicatedTo: 't9', cordoned: false, draining: false },
        ],
      }),
      hosts: [host('d1', { pool: 'dedicated', dedicatedTo: 't9' }), host('s1')],
    },
    {
      title: 'sorted by name whatever the order of the inputs',
      in: inputs({ hosts: [load('h3'), load('h1'), load('h2')] }),
      hosts: [host('h1'), host('h2'), host('h3')],
    },
  ])('hosts: $title', (c) => {
    expect(buildModel(c.in).hosts).toEqual(c.hosts);
  });

  it.each<{ title: string; in: LiveInputs; tenants: TenantModel[]; assignments: Record<string, string[]> }>([
    {
      title: 'tenants from the routing table, with sorted hosts and unknown demand',
      in: inputs({ routes: { t1: ['h2', 'h1'] } }),
      tenants: [tenant('t1')],
      assignments: { t1: ['h1', 'h2'] },
    },
    {
      title: 'a tenant billed but never placed gets an empty assignment (the planner places it)',
      in: inputs({ demand: new Map([['t1', { cpu: 1.5, memoryBytes: 2e9 }]]) }),
      tenants: [tenant('t1', { demand: { cpu: 1.5, memoryBytes: 2e9 } })],
      assignments: { t1: [] },
    },
    {
      title: 'settings of a tenant (pins, dedicated, frozen)',
      in: inputs({
        routes: { t1: ['h1'] },
        tenantSettings: [
          { tenant: 't1', pinned: ['h1'], dedicated: 0, frozen: true },
          { tenant: 't0', pinned: [], dedicated: 2, frozen: false },
        ],
      }),
      tenants: [tenant('t0', { dedicated: 2 }), tenant('t1', { pinned: ['h1'], frozen: true })],
      assignments: { t0: [], t1: ['h1'] },
    },
    {
      title: 'the union of the three sources, once each',
      in: inputs({
        routes: { a: ['h1'], b: ['h1'] },
        tenantSettings: [{ tenant: 'b', pinned: [], dedicated: 0, frozen: false }],
        demand: new Map([
          ['b', { cpu: 1, memoryBytes: 1 }],
          ['c', { cpu: 2, memoryBytes: 2 }],
        ]),
      }),
      tenants: [
        tenant('a'),
        tenant('b', { demand: { cpu: 1, memoryBytes: 1 } }),
        tenant('c', { demand: { cpu: 2, memoryBytes: 2 } }),
      ],
      assignments: { a: ['h1'], b: ['h1'], c: [] },
    },
  ])('tenants: $title', (c) => {
    const m = buildModel(c.in);
    expect(m.tenants).toEqual(c.tenants);
    expect(m.assignments).toEqual(c.assignments);
  });

  it('carries the global freeze', () => {
    expect(buildModel(inputs({ frozen: true })).frozen).toBe(true);
    expect(buildModel(inputs()).frozen).toBe(false);
  });

  it('does not share arrays with its inputs (the planner may not change the settings)', () => {
    const settings = [{ tenant: 't1', pinned: ['h1'], dedicated: 0, frozen: false }];
    const routes = { t1: ['h1'] };
    const m = buildModel(inputs({ tenantSettings: settings, routes }));
    m.tenants[0]!.pinned.push('x');
    m.assignments.t1!.push('x');
    expect(settings[0]!.pinned).toEqual(['h1']);
    expect(routes.t1).toEqual(['h1']);
  });
});
