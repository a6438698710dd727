import * as http from 'node:http';
import * as https from 'node:https';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Clock } from '../../clock.js';
import type { Component } from '../../lifecycle.js';
import type { Catalog } from '../catalog.js';
import type { Exposition } from '../exposition/types.js';
import type { SampleWindow } from '../sample-window.js';
import { Limiter } from './limiter.js';
import { ScrapeLoop, type ScrapeSettings } from './scrape-loop.js';
import { createScrapeMetrics, type ScrapeMetrics } from './scrape-metrics.js';
import type { Target } from './target.js';
import { newStatus, type TargetStatus } from './target-status.js';

export interface ScrapeManagerDeps {
  settings: ScrapeSettings;
  maxConcurrentScrapes: number;
  evictAfterMs: number;
  window: SampleWindow;
  catalog: Catalog;
  registry: Registry;
  logger: Logger;
  clock: Clock;
}

/**
 * Runs one ScrapeLoop per target and keeps the fleet in step with discovery: `sync` starts new targets and
 * stops removed ones. A removed target stays listed (as gone) with its data until `evictAfter` past its
 * last success, so a target file rewritten in two steps does not lose a host's history.
 */
export class ScrapeManager implements Component {
  readonly name = 'scrape-manager';
  private readonly loops = new Map<string, ScrapeLoop>();
  private readonly gone = new Map<string, TargetStatus>();
  private readonly limiter: Limiter;
  private readonly metrics: ScrapeMetrics;
  private readonly agent: { http: http.Agent; https: https.Agent };
  private evictTimer: NodeJS.Timeout | undefined;
  private started = false;

  constructor(private readonly deps: ScrapeManagerDeps) {
    this.limiter = new Limiter(deps.maxConcurrentScrapes, 1);
    // Keep-alive like Prometheus: one connection per target, reused every interval.
    const opts = { keepAlive: true, maxSockets: deps.maxConcurrentScrapes, maxFreeSockets: 4096 };
    this.agent = { http: new http.Agent(opts), https: new https.Agent(opts) };
    this.metrics = createScrapeMetrics(deps.registry, {
      statuses: () => this.statuses(),
      queueDepth: () => this.limiter.depth,
      queueRejected: () => this.limiter.rejected,
      windowSeries: () => deps.window.seriesCount,
      windowBytes: () => deps.window.bytes,
      windowDropped: () => deps.window.dropped,
    });
  }

  start(): Promise<void> {
    this.started = true;
    for (const loop of this.loops.values()) loop.start();
    this.evictTimer = setInterval(
      () => this.evict(),
      Math.max(1000, Math.min(this.deps.evictAfterMs / 4, 60_000)),
    );
    this.evictTimer.unref();
    return Promise.resolve();
  }

  /** Finishes the scrapes in flight (the lifecycle bounds the wait), then closes connections. */
  async stop(): Promise<void> {
    this.started = false;
    clearInterval(this.evictTimer);
    await Promise.all([...this.loops.values()].map((l) => l.stop()));
    this.agent.http.destroy();
    this.agent.https.destroy();
  }

  /** Makes the running loops match `targets`. */
  sync(targets: readonly Target[]): void {
    const now = this.deps.clock.nowMs();
    const wanted = new Map(targets.map((t) => [t.id, t]));
    for (const [id, loop] of this.loops) {
      if (wanted.has(id)) continue;
      this.loops.delete(id);
      void loop.stop();
      loop.status.goneSince = now;
      this.gone.set(id, loop.status);
    }
    for (const [id, target] of wanted) {
      if (this.loops.has(id)) continue;
      const status = this.gone.get(id) ?? newStatus(target);
      this.gone.delete(id);
      status.goneSince = undefined;
      const loop = new ScrapeLoop(status, {
        settings: this.deps.settings,
        agent: this.agent,
        limiter: this.limiter,
        clock: this.deps.clock,
        ingest: (t, tMs, exposition) => this.ingest(t, tMs, exposition),
        failed: (t, tMs) => this.deps.window.appendFailure(t.id, tMs),
        observed: (s) => this.observed(s),
        skipped: () => this.metrics.skipped.inc(),
      });
      this.loops.set(id, loop);
      if (this.started) loop.start();
    }
    this.limiter.maxQueue = Math.max(1, this.loops.size);
    this.deps.logger.info({ targets: this.loops.size, gone: this.gone.size }, 'scrape targets updated');
  }

  /** Every target, the gone ones last. */
  *statuses(): Iterable<TargetStatus> {
    for (const l of this.loops.values()) yield l.status;
    yield* this.gone.values();
  }

  /** Scrapes every target once, now (used by tests and at start-up checks). */
  async scrapeAll(): Promise<void> {
    await Promise.all([...this.loops.values()].map((l) => l.scrapeNow()));
  }

  private ingest(target: Target, tMs: number, exposition: Exposition): string | undefined {
    const { created, duplicate } = this.deps.window.append(target.id, tMs, exposition.samples);
    if (duplicate !== undefined) return duplicate;
    if (created > 0 || !this.deps.catalog.has(target.id)) {
      this.deps.catalog.update(target.id, exposition, target.labels);
    }
    this.metrics.samples.inc(exposition.samples.length);
    return undefined;
  }

  private observed(s: TargetStatus): void {
    this.metrics.scrapes.inc({ result: s.health === 'up' ? 'success' : 'failure' });
    if (s.lastErrorReason !== undefined) this.metrics.failures.inc({ reason: s.lastErrorReason });
    if (s.lastDurationMs !== undefined) this.metrics.duration.observe(s.lastDurationMs / 1000);
  }

  private evict(): void {
    const now = this.deps.clock.nowMs();
    for (const [id, s] of this.gone) {
      const since = Math.max(s.lastSuccess ?? 0, s.goneSince ?? 0);
      if (now - since < this.deps.evictAfterMs) continue;
      this.gone.delete(id);
      this.deps.window.drop(id);
      this.deps.catalog.drop(id);
      this.deps.logger.info(
        { target: s.target.url, labels: s.target.labels },
        'evicted target not seen since',
      );
    }
  }
}
