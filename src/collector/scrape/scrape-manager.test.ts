import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/helpers/poll.js';
import { systemClock } from '../../clock.js';
import { Catalog } from '../catalog.js';
import { SampleWindow } from '../sample-window.js';
import { ScrapeManager } from './scrape-manager.js';
import { makeTarget } from './target.js';

/** A loopback exporter that answers after `delayMs` and records how many requests overlap. */
function exporter(delayMs: number) {
  let inFlight = 0;
  let maxInFlight = 0;
  let requests = 0;
  const server: Server = createServer((req, res) => {
    requests++;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    setTimeout(() => {
      inFlight--;
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(`m{path="${req.url}"} 1\n`);
    }, delayMs);
  });
  return { server, stats: () => ({ maxInFlight, requests }) };
}

function manager(opts: { maxConcurrent: number; intervalMs: number; evictAfterMs: number }) {
  const window = new SampleWindow({ windowMs: 10_000, intervalMs: opts.intervalMs, maxSeries: 1000 });
  const catalog = new Catalog();
  const m = new ScrapeManager({
    settings: { intervalMs: opts.intervalMs, timeoutMs: 2000, bodySizeLimit: 1 << 20, sampleLimit: 0 },
    maxConcurrentScrapes: opts.maxConcurrent,
    evictAfterMs: opts.evictAfterMs,
    window,
    catalog,
    registry: new Registry(),
    logger: pino({ level: 'silent' }),
    clock: systemClock,
  });
  return { m, window, catalog };
}

describe('ScrapeManager', () => {
  const slow = exporter(150);
  let base: string;
  beforeAll(async () => {
    await new Promise<void>((r) => slow.server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(slow.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    slow.server.closeAllConnections();
    await new Promise((r) => slow.server.close(r));
  });

  it('never has more scrapes in flight than maxConcurrentScrapes', async () => {
    const { m } = manager({ maxConcurrent: 3, intervalMs: 60_000, evictAfterMs: 60_000 });
    m.sync(Array.from({ length: 12 }, (_, i) => makeTarget(`${base}/t${i}`, {}, 'static')));
    await m.scrapeAll();
    try {
      const statuses = [...m.statuses()];
      expect(statuses.every((s) => s.health === 'up')).toBe(true);
      expect(slow.stats().maxInFlight).toBeLessThanOrEqual(3);
      expect(slow.stats().maxInFlight).toBeGreaterThan(1);
    } finally {
      await m.stop();
    }
  });

  it('keeps a target that left discovery as gone, then evicts it with its series', async () => {
    const { m, window, catalog } = manager({ maxConcurrent: 4, intervalMs: 200, evictAfterMs: 1500 });
    const a = makeTarget(`${base}/a`, {}, 'static');
    const b = makeTarget(`${base}/b`, {}, 'static');
    m.sync([a, b]);
    await m.start();
    try {
      await m.scrapeAll();
      expect(window.seriesCount).toBe(2);
      m.sync([a]);
      const gone = [...m.statuses()].find((s) => s.target.id === b.id);
      expect(gone?.goneSince).toBeDefined();
      await waitFor(
        'b to be evicted',
        () => ([...m.statuses()].some((s) => s.target.id === b.id) ? undefined : true),
        { timeoutMs: 10_000 },
      );
      expect(window.seriesCount).toBe(1);
      expect(catalog.has(b.id)).toBe(false);
      expect([...m.statuses()].map((s) => s.target.id)).toEqual([a.id]);
    } finally {
      await m.stop();
    }
  });

  it('a target coming back before eviction keeps its status and history', async () => {
    const { m, window } = manager({ maxConcurrent: 4, intervalMs: 60_000, evictAfterMs: 60_000 });
    const a = makeTarget(`${base}/again`, {}, 'static');
    m.sync([a]);
    await m.scrapeAll();
    m.sync([]);
    m.sync([a]);
    try {
      const s = [...m.statuses()][0]!;
      expect(s.goneSince).toBeUndefined();
      expect(s.health).toBe('up');
      expect(window.latest(a.id, 'm{path="/again"}')).toBe(1);
    } finally {
      await m.stop();
    }
  });
});
