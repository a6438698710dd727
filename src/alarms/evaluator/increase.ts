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
  const t = new Float64Array(points.length);
  const v = new Float64Array(points.length);
  points.forEach((p, i) => {
    t[i] = p.t;
    v[i] = p.v;
  });
  return promIncreaseOf(t, v, points.length, end, rangeMs);
}

/** `promIncrease` over the first `n` entries of parallel time/value arrays (no object per point). */
export function promIncreaseOf(
  ts: ArrayLike<number>,
  vs: ArrayLike<number>,
  n: number,
  end: number,
  rangeMs: number,
): number | undefined {
  const start = end - rangeMs;
  let first = -1;
  let last = -1;
  let count = 0;
  let delta = 0;
  for (let i = 0; i < n; i++) {
    const t = ts[i]!;
    if (t < start || t > end) continue;
    // A drop is a counter reset: count what was there before it.
    if (first < 0) first = i;
    else if (vs[i]! < vs[last]!) delta += vs[last]!;
    last = i;
    count++;
  }
  if (count < 2) return undefined;
  const firstT = ts[first]!;
  const firstV = vs[first]!;
  const lastT = ts[last]!;
  let result = vs[last]! - firstV + delta;
  const sampled = (lastT - firstT) / 1000;
  const average = sampled / (count - 1);
  let toStart = (firstT - start) / 1000;
  const toEnd = (end - lastT) / 1000;
  if (result > 0 && firstV >= 0) {
    const toZero = sampled * (firstV / result);
    if (toZero < toStart) toStart = toZero;
  }
  const threshold = average * 1.1;
  let extrapolateTo = sampled;
  extrapolateTo += toStart < threshold ? toStart : average / 2;
  extrapolateTo += toEnd < threshold ? toEnd : average / 2;
  result *= extrapolateTo / sampled;
  return result;
}
