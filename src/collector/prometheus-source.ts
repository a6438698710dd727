import { z } from 'zod';
import { ErrorCodes, OverseerError } from '../errors/index.js';
import type { HostLoad, MetricsSource } from './metrics-source.js';
import { hostFromLabels } from './scrape/target.js';

const vectorResponse = z.object({
  status: z.literal('success'),
  data: z.object({
    resultType: z.literal('vector'),
    result: z.array(
      z.object({ metric: z.record(z.string(), z.string()), value: z.tuple([z.number(), z.string()]) }),
    ),
  }),
});

export interface PrometheusSourceDeps {
  url: string;
  loadWindowMs: number;
  timeoutMs: number;
}

type Vector = Map<string, { labels: Record<string, string>; value: number; t: number }>;

/** Target identity of a result series: every label but the metric name. */
function keyOf(labels: Record<string, string>): string {
  return JSON.stringify(
    Object.entries(labels)
      .filter(([k]) => k !== '__name__')
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
}

/**
 * Host load from a Prometheus server (scale-out mode), with the same formulas as the scrape path, in
 * PromQL: the idle share of all CPU seconds over the load window, MemAvailable (or the pre-3.14 fallback),
 * load1, and `up` of the node target.
 */
export class PrometheusSource implements MetricsSource {
  readonly kind = 'prometheus' as const;

  constructor(private readonly deps: PrometheusSourceDeps) {}

  async hosts(): Promise<HostLoad[]> {
    const w = `${Math.max(1, Math.round(this.deps.loadWindowMs / 1000))}s`;
    const [cpu, avail, fallback, load1, up, cores, memTotal] = await Promise.all([
      this.query(
        `1 - sum without (cpu, mode) (increase(node_cpu_seconds_total{mode="idle"}[${w}])) / sum without (cpu, mode) (increase(node_cpu_seconds_total[${w}]))`,
      ),
      this.query('1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes'),
      this.query(
        '1 - (node_memory_MemFree_bytes + node_memory_Buffers_bytes + node_memory_Cached_bytes) / node_memory_MemTotal_bytes',
      ),
      this.query('node_load1'),
      this.query('up'),
      this.query('count without (cpu, mode) (node_cpu_seconds_total{mode="idle"})'),
      this.query('node_memory_MemTotal_bytes'),
    ]);
    const keys = new Set([...cpu.keys(), ...avail.keys(), ...fallback.keys(), ...load1.keys()]);
    const hosts: HostLoad[] = [];
    for (const key of keys) {
      const labels = (cpu.get(key) ?? avail.get(key) ?? fallback.get(key) ?? load1.get(key))!.labels;
      const { __name__: _, ...target } = labels;
      const mem = avail.get(key) ?? fallback.get(key);
      const upSample = up.get(key);
      hosts.push({
        host: hostFromLabels(target),
        cpu: clamp(cpu.get(key)?.value),
        memory: clamp(mem?.value),
        load1: load1.get(key)?.value ?? null,
        up: upSample?.value === 1,
        lastScrape: upSample ? new Date(upSample.t * 1000).toISOString() : null,
        labels: target,
        source: 'prometheus',
        cpuWindowSeconds: cpu.has(key) ? this.deps.loadWindowMs / 1000 : null,
        memorySource: avail.has(key) ? 'MemAvailable' : fallback.has(key) ? 'MemFree+Buffers+Cached' : null,
        cpuCores: positive(cores.get(key)?.value),
        memoryBytes: positive(memTotal.get(key)?.value),
      });
    }
    return hosts.sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
  }

  private async query(promql: string): Promise<Vector> {
    const url = new URL('/api/v1/query', this.deps.url);
    url.searchParams.set('query', promql);
    let body: unknown;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(this.deps.timeoutMs) });
      body = await res.json();
      const parsed = vectorResponse.parse(body);
      const out: Vector = new Map();
      for (const r of parsed.data.result) {
        out.set(keyOf(r.metric), { labels: r.metric, value: Number(r.value[1]), t: r.value[0] });
      }
      return out;
    } catch (cause) {
      throw new OverseerError(
        ErrorCodes.PROMETHEUS_QUERY_FAILED,
        `query to Prometheus at ${this.deps.url} failed`,
        {
          status: 502,
          details: [
            promql,
            cause instanceof Error ? cause.message : String(cause),
            JSON.stringify(body ?? null).slice(0, 300),
          ],
          hint: 'check collector.prometheus.url and that Prometheus scrapes node_exporter (GET /api/v1/targets/file_sd gives it the fleet)',
          cause,
        },
      );
    }
  }
}

function positive(v: number | undefined): number | null {
  return v !== undefined && Number.isFinite(v) && v > 0 ? v : null;
}

function clamp(v: number | undefined): number | null {
  if (v === undefined || Number.isNaN(v)) return null;
  return Math.min(1, Math.max(0, v));
}
