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
 * The rule's expression from the increase sums of its code by job (`sum by (job, code) (increase(…))`, see
 * CodeSums): kept where above the threshold, as Prometheus evaluates it; each result labelled with job,
 * code and the rule's labels (an empty label is absent, as in Prometheus).
 */
export function ruleResults(
  rule: CodeRule,
  sumsByJob: ReadonlyMap<string, number>,
): Map<string, { labels: Record<string, string>; value: number }> {
  const out = new Map<string, { labels: Record<string, string>; value: number }>();
  for (const [job, value] of sumsByJob) {
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
