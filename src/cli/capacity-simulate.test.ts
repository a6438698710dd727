import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseScenario } from '../capacity/scenario.js';
import { simulate } from '../capacity/simulator.js';
import { runCli } from '../cli.js';
import type { CliContext } from './context.js';
import { MAX_SCENARIO_BYTES } from './capacity-simulate.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/capacity/', import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'overseer-simulate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(argv: string[], stdin?: Buffer): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const ctx: CliContext = {
    env: {},
    output: { out: (t) => out.push(t), err: (t) => err.push(t) },
    stopSignal: () => new Promise<string>(() => {}),
    ...(stdin ? { stdin: () => Promise.resolve(stdin) } : {}),
  };
  const code = await runCli(['capacity', 'simulate', ...argv], ctx);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const round4 = (v: number): number => Math.round(v * 1e4) / 1e4;
const host = (name: string): object => ({ name, cpuCores: 8, memoryBytes: 32e9 });
const small = {
  hosts: ['a', 'b', 'c', 'd'].map(host),
  tenants: [{ name: 't' }],
  assignments: { t: ['a', 'b', 'c'] },
  ticks: [
    { tick: 0, demand: { t: { cpu: 1.5, memoryBytes: 3e9 } } },
    { tick: 1, events: [{ drain: 'a' }] },
  ],
};

describe('overseer capacity simulate --json', () => {
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.json'));
  it.each(files)(
    '%s: one line per tick with exactly the contract’s keys and the simulator’s values',
    async (f) => {
      const file = path.join(FIXTURES, f);
      const r = await run([file, '--json']);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const ticks = [...simulate(parseScenario(readFileSync(file, 'utf8'), f))];
      const lines = r.out.split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines).toHaveLength(ticks.length);
      lines.forEach((line, i) => {
        const t = ticks[i]!;
        expect(Object.keys(line)).toEqual(['tick', 'moves', 'assignments', 'hostLoad']);
        expect(line.tick).toBe(i);
        expect(line.moves).toEqual(t.moves.map((m) => ({ tenant: m.tenant, from: m.from, to: m.to })));
        expect(line.assignments).toEqual(t.assignments);
        const loads = line.hostLoad as Record<string, { cpu: number; memory: number }>;
        expect(Object.keys(loads)).toEqual(Object.keys(t.hostLoad));
        for (const [h, l] of Object.entries(loads)) {
          expect(Object.keys(l)).toEqual(['cpu', 'memory']);
          expect(l.cpu).toBe(round4(t.hostLoad[h]!.cpu));
          expect(l.memory).toBe(round4(t.hostLoad[h]!.memory));
        }
      });
    },
  );

  it('prints a drain as the contract’s line, reading the scenario from stdin', async () => {
    const r = await run(['-', '--json'], Buffer.from(JSON.stringify(small)));
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[1]).toBe(
      '{"tick":1,"moves":[{"tenant":"t","from":"a","to":"d"}],"assignments":{"t":["d","b","c"]},' +
        '"hostLoad":{"a":{"cpu":0,"memory":0},"b":{"cpu":0.0625,"memory":0.0313},' +
        '"c":{"cpu":0.0625,"memory":0.0313},"d":{"cpu":0.0625,"memory":0.0313}}}',
    );
  });
});

describe('overseer capacity simulate (text)', () => {
  it('prints each tick that did something, with moves, reasons and load bars, then a summary', async () => {
    const r = await run([path.join(FIXTURES, 'hot-host.json')]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[0]).toBe('tick 0 (0s): demand of 24 tenants');
    expect(r.out).toContain('ticks 1–2: no events, no demand changes, no moves');
    expect(r.out).toContain('tick 3 (30s): demand of t1, t4, t6');
    expect(r.out).toMatch(/ {2}h1 {4}up,HOT {2}\[#########-\] {2}87%/);
    expect(r.out).toMatch(/ {2}t1 {6}h1 → h2 {2}host-hot {2}h1 is hot/);
    expect(r.out).toContain('ticks 5–20: no events, no demand changes, no moves');
    expect(r.out).toContain('summary: 21 ticks of 10s, 8 hosts, 24 tenants');
    expect(r.out).toContain('  moves: 1 (host-hot 1); most for one tenant: 1 (t1)');
    expect(r.out).toContain('longest hot: 1 tick(s) (h1 from tick 3)');
    expect(r.out).toContain('  every tenant stayed on the hosts it needs at every tick');
  });

  it('exits 1 with 101804 after printing everything when a tenant is left on too few hosts', async () => {
    const two = {
      ...small,
      hosts: [host('a'), host('b')],
      assignments: { t: ['a', 'b'] },
      ticks: [small.ticks[0]],
    };
    const r = await run(['-'], Buffer.from(JSON.stringify(two)));
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      '1 tick(s) left a tenant on too few hosts; first: t on 2 (a b) after tick 0, needs 3',
    );
    expect(r.err).toContain('error 101804: 1 tick(s) left a tenant on fewer hosts than it needs');
    expect(r.err).toContain('  - first after tick 0: t on 2 host(s), needs 3');
  });
});

describe('overseer capacity simulate: bad scenarios exit 2 with their code', () => {
  it.each<[string, string, number, string]>([
    ['not JSON', '{"hosts": [', 101820, 'is not JSON'],
    [
      'too large',
      JSON.stringify({ ...small, ticks: [{ tick: 0 }, { tick: 10_000 }] }),
      101821,
      '  - $.ticks[1].tick: 10000; ticks run from 0 to at most 9999',
    ],
    [
      'the old format',
      JSON.stringify({ interval: '10s', hosts: [{ name: 's', count: 3 }] }),
      101803,
      '  - $: Unrecognized key: "interval"',
    ],
    [
      'a wrong type',
      JSON.stringify({ ...small, intervalSeconds: '10s' }),
      101803,
      '  - $.intervalSeconds: Invalid input: expected number, received string',
    ],
    [
      'an unknown host',
      JSON.stringify({ ...small, ticks: [{ tick: 0, events: [{ down: 'zz' }] }] }),
      101822,
      '  - $.ticks[0].events[0].down: no host zz in $.hosts',
    ],
    [
      'an inconsistent policy',
      JSON.stringify({ ...small, policy: { hotSamples: 5 } }),
      101801,
      '  - hotSamples must be at most windowSamples',
    ],
  ])('%s', async (_n, text, code, detail) => {
    const file = path.join(dir, 'bad.json');
    writeFileSync(file, text);
    const r = await run([file, '--json']);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(new RegExp(`^error ${code}: `));
    expect(r.err).toContain(detail);
    expect(r.err).toMatch(/\nhint: /);
  });

  it.each<[string, () => Promise<{ code: number; err: string }>, string]>([
    ['a missing file', () => run([path.join(dir, 'missing.json')]), 'ENOENT'],
    ['a directory', () => run([dir]), 'EISDIR'],
    [
      'standard input over the limit',
      () => run(['-'], Buffer.alloc(MAX_SCENARIO_BYTES + 1, 32)),
      'more than',
    ],
  ])('cannot read %s: exit 2 with 101802', async (_n, go, detail) => {
    const r = await go();
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error 101802: cannot read the scenario /);
    expect(r.err).toContain(detail);
  });
});
