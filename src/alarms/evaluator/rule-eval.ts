import { promIncrease, type TimedValue } from './increase.js';

/** One series of the error counter, with its labels (target labels included: job). Stale points left out. */
export interface CounterSeries {
  labels: Record<string, string>;
  points: readonly TimedValue[];
}

/** An error-code alerting rule, compiled: `sum by (job, code) (increase(errors_total{code}[range])) > threshold`. */
export interface CodeRule {
  alert: string;
  code: string;
  rangeMs: number;
  threshold: number;
  /** Labels the rule adds (severity, code, class). */
  labels: Record<string, string>;
}

/** A stable key for a label set. */
export function labelKey(labels: Record<string, string>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * The rule's expression at `now`, as Prometheus evaluates it: increase per series, summed by (job, code),
 * kept where above the threshold; each result labelled with job, code and the rule's labels (an empty
 * label is absent, as in Prometheus).
 */
export function ruleResults(
  rule: CodeRule,
  series: readonly CounterSeries[],
  now: number,
): Map<string, { labels: Record<string, string>; value: number }> {
  const sums = new Map<string, { job: string; value: number }>();
  for (const s of series) {
    if (s.labels.code !== rule.code) continue;
    const inc = promIncrease(s.points, now, rule.rangeMs);
    if (inc === undefined) continue;
    const job = s.labels.job ?? '';
    const g = sums.get(job);
    if (g === undefined) sums.set(job, { job, value: inc });
    else g.value += inc;
  }
  const out = new Map<string, { labels: Record<string, string>; value: number }>();
  for (const { job, value } of sums.values()) {
    if (!(value > rule.threshold)) continue;
    const labels: Record<string, string> = {
      ...(job === '' ? {} : { job }),
      code: rule.code,
      ...rule.labels,
    };
    out.set(labelKey(labels), { labels, value });
  }
  return out;
}
