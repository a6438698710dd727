import type { Hono } from 'hono';
import { z } from 'zod';
import { requireRole } from '../http/auth.js';
import type { AppEnv } from '../http/env.js';
import type { Collector } from './collector.js';
import { SELF_NODE_METRICS_PATH } from './collector.js';
import { PROC_EXPORTER_CONTENT_TYPE } from './proc-node-exporter.js';
import type { TargetStatus } from './scrape/target-status.js';

function targetJson(s: TargetStatus) {
  return {
    id: s.target.id,
    url: s.target.url,
    labels: s.target.labels,
    source: s.target.source,
    health: s.goneSince !== undefined ? 'gone' : s.health,
    lastScrape: s.lastScrape === undefined ? null : new Date(s.lastScrape).toISOString(),
    lastSuccess: s.lastSuccess === undefined ? null : new Date(s.lastSuccess).toISOString(),
    lastScrapeDurationSeconds: s.lastDurationMs === undefined ? null : s.lastDurationMs / 1000,
    samples: s.samples,
    bytes: s.bytes,
    format: s.format ?? null,
    lastError: s.lastError ?? null,
    lastErrorReason: s.lastErrorReason ?? null,
    goneSince: s.goneSince === undefined ? null : new Date(s.goneSince).toISOString(),
  };
}

const targetsQuery = z.object({ health: z.enum(['up', 'down', 'unknown', 'gone']).optional() });

/** Hosts, targets, file_sd for Prometheus, and the metric catalog (viewer and up). */
export function collectorRoutes(collector: Collector) {
  return (api: Hono<AppEnv>): void => {
    api.get('/hosts', requireRole('viewer'), async (c) => c.json({ hosts: await collector.source.hosts() }));

    api.get('/targets', requireRole('viewer'), (c) => {
      const q = targetsQuery.safeParse(c.req.query());
      const health = q.success ? q.data.health : undefined;
      const targets = [...collector.manager.statuses()]
        .map(targetJson)
        .filter((t) => !health || t.health === health);
      return c.json({ targets });
    });

    // Prometheus file_sd JSON of the fleet (gone targets excluded), so a real Prometheus scrapes the same hosts.
    api.get('/targets/file_sd', requireRole('viewer'), (c) => {
      const groups = [...collector.manager.statuses()]
        .filter((s) => s.goneSince === undefined)
        .map((s) => {
          const u = new URL(s.target.url);
          const labels: Record<string, string> = { ...s.target.labels };
          if (u.pathname !== '/metrics') labels.__metrics_path__ = u.pathname;
          if (u.protocol !== 'http:') labels.__scheme__ = u.protocol.replace(/:$/, '');
          return { targets: [u.host], labels };
        });
      return c.json(groups);
    });

    api.get('/catalog', requireRole('viewer'), (c) => c.json({ families: collector.catalog.entries() }));
  };
}

/** This machine's node metrics, unauthenticated like /metrics (embedded mode scrapes them). */
export function selfNodeMetricsRoute(collector: Collector) {
  return (app: Hono<AppEnv>): void => {
    app.get(SELF_NODE_METRICS_PATH, async (c) =>
      c.body(await collector.nodeExporter.render(), 200, { 'content-type': PROC_EXPORTER_CONTENT_TYPE }),
    );
  };
}
