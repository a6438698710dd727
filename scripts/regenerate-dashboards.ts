// `npm run dashboards`: regenerates the committed dashboards/ folder from a real fleet of one — a real
// node_exporter (job node) and Overseer itself (job overseer) — so the output in git is what Overseer
// generates for a node_exporter fleet and for its own metrics. Steps:
//   1. start node_exporter and `overseer serve` (temp data dir, loopback, 1 s scrapes of both);
//   2. wait until the catalog has both, save GET /api/v1/catalog as dashboards/catalog.json;
//   3. run `overseer generate --catalog dashboards/catalog.json --out dashboards`.
// CI runs step 3 with --check: the committed output must be what the committed catalog generates.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findBinary } from '../test/helpers/integration.js';
import { freePort } from '../test/helpers/pg-cluster.js';
import { waitFor } from '../test/helpers/poll.js';
import { startNodeExporter } from '../test/helpers/real-servers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'dashboards');
const catalogFile = path.join(out, 'catalog.json');
const progress = (m: string): void => void process.stderr.write(`[dashboards] ${m}\n`);

/** Families both jobs must show before the snapshot is taken (Overseer's appear after its first cycles). */
const REQUIRED = [
  'node_cpu_seconds_total',
  'node_memory_MemAvailable_bytes',
  'overseer_scrapes_total',
  'overseer_alarm_evaluations_total',
];

async function main(): Promise<void> {
  const bin = findBinary('prometheus-node-exporter');
  if (bin === undefined)
    throw new Error('prometheus-node-exporter not found: apt-get install prometheus-node-exporter');
  const dir = mkdtempSync(path.join(tmpdir(), 'overseer-dashboards-'));
  const node = await startNodeExporter(bin);
  progress(`node_exporter on ${node.hostPort}`);
  const port = await freePort();
  const config = path.join(dir, 'overseer.yaml');
  writeFileSync(
    config,
    [
      `server: { listen: "127.0.0.1:${port}" }`,
      `dataDir: ${JSON.stringify(path.join(dir, 'data'))}`,
      'collector:',
      '  scrapeInterval: 1s',
      '  scrapeTimeout: 900ms',
      '  targets:',
      `    - { url: "http://${node.hostPort}/metrics", labels: { job: node } }`,
      `    - { url: "http://127.0.0.1:${port}/metrics", labels: { job: overseer } }`,
      '',
    ].join('\n'),
  );
  // The config file alone decides: nothing from the caller's OVERSEER_* or DATABASE_URL.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('OVERSEER_') && k !== 'DATABASE_URL'),
  );
  const serve = spawn(process.execPath, [path.join(root, 'bin/overseer.js'), 'serve', '--config', config], {
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    progress('overseer serve started (the embedded database initialises on first start, ~15 s)');
    const token = await waitFor(
      'the admin token',
      () => {
        try {
          return readFileSync(path.join(dir, 'data', 'admin-token'), 'utf8').trim() || undefined;
        } catch {
          return undefined;
        }
      },
      { timeoutMs: 90_000 },
    );
    const body = await waitFor(
      `catalog with ${REQUIRED.join(', ')}`,
      async () => {
        try {
          const res = await fetch(`http://127.0.0.1:${port}/api/v1/catalog`, {
            headers: { authorization: `Bearer ${token}` },
          });
          if (!res.ok) return undefined;
          const json = (await res.json()) as { families: Array<{ name: string }> };
          const names = new Set(json.families.map((f) => f.name));
          return REQUIRED.every((n) => names.has(n)) ? json : undefined;
        } catch {
          return undefined;
        }
      },
      { timeoutMs: 90_000 },
    );
    mkdirSync(out, { recursive: true });
    writeFileSync(catalogFile, `${JSON.stringify(body, null, 2)}\n`);
    progress(`${catalogFile}: ${body.families.length} families`);
  } finally {
    serve.kill('SIGTERM');
    await new Promise((r) => serve.once('exit', r));
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const r = spawnSync(
    process.execPath,
    [path.join(root, 'bin/overseer.js'), 'generate', '--catalog', catalogFile, '--out', out],
    { env, stdio: 'inherit', cwd: root },
  );
  if (r.status !== 0) throw new Error(`overseer generate exited ${r.status}`);
}

main().catch((e: unknown) => {
  process.stderr.write(`[dashboards] failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
