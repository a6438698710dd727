import { readFileSync } from 'node:fs';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { parseExposition } from '../../src/collector/exposition/parse.js';
import { progress } from '../lib/progress.js';
import { judge, type Goal, type Result } from '../lib/results.js';
import type { Scenario } from '../lib/scenario.js';
import { timeLoop, type LoopBounds } from './time-loop.js';

const FIXTURE = new URL('../fixtures/node-exporter.prom', import.meta.url);
const BASELINE = 'parse-prometheus-text-format';
const GOAL: Goal = { maxValue: 400, minRatio: 9, text: '≤ 400 ns/sample and ≥ 9× faster than the baseline' };
const BOUNDS: LoopBounds = { warmupMs: 500, minMs: 2_000, maxIterations: 1_000_000 };

/** Samples = sample lines: every line that is neither blank nor a comment. */
export function countSampleLines(text: string): number {
  let n = 0;
  for (const line of text.split('\n')) if (line.trim() !== '' && !line.startsWith('#')) n++;
  return n;
}

function run(): Promise<Result[]> {
  const text = readFileSync(FIXTURE, 'utf8');
  const samples = countSampleLines(text);
  const ourCount = parseExposition(text, 'prometheus').samples.length;
  if (ourCount !== samples)
    throw new Error(`Overseer parsed ${ourCount} samples, the fixture has ${samples}`);

  progress(
    `parse: ${BASELINE}, ${samples} samples, ≥ ${BOUNDS.minMs / 1000} s after ${BOUNDS.warmupMs} ms warm-up`,
  );
  const base = timeLoop(() => parsePrometheusTextFormat(text).length, BOUNDS);
  progress(`parse: Overseer parseExposition, same bounds`);
  const ours = timeLoop(() => parseExposition(text, 'prometheus').samples.length, BOUNDS);
  // What a scrape runs: no label arrays, duplicates left to the sample window's lookup (informational).
  progress(`parse: Overseer parseExposition as the scrape path calls it, same bounds`);
  const lean = timeLoop(
    () => parseExposition(text, 'prometheus', { labels: false, checkDuplicates: false }).samples.length,
    BOUNDS,
  );

  const perSample = (t: { elapsedNs: number; iterations: number }): number =>
    t.elapsedNs / t.iterations / samples;
  const value = perSample(ours);
  const baseline = perSample(base);
  const ratio = baseline / value;
  return Promise.resolve([
    {
      name: 'node-exporter',
      unit: 'ns/sample',
      value,
      baseline: { name: BASELINE, value: baseline },
      ratioOf: 'baseline/ours',
      ratio,
      goal: GOAL,
      pass: judge(value, ratio, GOAL),
      notes: [
        `fixture bench/fixtures/node-exporter.prom: ${samples} samples, ${text.length} bytes`,
        `iterations: ours ${ours.iterations}, baseline ${base.iterations}`,
      ],
    },
    {
      name: 'node-exporter-scrape-path',
      unit: 'ns/sample',
      value: perSample(lean),
      baseline: { name: BASELINE, value: baseline },
      ratioOf: 'baseline/ours',
      ratio: baseline / perSample(lean),
      goal: null,
      pass: null,
      notes: ['parseExposition(text, "prometheus", { labels: false, checkDuplicates: false })'],
    },
  ]);
}

export const parseScenario: Scenario = {
  name: 'parse',
  description: 'ns/sample parsing a captured node_exporter body, vs parse-prometheus-text-format',
  run,
};
