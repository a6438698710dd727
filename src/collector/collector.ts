import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Component } from '../lifecycle.js';
import { Catalog } from './catalog.js';
import type { MetricsSource } from './metrics-source.js';
import { PrometheusSource } from './prometheus-source.js';
import { ProcNodeExporter } from './proc-node-exporter.js';
import { SampleWindow } from './sample-window.js';
import { FileSd } from './scrape/file-sd.js';
import { ScrapeManager } from './scrape/scrape-manager.js';
import { makeTarget, type Target } from './scrape/target.js';
import { ScrapeSource } from './scrape-source.js';

/** Path on Overseer's own HTTP server where embedded mode exports this machine's node metrics. */
export const SELF_NODE_METRICS_PATH = '/metrics/node';

export interface CollectorDeps {
  config: Config['collector'];
  registry: Registry;
  logger: Logger;
  clock: Clock;
  /** Overseer's own base URL, known once HTTP listens: the self-scrape target lives there. */
  selfUrl: () => string;
  countError?: (code: number) => void;
}

/**
 * The collector area: discovery (static + file_sd) → scrape manager → sample window + catalog → host
 * load from a MetricsSource. Start order: window and catalog exist from construction; file_sd reads its
 * files, then the manager starts its loops. Stop: file_sd first (no more target changes), then the
 * manager (finishes scrapes in flight).
 */
export class Collector implements Component {
  readonly name = 'collector';
  readonly window: SampleWindow;
  readonly catalog = new Catalog();
  readonly manager: ScrapeManager;
  readonly source: MetricsSource;
  readonly nodeExporter: ProcNodeExporter;
  private readonly fileSd: FileSd | undefined;
  private staticTargets: Target[] = [];

  constructor(private readonly deps: CollectorDeps) {
    const c = deps.config;
    this.window = new SampleWindow({
      windowMs: c.window,
      intervalMs: c.scrapeInterval,
      maxSeries: c.maxSeries,
    });
    this.manager = new ScrapeManager({
      settings: {
        intervalMs: c.scrapeInterval,
        timeoutMs: c.scrapeTimeout,
        bodySizeLimit: c.bodySizeLimit,
        sampleLimit: c.sampleLimit,
      },
      maxConcurrentScrapes: c.maxConcurrentScrapes,
      evictAfterMs: c.evictAfter,
      window: this.window,
      catalog: this.catalog,
      registry: deps.registry,
      logger: deps.logger.child({ part: 'scrape' }),
      clock: deps.clock,
    });
    this.nodeExporter = new ProcNodeExporter({ clock: deps.clock });
    if (c.fileSd.length > 0) {
      this.fileSd = new FileSd({
        patterns: c.fileSd,
        refreshIntervalMs: c.fileSdRefreshInterval,
        logger: deps.logger.child({ part: 'file-sd' }),
        registry: deps.registry,
        onChange: (targets) => this.manager.sync([...this.staticTargets, ...targets]),
        ...(deps.countError ? { countError: deps.countError } : {}),
      });
    }
    this.source = c.prometheus
      ? new PrometheusSource({
          url: c.prometheus.url,
          loadWindowMs: c.loadWindow,
          timeoutMs: c.prometheus.timeout,
        })
      : new ScrapeSource({
          window: this.window,
          statuses: () => this.manager.statuses(),
          loadWindowMs: c.loadWindow,
          clock: deps.clock,
        });
  }

  /** True when embedded mode scrapes this machine's own /proc metrics. */
  get selfScraping(): boolean {
    const c = this.deps.config;
    return c.selfScrape && c.targets.length === 0 && c.fileSd.length === 0 && c.prometheus === undefined;
  }

  async start(): Promise<void> {
    const c = this.deps.config;
    this.staticTargets = c.targets.map((t) => makeTarget(t.url, t.labels, 'static'));
    if (this.selfScraping) {
      this.staticTargets.push(
        makeTarget(
          `${this.deps.selfUrl()}${SELF_NODE_METRICS_PATH}`,
          { job: 'node', host: hostname() },
          'self',
        ),
      );
    }
    await this.fileSd?.start();
    this.manager.sync([...this.staticTargets, ...(this.fileSd?.targets() ?? [])]);
    await this.manager.start();
    // Embedded mode scrapes itself at once, so the first host shows up without waiting for its phase.
    if (this.selfScraping) void this.manager.scrapeAll();
    this.deps.logger.info(
      {
        targets: this.staticTargets.length + (this.fileSd?.targets().length ?? 0),
        source: this.source.kind,
        selfScrape: this.selfScraping,
      },
      'collector started',
    );
  }

  async stop(): Promise<void> {
    await this.fileSd?.stop();
    await this.manager.stop();
  }
}
