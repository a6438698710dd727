import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runOverseer } from './helpers/cli-process.js';

const fixture = (name: string): string => path.join(repoRoot, 'test/fixtures/capacity', `${name}.json`);
const dir = mkdtempSync(path.join(tmpdir(), 'overseer-simulate-e2e-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Line {
  tick: number;
  moves: Array<{ tenant: string; from: string | null; to: string | null }>;
  assignments: Record<string, string[]>;
  hostLoad: Record<string, { cpu: number; memory: number }>;
}

describe('overseer capacity simulate, the built CLI as a process', () => {
  it('--json: one line per tick, each with exactly the contract’s keys', async () => {
    const r = await runOverseer(['capacity', 'simulate', fixture('host-down'), '--json'], {});
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const scenario = JSON.parse(readFileSync(fixture('host-down'), 'utf8')) as {
      hosts: Array<{ name: string }>;
      tenants: Array<{ name: string }>;
      ticks: Array<{ tick: number }>;
    };
    const text = r.stdout.trimEnd().split('\n');
    expect(text).toHaveLength(scenario.ticks.at(-1)!.tick + 1);
    const lines = text.map((l) => JSON.parse(l) as Line);
    lines.forEach((line, i) => {
      expect(Object.keys(line)).toEqual(['tick', 'moves', 'assignments', 'hostLoad']);
      expect(line.tick).toBe(i);
      for (const m of line.moves) expect(Object.keys(m)).toEqual(['tenant', 'from', 'to']);
      expect(Object.keys(line.assignments)).toEqual(scenario.tenants.map((t) => t.name));
      expect(Object.keys(line.hostLoad)).toEqual(scenario.hosts.map((h) => h.name));
      for (const l of Object.values(line.hostLoad)) {
        expect(Object.keys(l)).toEqual(['cpu', 'memory']);
        expect(l.cpu).toBeGreaterThan(0);
        expect(l.memory).toBeGreaterThan(0);
      }
      for (const hosts of Object.values(line.assignments)) expect(hosts.length).toBeGreaterThanOrEqual(3);
    });
    // h2 goes down at tick 5: evacuated at tick 6, and no tenant is on it from then on.
    expect(lines[5]!.moves).toEqual([]);
    expect(lines[6]!.moves.length).toBe(15);
    expect(lines[6]!.moves.every((m) => m.from === 'h2' && m.to !== null && m.to !== 'h2')).toBe(true);
    for (const line of lines.slice(6))
      expect(Object.values(line.assignments).some((hosts) => hosts.includes('h2'))).toBe(false);
  });

  it('text: the ticks that did something, the moves with their reasons, host bars and a summary', async () => {
    const r = await runOverseer(['capacity', 'simulate', fixture('drain')], {});
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('tick 2 (20s): drain h1');
    expect(r.stdout).toMatch(/ {2}t1 {6}h1 → h\d {2}drain {3}h1 is draining; t1 moves to h\d/);
    expect(r.stdout).toMatch(/ {2}h1 {4}up,draining {2}\[[#-]{10}\] +\d+%/);
    expect(r.stdout).toContain('note: 8 move(s) wait for a later cycle: budgets of 4 moves per cycle');
    expect(r.stdout).toContain('summary: 13 ticks of 10s, 8 hosts, 32 tenants');
    expect(r.stdout).toContain('  moves: 12 (drain 12)');
    expect(r.stdout).toContain('  every tenant stayed on the hosts it needs at every tick');
  });

  it('a bad scenario: exit 2, the code, the JSON path and a hint on stderr, nothing on stdout', async () => {
    const file = path.join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ hosts: [{ name: 'h1', cpuCores: 8 }], ticks: [{ tick: 0 }] }));
    const r = await runOverseer(['capacity', 'simulate', file, '--json'], {});
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`error 101803: ${file} is not a valid capacity scenario`);
    expect(r.stderr).toContain('  - $.hosts[0].memoryBytes: Invalid input');
    expect(r.stderr).toContain('hint: docs/capacity-simulator.md describes the format');
  });
});
