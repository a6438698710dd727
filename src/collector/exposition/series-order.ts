import { parseGoFloat } from './float.js';
import type { LabelPairs, MetricType } from './types.js';

/**
 * The order exporters write a family in, used to prove "no duplicate series" with one comparison per
 * sample instead of a hash set: group labels (everything but `le`/`quantile`) pair by pair, then the
 * sample name's rank in the family (`foo` < `foo_bucket` < `foo_sum` < `foo_count`, client_golang's
 * order), then the bucket bound or quantile as a number. While samples strictly increase in this order no
 * two can be the same series. Requires group label names sorted, so equal sets are equal lists.
 */
export function pointLabelOf(type: MetricType): 'le' | 'quantile' | undefined {
  return type === 'histogram' ? 'le' : type === 'summary' ? 'quantile' : undefined;
}

/** Label names sorted, ignoring the point label (client_golang writes `le` last). */
export function groupSorted(labels: LabelPairs, point: string | undefined): boolean {
  let prev = '';
  for (let i = 0; i < labels.length; i += 2) {
    const n = labels[i]!;
    if (n === point) continue;
    if (!(prev < n)) return false;
    prev = n;
  }
  return true;
}

export interface OrderedFamily {
  name: string;
  owned: readonly string[];
}

function rank(fam: OrderedFamily, name: string): number {
  return name === fam.name ? 0 : fam.owned.indexOf(name) + 1;
}

function pointValue(labels: LabelPairs, point: string): number | undefined {
  for (let i = 0; i < labels.length; i += 2) {
    if (labels[i] === point) return parseGoFloat(labels[i + 1]!, 0, labels[i + 1]!.length);
  }
  return undefined;
}

/** True when (cur) comes strictly after (prev) in the family order above. */
export function follows(
  fam: OrderedFamily,
  point: string | undefined,
  prevName: string,
  prev: LabelPairs,
  name: string,
  cur: LabelPairs,
): boolean {
  let i = 0;
  let j = 0;
  for (;;) {
    while (i < prev.length && prev[i] === point) i += 2;
    while (j < cur.length && cur[j] === point) j += 2;
    if (i >= prev.length) {
      if (j < cur.length) return true;
      break;
    }
    if (j >= cur.length) return false;
    const pn = prev[i]!;
    const cn = cur[j]!;
    if (pn !== cn) return cn > pn;
    const pv = prev[i + 1]!;
    const cv = cur[j + 1]!;
    if (pv !== cv) return cv > pv;
    i += 2;
    j += 2;
  }
  const rp = rank(fam, prevName);
  const rc = rank(fam, name);
  if (rp !== rc) return rc > rp;
  if (point === undefined) return false;
  const a = pointValue(prev, point);
  const b = pointValue(cur, point);
  return a !== undefined && b !== undefined && b > a;
}
