/** A sample: time in ms and value. */
export interface TimedValue {
  t: number;
  v: number;
}

/**
 * PromQL `increase(x[range])` at `end` over the points of one series, as Prometheus 2.x computes it
 * (extrapolatedRate for a counter): resets add the value after the drop, and the result is extrapolated
 * to the edges of the range — all the way when the first/last sample is within 1.1 average intervals of
 * an edge, else half an interval — and never to before the counter would have been zero.
 * `points` must be oldest first; those outside [end - range, end] are ignored. Undefined with fewer than two.
 */
export function promIncrease(
  points: readonly TimedValue[],
  end: number,
  rangeMs: number,
): number | undefined {
  const start = end - rangeMs;
  let first: TimedValue | undefined;
  let last: TimedValue | undefined;
  let prev: TimedValue | undefined;
  let n = 0;
  let delta = 0;
  for (const p of points) {
    if (p.t < start || p.t > end) continue;
    if (first === undefined) first = p;
    else if (p.v < prev!.v) delta += prev!.v; // counter reset: count what was there before it
    prev = p;
    last = p;
    n++;
  }
  if (first === undefined || last === undefined || n < 2) return undefined;
  let result = last.v - first.v + delta;
  const sampled = (last.t - first.t) / 1000;
  const average = sampled / (n - 1);
  let toStart = (first.t - start) / 1000;
  const toEnd = (end - last.t) / 1000;
  if (result > 0 && first.v >= 0) {
    const toZero = sampled * (first.v / result);
    if (toZero < toStart) toStart = toZero;
  }
  const threshold = average * 1.1;
  let extrapolateTo = sampled;
  extrapolateTo += toStart < threshold ? toStart : average / 2;
  extrapolateTo += toEnd < threshold ? toEnd : average / 2;
  result *= extrapolateTo / sampled;
  return result;
}
