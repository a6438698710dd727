import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { AlarmCode } from '../src/alarms/code-catalog.js';
import { evaluateAlerts, type AlertInstance } from '../src/alarms/evaluator/alert-state.js';
import { compileCodeRules } from '../src/alarms/evaluator/compile.js';
import { CodeSums } from '../src/alarms/evaluator/code-sums.js';
import { ruleResults } from '../src/alarms/evaluator/rule-eval.js';
import { SampleWindow } from '../src/collector/sample-window.js';
import { alertAnnotations, errorCodeRulesYaml, promDuration } from '../src/dashboards/error-code-rules.js';
import { describeWithBinaries } from './helpers/integration.js';

const INTERVAL = 15_000;

function code(n: number, cls: 'server' | 'client'): AlarmCode {
  return {
    service: 'svc',
    name: `CODE_${n}`,
    code: n,
    class: cls,
    owner: null,
    description: null,
    runbookUrl: null,
    source: `src/x.ts:${n % 100}`,
    definedAt: 'src/errors.ts:1',
    alert: true,
    problems: [],
  };
}

/** promtool's series notation, the few forms used here: numbers, `_` (no sample), `stale`, `a+bxn`, `axn`. */
function expand(values: string): Array<number | '_' | 'stale'> {
  const out: Array<number | '_' | 'stale'> = [];
  for (const tok of values.trim().split(/\s+/)) {
    const m = /^(-?[\d.]+)(?:([+-][\d.]+))?x(\d+)$/.exec(tok);
    if (tok === '_' || tok === 'stale') out.push(tok);
    else if (m) for (let i = 0; i <= Number(m[3]); i++) out.push(Number(m[1]) + i * Number(m[2] ?? 0));
    else out.push(Number(tok));
  }
  return out;
}

/**
 * The input in a sample window, as the collector would hold it: one target per series (its job a target
 * label), a scrape per interval; `_` and `stale` are a scrape without the series (a stale marker), which
 * a range selection skips just as it skips a missing sample.
 */
function windowOf(steps: number): SampleWindow {
  const w = new SampleWindow({ windowMs: 10 * 60_000, intervalMs: INTERVAL, maxSeries: 1000 });
  for (let k = 0; k < steps; k++) {
    INPUT.forEach((s, i) => {
      const v = expand(s.values)[k];
      const series = `errors_total{code="${s.labels.code}"}`;
      const labels = ['code', s.labels.code!];
      const sample = {
        name: 'errors_total',
        labels,
        value: v as number,
        timestampMs: undefined,
        exemplar: undefined,
        family: 0,
        series,
      };
      w.append(`t${i}`, k * INTERVAL, typeof v === 'number' ? [sample] : []);
    });
  }
  return w;
}

const INPUT: Array<{ labels: Record<string, string>; values: string }> = [
  // One error, then flat: fires at once (server: for 0), keeps firing 5m, resolves.
  { labels: { job: 'api', code: '104211' }, values: '0 0 0 1x30 1x40' },
  // A counter reset: the restart is not an increase, the errors after it are.
  { labels: { job: 'worker', code: '104211' }, values: '3 4 5 5 0 0 0 0 0 0 1 2 2x50' },
  // Missing scrapes and a stale marker in the middle.
  { labels: { job: 'cron', code: '104211' }, values: '0 _ _ 2 2 stale _ _ 2 3 4x40' },
  // Client class: above the threshold (5/min) for longer than `for` (2m), then flat.
  { labels: { job: 'api', code: '104212' }, values: '0+2x24 48x40' },
  // Below the threshold: never fires.
  { labels: { job: 'web', code: '104212' }, values: '0+1x60' },
  // Two jobs of one code: summed per job, one alert each.
  { labels: { job: 'a', code: '104213' }, values: '0 0 0 0 1 2 3 3x60' },
  { labels: { job: 'b', code: '104213' }, values: '0x10 1 1x55' },
];

describeWithBinaries(['promtool'], 'built-in evaluator vs promtool test rules', (bins) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'overseer-eval-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const codes = [code(104211, 'server'), code(104212, 'client'), code(104213, 'server')];
  const classes = { client: { threshold: 5, for: 120_000, keepFiringFor: 300_000 } };
  const opts = { scrapeIntervalMs: INTERVAL, classes };
  const rules = compileCodeRules(codes, opts);
  const steps = Math.max(...INPUT.map((s) => expand(s.values).length)) + 4;
  const targets = INPUT.map((s, i) => ({ id: `t${i}`, job: s.labels.job! }));

  /** Firing alerts of each rule at each evaluation, as our evaluator sees them. */
  function simulate(): Array<{ t: number; alert: string; firing: AlertInstance[] }> {
    const out: Array<{ t: number; alert: string; firing: AlertInstance[] }> = [];
    const state = new Map(rules.map((r) => [r.alert, new Map<string, AlertInstance>()]));
    const sums = new CodeSums('errors_total');
    for (let k = 0; k < steps; k++) {
      const t = k * INTERVAL;
      // The window as it stood at t: only scrapes up to t (the evaluator never sees the future).
      sums.compute(windowOf(k + 1), targets, t, rules[0]!.rangeMs);
      for (const r of rules) {
        const alerts = state.get(r.alert)!;
        evaluateAlerts(alerts, ruleResults(r, sums.byJob(r.code)), t, r.timing);
        out.push({ t, alert: r.alert, firing: [...alerts.values()].filter((a) => a.state === 'firing') });
      }
    }
    return out;
  }

  function writeTest(expected: ReturnType<typeof simulate>): string {
    writeFileSync(path.join(dir, 'rules.yml'), errorCodeRulesYaml(codes, opts));
    const annotations = new Map(codes.map((c) => [String(c.code), alertAnnotations(c)]));
    const test = {
      rule_files: ['rules.yml'],
      evaluation_interval: promDuration(INTERVAL),
      tests: [
        {
          interval: promDuration(INTERVAL),
          input_series: INPUT.map((s) => ({
            series: `errors_total{${Object.entries(s.labels)
              .map(([k, v]) => `${k}="${v}"`)
              .join(',')}}`,
            values: s.values,
          })),
          alert_rule_test: expected.map((e) => ({
            eval_time: promDuration(e.t),
            alertname: e.alert,
            exp_alerts: e.firing.map((a) => ({
              exp_labels: a.labels,
              exp_annotations: annotations.get(a.labels.code!)!,
            })),
          })),
        },
      ],
    };
    const file = path.join(dir, 'rules.test.yml');
    writeFileSync(file, stringify(test, { lineWidth: 0 }));
    return file;
  }

  it('fires and resolves at exactly the evaluations where Prometheus does', () => {
    const expected = simulate();
    // The scenario exercises what it claims: every rule fires at some point, and stops again.
    for (const r of rules) {
      const history = expected.filter((e) => e.alert === r.alert).map((e) => e.firing.length);
      expect(Math.max(...history), r.alert).toBeGreaterThan(0);
      expect(history.at(-1), r.alert).toBe(0);
    }
    const r = spawnSync(bins.promtool, ['test', 'rules', writeTest(expected)], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it('the comparison can fail: one evaluation off, promtool disagrees', () => {
    const expected = simulate();
    const i = expected.findIndex((e) => e.firing.length > 0);
    expected[i] = { ...expected[i]!, firing: [] };
    const r = spawnSync(bins.promtool, ['test', 'rules', writeTest(expected)], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
  });
});
