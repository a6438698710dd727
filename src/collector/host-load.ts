import { labelOf } from './exposition/lexer.js';
import type { LabelPairs } from './exposition/types.js';
import type { Point } from './sample-window.js';

/** What host load is computed from: the series of one node_exporter target. */
export interface NodeSeriesReader {
  /** Series of a metric name with their labels. */
  rows(name: string): Array<{ series: string; labels: LabelPairs }>;
  /** Points of a series since `sinceMs`, oldest first. */
  points(series: string, sinceMs: number): Point[];
  /** Value in the latest scrape, undefined when absent. */
  latest(series: string): number | undefined;
}

export interface HostLoadValues {
  /** CPU utilisation 0..1 over the load window; undefined until two scrapes are in it. */
  cpu: number | undefined;
  /** 1 − available/total memory, 0..1. */
  memory: number | undefined;
  load1: number | undefined;
  /** The range the CPU ratio covers (first and last scrape used). */
  cpuWindow: { from: number; to: number } | undefined;
  /** Which memory formula applied: MemAvailable, or MemFree+Buffers+Cached on kernels without it. */
  memorySource: 'MemAvailable' | 'MemFree+Buffers+Cached' | undefined;
  /** CPUs of the host: how many idle series node_cpu_seconds_total has. */
  cpuCores: number | undefined;
  /** node_memory_MemTotal_bytes. */
  memoryBytes: number | undefined;
}

/** Counter increase over the points, counting a drop as a reset (as Prometheus's increase does). */
export function increase(points: readonly Point[]): number {
  let total = 0;
  for (let i = 1; i < points.length; i++) {
    const d = points[i]!.v - points[i - 1]!.v;
    total += d >= 0 ? d : points[i]!.v;
  }
  return total;
}

/**
 * Host load from node_exporter metrics, the way the node-mixin dashboards compute it:
 * cpu = 1 − idle share of the increase of node_cpu_seconds_total over the window, summed over all CPUs
 * and modes (the ratio of idle seconds to all seconds, so jitter in scrape times cancels out);
 * memory = 1 − MemAvailable/MemTotal, or (MemFree+Buffers+Cached)/MemTotal before Linux 3.14.
 */
export function hostLoad(reader: NodeSeriesReader, nowMs: number, loadWindowMs: number): HostLoadValues {
  const since = nowMs - loadWindowMs;
  let idle = 0;
  let all = 0;
  let from = Infinity;
  let to = -Infinity;
  let idleSeries = 0;
  for (const row of reader.rows('node_cpu_seconds_total')) {
    const isIdle = labelOf(row.labels, 'mode') === 'idle';
    if (isIdle) idleSeries++;
    const points = reader.points(row.series, since);
    if (points.length < 2) continue;
    const inc = increase(points);
    all += inc;
    if (isIdle) idle += inc;
    from = Math.min(from, points[0]!.t);
    to = Math.max(to, points.at(-1)!.t);
  }
  const cpu = all > 0 ? clamp01(1 - idle / all) : undefined;

  const value = (name: string): number | undefined => {
    const row = reader.rows(name)[0];
    return row === undefined ? undefined : reader.latest(row.series);
  };
  const total = value('node_memory_MemTotal_bytes');
  const available = value('node_memory_MemAvailable_bytes');
  let memory: number | undefined;
  let memorySource: HostLoadValues['memorySource'];
  if (total !== undefined && total > 0) {
    if (available !== undefined) {
      memory = clamp01(1 - available / total);
      memorySource = 'MemAvailable';
    } else {
      const free = value('node_memory_MemFree_bytes');
      const buffers = value('node_memory_Buffers_bytes') ?? 0;
      const cached = value('node_memory_Cached_bytes') ?? 0;
      if (free !== undefined) {
        memory = clamp01(1 - (free + buffers + cached) / total);
        memorySource = 'MemFree+Buffers+Cached';
      }
    }
  }
  return {
    cpu,
    memory,
    load1: value('node_load1'),
    cpuWindow: cpu === undefined ? undefined : { from, to },
    memorySource,
    cpuCores: idleSeries > 0 ? idleSeries : undefined,
    memoryBytes: total !== undefined && total > 0 ? total : undefined,
  };
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}
