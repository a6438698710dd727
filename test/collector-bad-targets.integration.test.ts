import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestOverseer, type TestOverseer } from './helpers/overseer-instance.js';
import { freePort } from './helpers/pg-cluster.js';
import { waitFor } from './helpers/poll.js';
import { createTestDatabase, type TestDatabase } from './helpers/test-db.js';

interface TargetJson {
  url: string;
  health: string;
  lastError: string | null;
  lastErrorReason: string | null;
  samples: number;
}

const LIMIT = 1024 * 1024;
const line = (i: number): string => `filler_metric{index="${i}",padding="${'x'.repeat(60)}"} ${i}\n`;

/** Misbehaving exporters, each on its own path of one server. Counts the bytes the endless one wrote. */
function badServer(): { server: Server; endlessBytes: () => number } {
  let endlessBytes = 0;
  const endless = (res: ServerResponse): void => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    let i = 0;
    const pump = (): void => {
      // Write while the socket takes it; stop for good once the scraper hangs up.
      while (!res.destroyed && res.write(line(i++))) endlessBytes += 80;
      if (!res.destroyed) res.once('drain', pump);
    };
    pump();
  };
  const server = createServer((req, res) => {
    switch (req.url) {
      case '/ok':
        return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok_metric 1\n');
      case '/slow':
        return void setTimeout(() => res.end('late 1\n'), 5000).unref();
      case '/endless':
        return endless(res);
      case '/huge':
        return void res.writeHead(200).end(Array.from({ length: 20_000 }, (_, i) => line(i)).join(''));
      case '/gzip-bomb':
        // 64 MiB of one repeated line, a few hundred KiB compressed: the limit applies after gunzip.
        return void res
          .writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'text/plain' })
          .end(gzipSync(Buffer.alloc(64 * 1024 * 1024, 'a_metric 1\n')));
      case '/invalid':
        return void res.writeHead(200, { 'content-type': 'text/plain' }).end('good 1\nbad{label="x} 2\n');
      case '/many':
        return void res.writeHead(200).end(Array.from({ length: 300 }, (_, i) => `m${i} 1\n`).join(''));
      case '/error':
        return void res.writeHead(500).end('boom');
      default:
        return void res.writeHead(404).end();
    }
  });
  return { server, endlessBytes: () => endlessBytes };
}

describe('bad targets', () => {
  let db: TestDatabase;
  let bad: ReturnType<typeof badServer>;
  let base: string;
  let refusedUrl: string;
  let overseer: TestOverseer;

  beforeAll(async () => {
    db = await createTestDatabase();
    bad = badServer();
    await new Promise<void>((r) => bad.server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(bad.server.address() as AddressInfo).port}`;
    refusedUrl = `http://127.0.0.1:${await freePort()}/metrics`;
    overseer = await startTestOverseer(db, {
      scrapeInterval: '1s',
      scrapeTimeout: '500ms',
      bodySizeLimit: `${LIMIT}`,
      sampleLimit: 200,
      targets: [
        ...['ok', 'slow', 'endless', 'huge', 'gzip-bomb', 'invalid', 'many', 'error'].map((p) => ({
          url: `${base}/${p}`,
        })),
        { url: refusedUrl },
      ],
    });
  });
  afterAll(async () => {
    await overseer?.stop();
    bad?.server.closeAllConnections();
    await new Promise((r) => bad?.server.close(r));
    await db?.drop();
  });

  it.each([
    ['slow', 'timeout', /timed out after 500 ms/],
    ['endless', 'body_too_large', /exceeds the limit of 1048576 bytes/],
    ['huge', 'body_too_large', /exceeds the limit/],
    ['gzip-bomb', 'body_too_large', /exceeds the limit/],
    ['invalid', 'invalid', /invalid prometheus exposition at 2:\d+: /],
    ['many', 'sample_limit', /300 samples exceed the sample limit of 200/],
    ['error', 'http_status', /HTTP status 500/],
    ['refused', 'refused', /connection refused/],
  ])('%s target: up=0 with a clear error (%s)', async (name, reason, message) => {
    const url = name === 'refused' ? refusedUrl : `${base}/${name}`;
    const t = await waitFor(`a failed scrape of ${name}`, async () => {
      const { targets } = await overseer.get<{ targets: TargetJson[] }>('/api/v1/targets');
      const found = targets.find((x) => x.url === url);
      return found?.health === 'down' ? found : undefined;
    });
    expect(t.lastErrorReason).toBe(reason);
    expect(t.lastError).toMatch(message);
    const metrics = await (await fetch(`${overseer.url}/metrics`)).text();
    const instance = new URL(url).host;
    expect(metrics).toContain(`overseer_target_up{job="overseer",instance="${instance}"} 0`);
    expect(metrics).toContain(
      `overseer_target_scrape_error{job="overseer",instance="${instance}",reason="${reason}"} 1`,
    );
    expect(metrics).toMatch(new RegExp(`overseer_scrape_failures_total\\{reason="${reason}"\\} [1-9]`));
  });

  it('stays healthy, keeps scraping good targets, and bounds what it reads and holds', async () => {
    const rssBefore = process.memoryUsage().rss;
    const failures = async (): Promise<number> => {
      const m = await (await fetch(`${overseer.url}/metrics`)).text();
      return [...m.matchAll(/^overseer_scrapes_total\{result="failure"\} (\d+)/gm)].reduce(
        (a, x) => a + Number(x[1]),
        0,
      );
    };
    const start = await failures();
    // Five more rounds of every bad target.
    await waitFor(
      'five more rounds of failures',
      async () => ((await failures()) >= start + 40 ? true : undefined),
      {
        timeoutMs: 30_000,
        intervalMs: 200,
      },
    );
    expect((await fetch(`${overseer.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${overseer.url}/readyz`)).status).toBe(200);
    const { targets } = await overseer.get<{ targets: TargetJson[] }>('/api/v1/targets');
    expect(targets.find((t) => t.url === `${base}/ok`)).toMatchObject({ health: 'up', samples: 1 });
    // The endless body is cut at the limit each round: what the exporter managed to write stays within
    // the limit plus socket buffers per round, not a growing stream.
    const rounds = Math.max(1, (await failures()) / 8);
    expect(bad.endlessBytes() / rounds).toBeLessThan(LIMIT + 4 * 1024 * 1024);
    // Nothing of the failed bodies is kept: memory stays flat over the rounds (GC noise allowed).
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(150 * 1024 * 1024);
    expect(overseer.running.collector.window.seriesCount).toBeLessThan(10);
  });
});
