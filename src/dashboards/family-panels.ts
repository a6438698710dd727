import { CARDINALITY_CAP, type CatalogEntry } from '../collector/catalog.js';
import { by, isLabelName, isMetricName, m, rate, selector, sum, type Matcher } from './promql.js';
import type { PanelSpec, QuerySpec } from './spec.js';
import { unitFor } from './units.js';

/**
 * The panels one metric family gets, chosen from its type, its unit and the cardinality of its labels.
 * Every expression goes through promql.ts, so no catalog text reaches PromQL unchecked or unquoted.
 */

/** How a family is drawn; the catalog's nine types fold into these. */
export type Shape = 'counter' | 'gauge' | 'histogram' | 'summary' | 'info';

/** Past this many series a family is only ever shown aggregated (per-series panels would stall Grafana). */
export const SERIES_WARN = 10_000;
/** A label is worth a line per value when it has this many values: one line says nothing, 20+ is noise. */
export const GROUP_MIN_VALUES = 2;
export const GROUP_MAX_VALUES = 20;
/** Labels people slice by, most telling first; any other label that fits comes after, by name. */
export const PREFERRED_LABELS = [
  'code',
  'status',
  'status_code',
  'method',
  'route',
  'handler',
  'endpoint',
  'path',
  'operation',
  'op',
  'result',
  'reason',
  'type',
  'mode',
  'device',
];
/** Target labels say where a series comes from (the dashboard's variables), le/quantile are structure. */
const NEVER_GROUPED = new Set(['job', 'instance', 'le', 'quantile']);
export const QUANTILES = [0.5, 0.9, 0.99];

export interface FamilyPanels {
  panels: PanelSpec[];
  warnings: string[];
}

/**
 * The shape a family is drawn as, or none (with the reason): a name PromQL cannot select, a name targets
 * declare with clashing types (any panel would mix them), a gaugehistogram (no sensible aggregate over
 * instances without knowing its buckets' meaning). Untyped families are guessed from the `_total` suffix.
 * A stateset is drawn as a gauge: each state is a 0/1 series labelled by the family name.
 */
export function shapeOf(e: CatalogEntry): { shape: Shape | undefined; warnings: string[] } {
  if (!isMetricName(e.name))
    return { shape: undefined, warnings: [`${JSON.stringify(e.name)}: not a valid metric name: not shown`] };
  if (e.conflictingTypes.length > 0) {
    const types = [e.type, ...e.conflictingTypes].join(', ');
    return {
      shape: undefined,
      warnings: [`${e.name}: targets declare clashing types (${types}): not shown`],
    };
  }
  switch (e.type) {
    case 'counter':
    case 'gauge':
    case 'histogram':
    case 'summary':
    case 'info':
      return { shape: e.type, warnings: [] };
    case 'stateset':
      return { shape: 'gauge', warnings: [] };
    case 'untyped':
    case 'unknown': {
      const shape = e.name.endsWith('_total') ? 'counter' : 'gauge';
      return { shape, warnings: [`${e.name}: no TYPE: shown as ${shape}`] };
    }
    case 'gaugehistogram':
      return { shape: undefined, warnings: [`${e.name}: gaugehistogram: not shown`] };
  }
}

/**
 * Labels fit to group by, best first: valid names, not target or structural labels, with
 * GROUP_MIN_VALUES..GROUP_MAX_VALUES distinct values; the PREFERRED_LABELS in their order, then the rest
 * by name. Labels that can never be grouped by (invalid name, at the cardinality cap) come with a warning.
 */
export function groupCandidates(e: CatalogEntry): { labels: string[]; warnings: string[] } {
  const fits: string[] = [];
  const warnings: string[] = [];
  for (const l of [...e.labelNames].sort()) {
    if (NEVER_GROUPED.has(l)) continue;
    if (!isLabelName(l)) {
      warnings.push(`${e.name}: label ${JSON.stringify(l)} is not a valid label name: never grouped by`);
      continue;
    }
    // hasOwn: labelValues is a plain object and a label may be called `constructor`.
    const n = Object.hasOwn(e.labelValues, l) ? (e.labelValues[l] ?? 0) : 0;
    if (n >= CARDINALITY_CAP)
      warnings.push(`${e.name}: label ${l} has at least ${CARDINALITY_CAP} values: never grouped by`);
    else if (n >= GROUP_MIN_VALUES && n <= GROUP_MAX_VALUES) fits.push(l);
  }
  const preferred = PREFERRED_LABELS.filter((l) => fits.includes(l));
  return { labels: [...preferred, ...fits.filter((l) => !preferred.includes(l))], warnings };
}

/** The sample a counter's rate reads: `foo_total` of an OpenMetrics family `foo`, else the family name. */
export function counterSample(e: CatalogEntry): string {
  const total = `${e.name}_total`;
  return e.sampleNames.includes(total) ? total : e.name;
}

/** `histogram_quantile(q, sum by (le, …) (rate(bucket[…])))`: buckets of all instances merged first. */
export function histogramQuantile(q: number, bucket: string, labels: readonly string[] = []): string {
  return `histogram_quantile(${q}, ${sum(rate(bucket), ['le', ...labels])})`;
}

const aggregate = (op: 'avg' | 'max' | 'min', expr: string, labels: readonly string[] = []): string =>
  `${op}${by(labels)} (${expr})`;

const legendOf = (label: string): string => `{{${label}}}`;

function panel(e: CatalogEntry, suffix: string, unit: string, queries: QuerySpec[]): PanelSpec {
  return {
    kind: 'timeseries',
    title: suffix === '' ? e.name : `${e.name} (${suffix})`,
    ...(e.help !== undefined && e.help !== '' ? { description: e.help } : {}),
    unit,
    queries,
  };
}

function counterPanels(e: CatalogEntry, base: Matcher[], label: string | undefined): PanelSpec[] {
  const r = rate(selector(counterSample(e), base));
  const q =
    label === undefined
      ? { expr: sum(r), legend: 'total' }
      : { expr: sum(r, [label]), legend: legendOf(label) };
  return [panel(e, '', unitFor(e, 'rate'), [q])];
}

function gaugePanels(e: CatalogEntry, base: Matcher[], label: string | undefined): PanelSpec[] {
  const sel = selector(e.name, base);
  const qs =
    label === undefined
      ? (['avg', 'max', 'min'] as const).map((op) => ({ expr: aggregate(op, sel), legend: op }))
      : [{ expr: aggregate('max', sel, [label]), legend: legendOf(label) }];
  return [panel(e, '', unitFor(e, 'value'), qs)];
}

function histogramPanels(e: CatalogEntry, base: Matcher[], label: string | undefined): PanelSpec[] {
  const has = (suffix: string): boolean => e.sampleNames.includes(`${e.name}${suffix}`);
  const unit = unitFor(e, 'value');
  const out: PanelSpec[] = [];
  if (has('_bucket')) {
    const bucket = selector(`${e.name}_bucket`, base);
    const qs =
      label === undefined
        ? QUANTILES.map((q) => ({ expr: histogramQuantile(q, bucket), legend: `p${q * 100}` }))
        : [{ expr: histogramQuantile(0.9, bucket, [label]), legend: legendOf(label) }];
    out.push(panel(e, '', unit, qs));
  }
  // OpenMetrics makes _sum and _count optional; a mean needs both.
  if (has('_sum') && has('_count')) {
    const mean = `${sum(rate(selector(`${e.name}_sum`, base)))} / ${sum(rate(selector(`${e.name}_count`, base)))}`;
    out.push(panel(e, 'mean', unit, [{ expr: mean, legend: 'mean' }]));
  }
  return out;
}

/** Quantiles of different instances cannot be averaged or summed into a quantile: one line per series. */
function summaryPanels(e: CatalogEntry, base: Matcher[], label: string | undefined): PanelSpec[] {
  const out: PanelSpec[] = [];
  // client_golang summaries have no quantiles by default: only _sum and _count.
  if (e.sampleNames.includes(e.name) && e.series <= SERIES_WARN) {
    const legend =
      label === undefined ? '{{instance}} q{{quantile}}' : `{{instance}} {{${label}}} q{{quantile}}`;
    const expr = selector(e.name, [...base, m('quantile', '!=', '')]);
    out.push(panel(e, '', unitFor(e, 'value'), [{ expr, legend }]));
  }
  if (e.sampleNames.includes(`${e.name}_count`)) {
    const r = rate(selector(`${e.name}_count`, base));
    const q =
      label === undefined
        ? { expr: sum(r), legend: 'total' }
        : { expr: sum(r, [label]), legend: legendOf(label) };
    // Events per second, whatever unit the observations have.
    out.push(panel(e, 'rate', 'ops', [q]));
  }
  return out;
}

/** Info families are label sets with value 1: a table of the current ones, unless there are too many. */
function infoPanels(e: CatalogEntry, base: Matcher[]): PanelSpec[] {
  if (e.series > SERIES_WARN) return [];
  const sample = e.sampleNames.includes(`${e.name}_info`) ? `${e.name}_info` : e.name;
  return [{ ...panel(e, '', 'short', [{ expr: selector(sample, base), instant: true }]), kind: 'table' }];
}

function draw(shape: Shape, e: CatalogEntry, base: Matcher[], label: string | undefined): PanelSpec[] {
  switch (shape) {
    case 'counter':
      return counterPanels(e, base, label);
    case 'gauge':
      return gaugePanels(e, base, label);
    case 'histogram':
      return histogramPanels(e, base, label);
    case 'summary':
      return summaryPanels(e, base, label);
    case 'info':
      return infoPanels(e, base);
  }
}

/**
 * The panels of one family under `base` (the dashboard's matchers, e.g. job and `$instance`), and why
 * anything was left out. Deterministic: same entry, same panels.
 */
export function panelsForFamily(entry: CatalogEntry, base: Matcher[]): FamilyPanels {
  const { shape, warnings } = shapeOf(entry);
  if (shape === undefined) return { panels: [], warnings };
  const groups = groupCandidates(entry);
  warnings.push(...groups.warnings);
  const panels = draw(shape, entry, base, groups.labels[0]);
  if (panels.length === 0) {
    const why = entry.series > SERIES_WARN ? `${entry.series} series and no aggregate` : 'no samples to draw';
    warnings.push(`${entry.name}: ${shape} not shown: ${why}`);
  } else if (entry.series > SERIES_WARN) {
    warnings.push(`${entry.name}: ${entry.series} series (over ${SERIES_WARN}): shown aggregated only`);
  }
  return { panels, warnings };
}
