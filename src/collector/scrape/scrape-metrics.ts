import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { TargetStatus } from './target-status.js';

export interface ScrapeMetricsSources {
  statuses(): Iterable<TargetStatus>;
  queueDepth(): number;
  queueRejected(): number;
  windowSeries(): number;
  windowBytes(): number;
  windowDropped(): number;
}

/** The collector's own metrics: totals, and per target up / duration / samples like Prometheus's. */
export function createScrapeMetrics(registry: Registry, src: ScrapeMetricsSources) {
  const registers = [registry];
  const perTarget = (name: string, help: string, value: (s: TargetStatus) => number | undefined) =>
    new Gauge({
      name,
      help,
      labelNames: ['job', 'instance'],
      registers,
      collect() {
        this.reset();
        for (const s of src.statuses()) {
          const v = value(s);
          if (v !== undefined)
            this.set({ job: s.target.labels.job ?? '', instance: s.target.labels.instance ?? '' }, v);
        }
      },
    });
  perTarget('overseer_target_up', '1 if the last scrape of the target succeeded, else 0.', (s) =>
    s.goneSince !== undefined ? undefined : s.health === 'up' ? 1 : 0,
  );
  perTarget('overseer_target_scrape_duration_seconds', 'Duration of the last scrape of the target.', (s) =>
    s.lastDurationMs === undefined ? undefined : s.lastDurationMs / 1000,
  );
  perTarget('overseer_target_scrape_samples', 'Samples in the last successful scrape of the target.', (s) =>
    s.goneSince !== undefined ? undefined : s.samples,
  );
  new Gauge({
    name: 'overseer_target_scrape_error',
    help: '1 for a target whose last scrape failed, with why (reason: timeout, refused, connection, http_status, body_too_large, decompress, invalid, sample_limit).',
    labelNames: ['job', 'instance', 'reason'],
    registers,
    collect() {
      this.reset();
      for (const s of src.statuses()) {
        if (s.goneSince !== undefined || s.health !== 'down' || s.lastErrorReason === undefined) continue;
        this.set(
          {
            job: s.target.labels.job ?? '',
            instance: s.target.labels.instance ?? '',
            reason: s.lastErrorReason,
          },
          1,
        );
      }
    },
  });
  new Gauge({
    name: 'overseer_scrape_targets',
    help: 'Targets by state: up, down, unknown (not scraped yet), gone (left discovery, not yet evicted).',
    labelNames: ['state'],
    registers,
    collect() {
      const counts: Record<string, number> = { up: 0, down: 0, unknown: 0, gone: 0 };
      for (const s of src.statuses()) counts[s.goneSince !== undefined ? 'gone' : s.health]!++;
      for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
    },
  });
  new Gauge({
    name: 'overseer_scrape_queue_depth',
    help: 'Scrapes waiting for a slot (collector.maxConcurrentScrapes).',
    registers,
    collect() {
      this.set(src.queueDepth());
    },
  });
  new Gauge({
    name: 'overseer_scrape_queue_rejected',
    help: 'Scrapes refused because the slot queue was full, since start.',
    registers,
    collect() {
      this.set(src.queueRejected());
    },
  });
  new Gauge({
    name: 'overseer_window_series',
    help: 'Series held in the in-memory sample window.',
    registers,
    collect() {
      this.set(src.windowSeries());
    },
  });
  new Gauge({
    name: 'overseer_window_bytes',
    help: 'Bytes allocated for samples in the in-memory window.',
    registers,
    collect() {
      this.set(src.windowBytes());
    },
  });
  new Gauge({
    name: 'overseer_window_series_dropped',
    help: 'New series not stored since start because the window was full (collector.maxSeries).',
    registers,
    collect() {
      this.set(src.windowDropped());
    },
  });
  return {
    scrapes: new Counter({
      name: 'overseer_scrapes_total',
      help: 'Scrapes by result.',
      labelNames: ['result'],
      registers,
    }),
    failures: new Counter({
      name: 'overseer_scrape_failures_total',
      help: 'Failed scrapes by reason: timeout, refused, connection, http_status, body_too_large, decompress, invalid, sample_limit.',
      labelNames: ['reason'],
      registers,
    }),
    duration: new Histogram({
      name: 'overseer_scrape_duration_seconds',
      help: 'Scrape duration: fetch, decompress and parse.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    samples: new Counter({
      name: 'overseer_scrape_samples_total',
      help: 'Samples ingested from successful scrapes.',
      registers,
    }),
    skipped: new Counter({
      name: 'overseer_scrapes_skipped_total',
      help: 'Scrape ticks skipped because the previous scrape of the target was still running or no slot was free.',
      registers,
    }),
  };
}

export type ScrapeMetrics = ReturnType<typeof createScrapeMetrics>;
