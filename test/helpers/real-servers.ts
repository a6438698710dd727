import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { freePort } from './pg-cluster.js';
import { waitFor } from './poll.js';

export interface RealServer {
  url: string;
  hostPort: string;
  stop(): Promise<void>;
  output(): string;
}

function launch(bin: string, args: string[], cwd?: string): { child: ChildProcess; output: () => string } {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-20_000)));
  child.stderr?.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-20_000)));
  return { child, output: () => out };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

async function answers(url: string): Promise<true | undefined> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2000) })).ok ? true : undefined;
  } catch {
    return undefined;
  }
}

/** The Debian node_exporter on a free loopback port. */
export async function startNodeExporter(bin: string): Promise<RealServer> {
  const port = await freePort();
  const hostPort = `127.0.0.1:${port}`;
  const { child, output } = launch(bin, [`--web.listen-address=${hostPort}`]);
  await waitFor(`node_exporter on ${hostPort}: ${output()}`, () => answers(`http://${hostPort}/metrics`), {
    timeoutMs: 20_000,
  });
  return { url: `http://${hostPort}`, hostPort, output, stop: () => stopChild(child) };
}

export interface RealPrometheus extends RealServer {
  /** Instant query; the `result` array of a vector. */
  query(promql: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
}

export interface PrometheusOptions {
  /** Absolute paths for `rule_files`; rules are evaluated every second, like the scrapes. */
  ruleFiles?: string[];
  /** More command-line flags (`--web.enable-lifecycle` is always on, for POST /-/reload). */
  extraArgs?: string[];
}

/** A real Prometheus with `scrapeConfigs` (YAML text of the scrape_configs list), its own TSDB dir. */
export async function startPrometheus(
  bin: string,
  scrapeConfigs: string,
  { ruleFiles = [], extraArgs = [] }: PrometheusOptions = {},
): Promise<RealPrometheus> {
  const dir = mkdtempSync(path.join(tmpdir(), 'overseer-prom-'));
  const port = await freePort();
  const hostPort = `127.0.0.1:${port}`;
  const rules =
    ruleFiles.length === 0
      ? ''
      : `rule_files:\n${ruleFiles.map((f) => `  - ${JSON.stringify(f)}\n`).join('')}`;
  writeFileSync(
    path.join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n${rules}scrape_configs:\n${scrapeConfigs}`,
  );
  const { child, output } = launch(
    bin,
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=${hostPort}`,
      '--web.enable-lifecycle',
      ...extraArgs,
    ],
    dir,
  );
  const url = `http://${hostPort}`;
  await waitFor(`Prometheus on ${hostPort}: ${output()}`, () => answers(`${url}/-/ready`), {
    timeoutMs: 30_000,
  });
  return {
    url,
    hostPort,
    output,
    async query(promql) {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = (await res.json()) as {
        status: string;
        data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
      };
      if (body.status !== 'success') throw new Error(`query ${promql}: ${JSON.stringify(body)}`);
      return body.data.result;
    },
    async stop() {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A process that keeps one core busy, so CPU measurements are not all near zero. */
export function burnCpu(): { stop(): Promise<void> } {
  const child = spawn(
    process.execPath,
    ['-e', 'const end = Date.now() + 120000; while (Date.now() < end) {}'],
    {
      stdio: 'ignore',
    },
  );
  return { stop: () => stopChild(child) };
}
