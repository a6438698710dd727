import type { CapacityModel, HostModel, TenantModel } from '../../src/capacity/model.js';
import { emptyPlannerState, plan, type PlanInput, type PlannerState } from '../../src/capacity/planner.js';
import { policyFrom } from '../../src/capacity/policy.js';
import { progress } from '../lib/progress.js';
import { judge, type Goal, type Result } from '../lib/results.js';
import type { Scenario } from '../lib/scenario.js';

const HOSTS = Number(process.env.BENCH_CAPACITY_HOSTS ?? 1000);
const TENANTS = Number(process.env.BENCH_CAPACITY_TENANTS ?? 10_000);
const CYCLES = Number(process.env.BENCH_CAPACITY_CYCLES ?? 30);
const WARMUP = 5;
const DEDICATED = Math.max(2, Math.round(HOSTS / 25));
const INTERVAL = 10_000;
const T0 = 1_800_000_000_000;
const GiB = 1024 ** 3;
const GOAL: Goal = {
  maxValue: 100,
  text: '≤ 100 ms per cycle (1,000 hosts × 10,000 tenants, 1% of the 10 s interval)',
};

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a * 1664525 + 1013904223) >>> 0;
    return a / 2 ** 32;
  };
}

interface Fleet {
  hosts: HostModel[];
  tenants: TenantModel[];
  /** Host load not from tenants (system, agents), as ratios. */
  base: Map<string, number>;
}

/** A fleet of mostly small tenants with a long tail: 1 in 100 uses 4–10 cores. */
function makeFleet(): Fleet {
  const r = rng(42);
  const hosts: HostModel[] = [];
  for (let i = 0; i < HOSTS + DEDICATED; i++) {
    const dedicated = i >= HOSTS;
    hosts.push({
      name: dedicated ? `d${i - HOSTS}` : `h${i}`,
      cpuCores: dedicated ? 32 : 16,
      memoryBytes: (dedicated ? 128 : 64) * GiB,
      pool: dedicated ? 'dedicated' : 'shared',
      dedicatedTo: null,
      cordoned: false,
      draining: false,
      up: true,
      cpu: null,
      memory: null,
    });
  }
  const tenants: TenantModel[] = Array.from({ length: TENANTS }, (_, i) => {
    const big = r() < 0.01;
    const cpu = big ? 4 + r() * 6 : 0.05 + r() * 0.5;
    return {
      name: `t${i}`,
      demand: { cpu, memoryBytes: cpu * 2 * GiB },
      pinned: [],
      dedicated: 0,
      frozen: false,
    };
  });
  return { hosts, tenants, base: new Map(hosts.map((h) => [h.name, 0.1])) };
}

/** Measured load of every host from the routing table (the simulator's load model, without lag). */
function measure(f: Fleet, assignments: Record<string, string[]>): HostModel[] {
  const cpu = new Map(f.base);
  const mem = new Map(f.base);
  const byName = new Map(f.hosts.map((h) => [h.name, h]));
  for (const t of f.tenants) {
    const hosts = assignments[t.name] ?? [];
    for (const name of hosts) {
      const h = byName.get(name)!;
      cpu.set(name, cpu.get(name)! + t.demand!.cpu / hosts.length / h.cpuCores);
      mem.set(name, mem.get(name)! + t.demand!.memoryBytes / hosts.length / h.memoryBytes);
    }
  }
  return f.hosts.map((h) => ({
    ...h,
    cpu: h.up ? Math.min(1, cpu.get(h.name)!) : null,
    memory: h.up ? Math.min(1, mem.get(h.name)!) : null,
  }));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Warm-up cycles (plan mode: nothing applied) so every host has its N-of-M samples. */
function warmState(model: () => CapacityModel, policy: PlanInput['policy']): PlannerState {
  let state = emptyPlannerState();
  for (let i = 0; i < policy.windowSamples; i++)
    state = plan({ model: model(), policy, state, nowMs: T0 + i * INTERVAL }).state;
  return state;
}

function time(input: PlanInput): number {
  const t0 = performance.now();
  plan(input);
  return performance.now() - t0;
}

function measurePlanner(): Result[] {
  const policy = policyFrom();
  const fleet = makeFleet();
  progress(`capacity: ${HOSTS} shared + ${DEDICATED} dedicated hosts, ${TENANTS} tenants; first placement`);
  const empty: CapacityModel = {
    hosts: measure(fleet, {}),
    tenants: fleet.tenants,
    assignments: {},
    frozen: false,
  };
  const p0 = performance.now();
  const placed = plan({ model: empty, policy, state: emptyPlannerState(), nowMs: T0 });
  const placementMs = performance.now() - p0;
  const assignments = placed.assignments;
  const unplaced = fleet.tenants.filter((t) => (assignments[t.name]?.length ?? 0) < policy.minHostsPerTenant);
  if (unplaced.length > 0)
    throw new Error(`${unplaced.length} tenants not placed on min hosts by the first cycle`);

  // Steady: the placed fleet as measured. Trouble: 5% of hosts hot from load outside the tenants, one
  // host down, one draining, 100 new tenants, 20 tenants tripled.
  const steady = (): CapacityModel => ({
    hosts: measure(fleet, assignments),
    tenants: fleet.tenants,
    assignments,
    frozen: false,
  });
  const troubled = structuredClone(fleet);
  for (let i = 0; i < HOSTS; i += 20) troubled.base.set(`h${i}`, 0.7);
  troubled.hosts[1]!.up = false;
  troubled.hosts[3]!.draining = true;
  for (let i = 0; i < 100; i++)
    troubled.tenants.push({
      name: `new${i}`,
      demand: { cpu: 0.3, memoryBytes: GiB },
      pinned: [],
      dedicated: 0,
      frozen: false,
    });
  for (let i = 0; i < 20; i++) {
    const t = troubled.tenants[i * 97]!;
    t.demand = { cpu: t.demand!.cpu * 3, memoryBytes: t.demand!.memoryBytes * 3 };
  }
  const trouble = (): CapacityModel => ({
    hosts: measure(troubled, assignments),
    tenants: troubled.tenants,
    assignments,
    frozen: false,
  });
  const at = T0 + policy.windowSamples * INTERVAL;
  const ours: PlanInput = { model: trouble(), policy, state: warmState(trouble, policy), nowMs: at };
  const base: PlanInput = { model: steady(), policy, state: warmState(steady, policy), nowMs: at };
  const out = plan(ours);
  const reasons: Record<string, number> = {};
  for (const m of out.moves) reasons[m.reason] = (reasons[m.reason] ?? 0) + 1;
  if (out.hot.length === 0 || out.down.length !== 1 || !reasons['host-down'] || !reasons.place)
    throw new Error(
      `the troubled cycle did not act on its trouble: ${JSON.stringify({ hot: out.hot.length, reasons })}`,
    );
  const baseMoves = plan(base).moves.length;

  progress(
    `capacity: ${WARMUP} warm-up + ${CYCLES} timed plan() calls each, troubled and steady, alternating`,
  );
  const times = { ours: [] as number[], base: [] as number[] };
  for (let k = 0; k < WARMUP + CYCLES; k++) {
    const order = k % 2 === 0 ? (['ours', 'base'] as const) : (['base', 'ours'] as const);
    for (const which of order) {
      const ms = time(which === 'ours' ? ours : base);
      if (k >= WARMUP) times[which].push(ms);
    }
  }
  const value = median(times.ours);
  const baseline = median(times.base);
  const assigned = Object.values(assignments).reduce((a, l) => a + l.length, 0);
  return [
    {
      name: 'plan-1k-hosts-10k-tenants',
      unit: 'ms/cycle',
      value,
      baseline: { name: 'same fleet, steady (nothing to do)', value: baseline },
      ratioOf: 'ours/baseline',
      ratio: value / baseline,
      goal: GOAL,
      pass: judge(value, value / baseline, GOAL),
      notes: [
        `${HOSTS} shared + ${DEDICATED} dedicated hosts, ${TENANTS} tenants on ${assigned} host slots; ` +
          `troubled cycle: ${out.hot.length} hot, 1 down, 1 draining, 100 new, 20 tripled`,
        `troubled cycle plans ${out.moves.length} moves (${Object.entries(reasons)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}), ${out.deferred} deferred; steady plans ${baseMoves}`,
        `median of ${CYCLES} after ${WARMUP} warm-up; troubled min ${Math.min(...times.ours).toFixed(1)} ` +
          `max ${Math.max(...times.ours).toFixed(1)} ms`,
        `first placement of all ${TENANTS} tenants (one cycle): ${placementMs.toFixed(0)} ms`,
      ],
    },
  ];
}

export const capacityScenario: Scenario = {
  name: 'capacity',
  description: 'one capacity planning cycle over 1,000 hosts and 10,000 tenants (hot, down, draining, new)',
  // Synchronous work: run it after the caller's progress line is out.
  run: () => Promise.resolve().then(measurePlanner),
};
