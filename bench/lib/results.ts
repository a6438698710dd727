import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { format, resolveConfig } from 'prettier';

/** A goal on the measured value and/or on the ratio to the baseline; a result passes when all hold. */
export interface Goal {
  maxValue?: number;
  minValue?: number;
  minRatio?: number;
  maxRatio?: number;
  text: string;
}

export interface Result {
  name: string;
  unit: string;
  value: number | null;
  baseline: { name: string; value: number | null };
  /** How `ratio` is formed, e.g. `baseline/ours` (speed-up) or `ours/baseline` (cost). */
  ratioOf: string;
  ratio: number | null;
  /** Absent for informational numbers. */
  goal: Goal | null;
  pass: boolean | null;
  notes?: string[];
  error?: string;
}

export interface Environment {
  node: string;
  cpuModel: string;
  cpuCount: number;
  platform: string;
  date: string;
}

export interface ScenarioRecord {
  environment: Environment;
  results: Result[];
}

export function environment(): Environment {
  const cpuList = cpus();
  return {
    node: process.version,
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    cpuCount: cpuList.length,
    platform: `${process.platform} ${process.arch}`,
    date: new Date().toISOString(),
  };
}

export function judge(value: number | null, ratio: number | null, goal: Goal): boolean {
  if (value === null || ratio === null) return false;
  if (goal.maxValue !== undefined && !(value <= goal.maxValue)) return false;
  if (goal.minValue !== undefined && !(value >= goal.minValue)) return false;
  if (goal.minRatio !== undefined && !(ratio >= goal.minRatio)) return false;
  if (goal.maxRatio !== undefined && !(ratio <= goal.maxRatio)) return false;
  return true;
}

/**
 * Rewrites `file` with this run's scenarios; scenarios not run this time keep their previous record.
 * Formatted by prettier so `npm run lint` (prettier --check .) stays green after a bench run.
 */
export async function saveResults(file: string, records: Record<string, ScenarioRecord>): Promise<void> {
  let previous: Record<string, ScenarioRecord> = {};
  if (existsSync(file)) {
    try {
      previous =
        (JSON.parse(readFileSync(file, 'utf8')) as { scenarios?: Record<string, ScenarioRecord> })
          .scenarios ?? {};
    } catch {
      previous = {};
    }
  }
  const json = JSON.stringify({ scenarios: { ...previous, ...records } });
  writeFileSync(file, await format(json, { ...(await resolveConfig(file)), parser: 'json' }));
}

function fmt(n: number | null): string {
  if (n === null) return '—';
  return Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 1 ? n.toFixed(2) : n.toPrecision(3);
}

/** One human line per result: value, baseline from the same run, ratio, goal, verdict. */
export function formatResult(scenario: string, r: Result): string {
  const verdict = r.pass === null ? 'info' : r.pass ? 'PASS' : 'FAIL';
  const lines = [
    `${verdict.padEnd(4)} ${scenario}/${r.name}: ${fmt(r.value)} ${r.unit}` +
      `  vs ${r.baseline.name} ${fmt(r.baseline.value)} ${r.unit}` +
      `  ratio ${r.ratioOf} = ${r.ratio === null ? '—' : `${fmt(r.ratio)}×`}` +
      (r.goal ? `  goal: ${r.goal.text}` : ''),
  ];
  for (const note of r.notes ?? []) lines.push(`       ${note}`);
  if (r.error) lines.push(`       error: ${r.error}`);
  return lines.join('\n');
}
