import type { Command } from 'commander';
import type { Move } from '../capacity/model.js';
import { parseScenario, type Scenario } from '../capacity/scenario.js';
import { isHot, SimStats, type SimSummary } from '../capacity/sim-stats.js';
import { simulate, type HostLoad, type SimTick } from '../capacity/simulator.js';
import { ErrorCodes, OverseerError } from '../errors/index.js';
import { bar, moveLine } from './capacity-render.js';
import type { CliContext, GlobalOptions } from './context.js';
import { table } from './output.js';
import { readInput } from './read-input.js';

/** A scenario is a hand-written or generated file: anything larger is a mistake, not a fleet. */
export const MAX_SCENARIO_BYTES = 32 * 1024 * 1024;

const HELP = `
A scenario is JSON (docs/capacity-simulator.md; examples in test/fixtures/capacity/):
  { "intervalSeconds": 10, "policy": { "minHostsPerTenant": 3 },
    "hosts":   [ { "name": "h1", "cpuCores": 8, "memoryBytes": 34359738368,
                   "pool": "shared", "background": { "cpu": 0.5, "memoryBytes": 2e9 } } ],
    "tenants": [ { "name": "t1", "pinned": [], "dedicated": 0 } ],
    "assignments": { "t1": ["h1", "h2", "h3"] },
    "ticks": [ { "tick": 0, "demand": { "t1": { "cpu": 2.5, "memoryBytes": 4e9 } },
                 "events": [ { "cordon": "h2" } ] } ] }
Every tick from 0 to the last listed runs; a tick without "demand" keeps the last. Events: cordon,
uncordon, drain, down, up. With --json: one line per tick,
  {"tick":0,"moves":[{"tenant":"t1","from":"h2","to":"h4"}],"assignments":{...},"hostLoad":{"h1":{"cpu":0.41,"memory":0.2}}}
Exit 0; 1 when a tenant was left on fewer hosts than it needs after some tick (error 101804);
2 when the scenario is invalid.`;

async function readScenario(file: string, ctx: CliContext): Promise<Buffer> {
  try {
    return await readInput(file, MAX_SCENARIO_BYTES, ctx.stdin);
  } catch (cause) {
    throw new OverseerError(ErrorCodes.CAPACITY_SCENARIO_UNREADABLE, `cannot read the scenario ${file}`, {
      details: [(cause as Error).message],
      hint: 'give a JSON scenario file of at most 32 MiB, or - to read standard input',
      exitCode: 2,
      cause,
    });
  }
}

/** Ratios to 4 decimals: 0.01 % is finer than any watermark, and the lines stay short. */
const round = (v: number): number => Math.round(v * 1e4) / 1e4;

/** The contract's line: exactly these keys, in this order. */
export function jsonLine(t: SimTick): string {
  const hostLoad: Record<string, HostLoad> = {};
  for (const [h, l] of Object.entries(t.hostLoad))
    hostLoad[h] = { cpu: round(l.cpu), memory: round(l.memory) };
  return JSON.stringify({
    tick: t.tick,
    moves: t.moves.map((m) => ({ tenant: m.tenant, from: m.from, to: m.to })),
    assignments: t.assignments,
    hostLoad,
  });
}

const pct = (r: number): string => `${Math.round(r * 100)}%`;
const secs = (sc: Scenario, tick: number): string => `${+(tick * sc.intervalSeconds).toFixed(3)}s`;

function quiet(t: SimTick): boolean {
  return t.events.length === 0 && t.demandSet.length === 0 && t.moves.length === 0;
}

/** One tick that did something: its events, its moves with their reasons, every host after them. */
export function tickText(sc: Scenario, t: SimTick): string {
  const what: string[] = t.events.map((e) => `${e.kind} ${e.host}`);
  if (t.demandSet.length > 0)
    what.push(
      t.demandSet.length <= 5
        ? `demand of ${t.demandSet.join(', ')}`
        : `demand of ${t.demandSet.length} tenants`,
    );
  const lines = [`tick ${t.tick} (${secs(sc, t.tick)})${what.length > 0 ? `: ${what.join(' · ')}` : ''}`];
  const moves = (m: Move[]): string[][] => m.map((x) => [`  ${x.tenant}`, moveLine(x), x.reason, x.detail]);
  if (t.moves.length > 0) lines.push(table(['  TENANT', 'CHANGE', 'REASON', 'WHY'], moves(t.moves)));
  const onHost = new Map<string, number>();
  for (const list of Object.values(t.assignments))
    for (const h of list) onHost.set(h, (onHost.get(h) ?? 0) + 1);
  lines.push(
    table(
      ['  HOST', 'STATE', 'CPU', 'MEMORY', 'TENANTS'],
      sc.hosts.map((h) => {
        const f = t.hosts[h.name]!;
        const l = t.hostLoad[h.name]!;
        const state = [f.up ? 'up' : 'down'];
        if (f.draining) state.push('draining');
        else if (f.cordoned) state.push('cordoned');
        if (f.up && isHot(l, sc.policy)) state.push('HOT');
        return [`  ${h.name}`, state.join(','), bar(l.cpu), bar(l.memory), onHost.get(h.name) ?? 0];
      }),
    ),
  );
  for (const n of t.notes) lines.push(`  note: ${n}`);
  return lines.join('\n');
}

export function summaryText(sc: Scenario, s: SimSummary): string {
  const m = s.moves;
  const reasons = Object.entries(m.byReason)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const hot = s.longestHot;
  const below = s.belowMin.first;
  return [
    `summary: ${s.ticks} ticks of ${sc.intervalSeconds}s, ${sc.hosts.length} hosts, ${sc.tenants.length} tenants`,
    `  moves: ${m.total}${reasons ? ` (${reasons})` : ''}; most for one tenant: ${m.maxPerTenant}` +
      `${m.busiestTenant ? ` (${m.busiestTenant})` : ''}; back onto a host left within the cooldown: ` +
      `${m.backAndForth}; deferred by the budgets: ${m.deferred}`,
    `  load: peak cpu ${pct(s.peakCpu.value)} (${s.peakCpu.host ?? '-'}, tick ${s.peakCpu.tick}), peak memory ` +
      `${pct(s.peakMemory.value)} (${s.peakMemory.host ?? '-'}, tick ${s.peakMemory.tick}); longest hot: ` +
      (hot.host === null ? 'never hot' : `${hot.ticks} tick(s) (${hot.host} from tick ${hot.from})`),
    below === null
      ? '  every tenant stayed on the hosts it needs at every tick'
      : `  ${s.belowMin.ticks} tick(s) left a tenant on too few hosts; first: ${below.tenant} on ` +
        `${below.hosts.length} (${below.hosts.join(' ') || '-'}) after tick ${below.tick}, needs ${below.required}`,
    ...s.lastNotes.slice(0, 5).map((n) => `  last note: ${n}`),
  ].join('\n');
}

async function run(ctx: CliContext, g: GlobalOptions, file: string): Promise<void> {
  const body = await readScenario(file, ctx);
  const sc = parseScenario(body.toString('utf8'), file === '-' ? '<stdin>' : file);
  const stats = new SimStats(sc);
  let quietFrom: number | null = null;
  const flushQuiet = (to: number): void => {
    if (quietFrom === null) return;
    const span = quietFrom === to ? `tick ${to}` : `ticks ${quietFrom}–${to}`;
    ctx.output.out(`${span}: no events, no demand changes, no moves\n`);
    quietFrom = null;
  };
  let lastTick = 0;
  for (const t of simulate(sc)) {
    stats.add(t);
    lastTick = t.tick;
    if (g.json === true) ctx.output.out(jsonLine(t));
    else if (quiet(t)) quietFrom ??= t.tick;
    else {
      flushQuiet(t.tick - 1);
      ctx.output.out(`${tickText(sc, t)}\n`);
    }
  }
  if (g.json !== true) {
    flushQuiet(lastTick);
    ctx.output.out(summaryText(sc, stats.s));
  }
  const below = stats.s.belowMin;
  if (below.first !== null) {
    const f = below.first;
    throw new OverseerError(
      ErrorCodes.CAPACITY_SIMULATION_EXPECTATIONS_FAILED,
      `${below.ticks} tick(s) left a tenant on fewer hosts than it needs`,
      {
        exitCode: 1,
        details: [
          `first after tick ${f.tick}: ${f.tenant} on ${f.hosts.length} host(s), needs ${f.required}`,
        ],
        hint: 'add hosts to the scenario, or lower policy.minHostsPerTenant; the notes of that tick say what was missing',
      },
    );
  }
}

/** Adds `simulate <scenario.json> [--json]` to the `capacity` command (offline: needs no server). */
export function capacitySimulateCommand(capacity: Command, ctx: CliContext): void {
  capacity
    .command('simulate <scenario>')
    .description('run the real capacity planner tick by tick over a JSON scenario (or - for stdin); offline')
    .addHelpText('after', HELP)
    .action((file: string, _o: unknown, cmd: Command) => run(ctx, cmd.optsWithGlobals(), file));
}
