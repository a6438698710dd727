/**
 * The little PromQL the generators write, built from checked parts only: a metric or label name that is not
 * a legacy Prometheus name (Prometheus 2.x, the Debian one, cannot select UTF-8 names) never reaches an
 * expression, and label values are quoted with PromQL's escapes. Generated text is therefore valid PromQL
 * whatever the catalog holds.
 */

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function isMetricName(s: string): boolean {
  return METRIC_NAME.test(s);
}

/** A label name usable in a selector or `by (…)`; `__`-prefixed names are Prometheus's own. */
export function isLabelName(s: string): boolean {
  return LABEL_NAME.test(s) && !s.startsWith('__');
}

/** A PromQL double-quoted string. */
export function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface Matcher {
  label: string;
  op: MatchOp;
  value: string;
}

export const m = (label: string, op: MatchOp, value: string): Matcher => ({ label, op, value });

/** Dashboard variables as matchers: `job=~"$job"`, `instance=~"$instance"` (multi-value variables). */
export const JOB: Matcher = m('job', '=~', '$job');
export const INSTANCE: Matcher = m('instance', '=~', '$instance');
/** Grafana's rate range: at least four scrape intervals for the panel's step. */
export const RATE_INTERVAL = '$__rate_interval';

/** `name{a="x",b=~"y"}`; throws on a name no PromQL can select (callers filter names first). */
export function selector(name: string, matchers: readonly Matcher[] = []): string {
  if (!isMetricName(name)) throw new Error(`not a metric name: ${JSON.stringify(name)}`);
  for (const x of matchers)
    if (!LABEL_NAME.test(x.label)) throw new Error(`not a label name: ${JSON.stringify(x.label)}`);
  if (matchers.length === 0) return name;
  return `${name}{${matchers.map((x) => `${x.label}${x.op}${quote(x.value)}`).join(',')}}`;
}

/** `by (a, b)`, empty for no labels. */
export function by(labels: readonly string[]): string {
  for (const l of labels) if (!LABEL_NAME.test(l)) throw new Error(`not a label name: ${JSON.stringify(l)}`);
  return labels.length === 0 ? '' : ` by (${labels.join(', ')})`;
}

export const rate = (sel: string, range = RATE_INTERVAL): string => `rate(${sel}[${range}])`;
export const sum = (expr: string, labels: readonly string[] = []): string => `sum${by(labels)} (${expr})`;
