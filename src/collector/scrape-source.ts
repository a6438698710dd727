import type { Clock } from '../clock.js';
import { hostLoad } from './host-load.js';
import type { HostLoad, MetricsSource } from './metrics-source.js';
import type { SampleWindow } from './sample-window.js';
import { hostOf } from './scrape/target.js';
import type { TargetStatus } from './scrape/target-status.js';

export interface ScrapeSourceDeps {
  window: SampleWindow;
  statuses: () => Iterable<TargetStatus>;
  loadWindowMs: number;
  clock: Clock;
}

/**
 * Host load from the sample window. A host is what its targets' `host` label (else instance) names; the
 * target carrying node_exporter metrics gives its load. Hosts with no node metrics are listed with nulls.
 */
export class ScrapeSource implements MetricsSource {
  readonly kind = 'scrape' as const;

  constructor(private readonly deps: ScrapeSourceDeps) {}

  hosts(): Promise<HostLoad[]> {
    const { window } = this.deps;
    const byHost = new Map<string, HostLoad>();
    for (const s of this.deps.statuses()) {
      if (s.goneSince !== undefined && s.lastSuccess === undefined) continue;
      const id = s.target.id;
      const isNode =
        window.hasName(id, 'node_cpu_seconds_total') || window.hasName(id, 'node_memory_MemTotal_bytes');
      const host = hostOf(s.target);
      const existing = byHost.get(host);
      if (existing !== undefined && (!isNode || existing.cpu !== null || existing.memory !== null)) continue;
      const last = window.lastTime(id) ?? this.deps.clock.nowMs();
      const load = isNode
        ? hostLoad(
            {
              rows: (name) => window.rows(id, name),
              points: (series, since) => window.points(id, series, since),
              latest: (series) => window.latest(id, series),
            },
            last,
            this.deps.loadWindowMs,
          )
        : undefined;
      byHost.set(host, {
        host,
        cpu: load?.cpu ?? null,
        memory: load?.memory ?? null,
        load1: load?.load1 ?? null,
        up: s.health === 'up' && s.goneSince === undefined,
        lastScrape: s.lastScrape === undefined ? null : new Date(s.lastScrape).toISOString(),
        labels: s.target.labels,
        source: 'scrape',
        cpuWindowSeconds: load?.cpuWindow ? (load.cpuWindow.to - load.cpuWindow.from) / 1000 : null,
        memorySource: load?.memorySource ?? null,
        cpuCores: load?.cpuCores ?? null,
        memoryBytes: load?.memoryBytes ?? null,
      });
    }
    return Promise.resolve(
      [...byHost.values()].sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0)),
    );
  }
}
