import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { track } from '../lib/cleanup.js';
import { freePort, getText } from '../lib/http.js';
import type { ScraperSpec } from './half.js';
import type { ScrapeSettings } from './settings.js';

interface TargetsResponse {
  data: { activeTargets: { health: string; lastScrape: string }[] };
}

/** The baseline: a real Prometheus scraping the same targets, one static target per port. */
export function prometheusSpec(settings: ScrapeSettings, ports: number[]): ScraperSpec {
  return {
    label: 'prometheus',
    readyTimeoutMs: 60_000,
    async start(dir, log) {
      if (!existsSync(settings.prometheusBin))
        throw new Error(
          `${settings.prometheusBin} missing (Debian package prometheus, or set BENCH_PROMETHEUS)`,
        );
      const config = {
        global: { scrape_interval: `${settings.intervalS}s`, scrape_timeout: `${settings.timeoutS}s` },
        scrape_configs: [
          {
            job_name: 'bench',
            static_configs: ports.map((port, i) => ({
              targets: [`127.0.0.1:${port}`],
              labels: { host: `bench-${i}` },
            })),
          },
        ],
      };
      const configFile = path.join(dir, 'prometheus.yml');
      writeFileSync(configFile, JSON.stringify(config)); // JSON is YAML
      const port = await freePort();
      const child = track(
        spawn(
          settings.prometheusBin,
          [
            `--config.file=${configFile}`,
            `--storage.tsdb.path=${path.join(dir, 'tsdb')}`,
            `--web.listen-address=127.0.0.1:${port}`,
          ],
          { stdio: ['ignore', log, log] },
        ),
      );
      return { child, baseUrl: `http://127.0.0.1:${port}` };
    },
    async ready(baseUrl) {
      await getText(`${baseUrl}/-/ready`);
      return true;
    },
    async scraped(baseUrl) {
      const body = JSON.parse(
        await getText(`${baseUrl}/api/v1/targets?state=active`, {}, 30_000),
      ) as TargetsResponse;
      const active = body.data.activeTargets;
      const up = active.filter((t) => t.health === 'up').length;
      const down = active.filter((t) => t.health === 'down').length;
      return { up, detail: `${up} up, ${down} down, ${active.length - up - down} not scraped yet` };
    },
  };
}
