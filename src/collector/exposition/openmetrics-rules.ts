import { parseOpenMetricsNumber } from './float.js';
import { labelOf } from './lexer.js';
import type { LabelPairs, MetricType } from './types.js';

/** Sample-name suffixes each OpenMetrics family type may use ('' is the bare family name). */
export const SUFFIXES: Readonly<Record<string, readonly string[]>> = {
  counter: ['_total', '_created'],
  gauge: [''],
  histogram: ['_bucket', '_count', '_sum', '_created'],
  gaugehistogram: ['_bucket', '_gcount', '_gsum'],
  summary: ['', '_count', '_sum', '_created'],
  info: ['_info'],
  stateset: [''],
  unknown: [''],
};

export const OPENMETRICS_TYPES = new Set(Object.keys(SUFFIXES));

/** Which suffixes may carry an exemplar. */
export function exemplarAllowed(type: MetricType, suffix: string): boolean {
  return (
    (type === 'counter' && suffix === '_total') ||
    ((type === 'histogram' || type === 'gaugehistogram') && suffix === '_bucket')
  );
}

/** The label whose values split one MetricPoint into samples; not part of the point's identity. */
export function pointLabel(type: MetricType, family: string): string | undefined {
  if (type === 'histogram' || type === 'gaugehistogram') return 'le';
  if (type === 'summary') return 'quantile';
  if (type === 'stateset') return family;
  return undefined;
}

/**
 * The invariants of one MetricPoint (the samples of a family sharing labels apart from `le`/`quantile`):
 * cumulative, ordered buckets ending in +Inf, a count that matches it, bounded quantiles, stateset and info
 * values. `add` returns a reason when a sample breaks one; `close` when the finished point is incomplete.
 */
export class PointCheck {
  private lastLe = -Infinity;
  private lastBucket = -Infinity;
  private infBucket: number | undefined;
  private count: number | undefined;
  private hasSum = false;
  private buckets = 0;

  constructor(
    readonly type: MetricType,
    readonly family: string,
  ) {}

  add(suffix: string, labels: LabelPairs, value: number): string | undefined {
    const t = this.type;
    if (t === 'counter' && suffix === '_total') return nonNegative('counter total', value);
    if (t === 'histogram' || t === 'gaugehistogram') {
      if (suffix === '_bucket') return this.bucket(labels, value);
      if (suffix === '_count' || suffix === '_gcount') {
        this.count = value;
        return nonNegative(`histogram ${suffix.slice(1)}`, value);
      }
      if (suffix === '_sum' || suffix === '_gsum') this.hasSum = true;
      return undefined;
    }
    if (t === 'summary') {
      if (suffix === '') {
        const q = labelOf(labels, 'quantile');
        if (q === undefined) return 'summary sample without a "quantile" label';
        const qv = parseOpenMetricsNumber(q, 0, q.length);
        if (qv === undefined || !(qv >= 0 && qv <= 1))
          return `quantile="${q}" is not a number between 0 and 1`;
        return undefined;
      }
      if (suffix === '_count') return nonNegative('summary count', value);
      return undefined;
    }
    if (t === 'stateset') {
      if (labelOf(labels, this.family) === undefined)
        return `stateset sample without a "${this.family}" label`;
      if (value !== 0 && value !== 1) return `stateset value must be 0 or 1, not ${value}`;
      return undefined;
    }
    if (t === 'info' && value !== 1) return `info value must be 1, not ${value}`;
    return undefined;
  }

  private bucket(labels: LabelPairs, value: number): string | undefined {
    const le = labelOf(labels, 'le');
    if (le === undefined) return 'histogram bucket without an "le" label';
    const bound = parseOpenMetricsNumber(le, 0, le.length);
    if (bound === undefined || Number.isNaN(bound)) return `le="${le}" is not a number`;
    if (bound <= this.lastLe) return `bucket le="${le}" is not above the previous bucket's bound`;
    const bad = nonNegative('bucket', value);
    if (bad) return bad;
    if (value < this.lastBucket)
      return `bucket le="${le}" is below the previous bucket: buckets are cumulative`;
    this.lastLe = bound;
    this.lastBucket = value;
    this.buckets++;
    if (bound === Infinity) this.infBucket = value;
    return undefined;
  }

  close(): string | undefined {
    if (this.type !== 'histogram' && this.type !== 'gaugehistogram') return undefined;
    if (this.infBucket === undefined) return 'histogram has no le="+Inf" bucket';
    if (this.count !== undefined && this.count !== this.infBucket) {
      return `histogram count ${this.count} differs from its +Inf bucket ${this.infBucket}`;
    }
    if (this.hasSum && this.count === undefined) return 'histogram has a sum but no count';
    return undefined;
  }
}

function nonNegative(what: string, v: number): string | undefined {
  return Number.isNaN(v) || v < 0 ? `${what} must be a non-negative number, not ${v}` : undefined;
}
