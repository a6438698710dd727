import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from '../lib/build.js';
import { track } from '../lib/cleanup.js';
import { freePort, getText } from '../lib/http.js';
import { sumSamples } from '../lib/metrics-text.js';
import type { ScraperSpec } from './half.js';
import type { ScrapeSettings } from './settings.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function nodeArgs(): string[] {
  return (process.env.BENCH_OVERSEER_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
}

/** Overseer itself (`overseer serve`, built dist/) scraping the same targets. */
export function overseerSpec(settings: ScrapeSettings, ports: number[]): ScraperSpec {
  return {
    label: 'overseer',
    readyTimeoutMs: 120_000,
    async start(dir, log) {
      ensureBuilt(ROOT);
      const port = await freePort();
      const config = {
        server: { listen: `127.0.0.1:${port}` },
        dataDir: path.join(dir, 'data'),
        collector: {
          scrapeInterval: `${settings.intervalS}s`,
          scrapeTimeout: `${settings.timeoutS}s`,
          // Hold every series, as Prometheus does (the default bound is 500k).
          maxSeries: 1_000_000,
          targets: ports.map((p, i) => ({
            url: `http://127.0.0.1:${p}/metrics`,
            labels: { host: `bench-${i}` },
          })),
        },
      };
      const configFile = path.join(dir, 'overseer.yaml');
      writeFileSync(configFile, JSON.stringify(config)); // JSON is YAML
      // The config file alone must decide: no OVERSEER_* or DATABASE_URL from the caller's shell.
      const env = Object.fromEntries(
        Object.entries(process.env).filter(([k]) => !k.startsWith('OVERSEER_') && k !== 'DATABASE_URL'),
      );
      const child = track(
        // BENCH_OVERSEER_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles the service.
        spawn(process.execPath, [...nodeArgs(), 'bin/overseer.js', 'serve', '--config', configFile], {
          cwd: ROOT,
          env,
          stdio: ['ignore', log, log],
        }),
      );
      return { child, baseUrl: `http://127.0.0.1:${port}` };
    },
    async ready(baseUrl) {
      await getText(`${baseUrl}/readyz`);
      return true;
    },
    async scraped(baseUrl) {
      const text = await getText(`${baseUrl}/metrics`);
      const up = sumSamples(text, 'overseer_scrape_targets', { state: 'up' });
      const ok = sumSamples(text, 'overseer_scrapes_total', { result: 'success' });
      if (up === undefined || ok === undefined)
        return {
          up: 0,
          detail:
            'Overseer /metrics has no overseer_scrape_targets{state="up"} / overseer_scrapes_total{result="success"} yet — is the collector wired in?',
        };
      return { up, detail: `${up} targets up, ${ok} successful scrapes` };
    },
  };
}
