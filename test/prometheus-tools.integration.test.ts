import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { startOverseer, type RunningOverseer } from '../src/main.js';
import { describeWithBinaries } from './helpers/integration.js';
import { freePort } from './helpers/pg-cluster.js';
import { waitFor } from './helpers/poll.js';
import { createTestDatabase, type TestDatabase } from './helpers/test-db.js';

const run = promisify(execFile);

describeWithBinaries(
  ['promtool', 'nodeExporter'],
  "Overseer's /metrics against the real Prometheus tools",
  (bins) => {
    let testDb: TestDatabase;
    let running: RunningOverseer;
    let dataDir: string;

    beforeAll(async () => {
      testDb = await createTestDatabase();
      dataDir = mkdtempSync(path.join(tmpdir(), 'overseer-promtool-'));
      const { config } = loadConfig(undefined, {
        OVERSEER_SERVER_LISTEN: '127.0.0.1:0',
        OVERSEER_DATA_DIR: dataDir,
        DATABASE_URL: testDb.url,
      });
      running = await startOverseer(config, { logger: pino({ level: 'silent' }) });
    });
    afterAll(async () => {
      await running?.stop();
      await testDb?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('promtool parses /metrics, and finds nothing to lint in the overseer_* families', async () => {
      await fetch(`${running.url}/healthz`);
      const body = await (await fetch(`${running.url}/metrics`)).text();
      const result = await new Promise<{ code: number | null; output: string }>((resolve) => {
        const p = spawn(bins.promtool, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
        let output = '';
        p.stdout.on('data', (c: Buffer) => (output += c.toString()));
        p.stderr.on('data', (c: Buffer) => (output += c.toString()));
        p.on('exit', (code) => resolve({ code, output }));
        p.stdin.end(body);
      });
      // promtool: 0 clean, 3 lint findings only, 1 unparsable. prom-client's own nodejs_active_*_total gauges
      // draw lint findings we do not control; ours must draw none.
      expect(result.code === 0 || result.code === 3).toBe(true);
      expect(result.output.split('\n').filter((l) => l.startsWith('overseer_'))).toEqual([]);
    });

    it('a real node_exporter runs on loopback and answers in the exposition format', async () => {
      const port = await freePort();
      const ne = spawn(bins.nodeExporter, [`--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
      try {
        const text = await waitFor('node_exporter /metrics', async () => {
          const res = await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => undefined);
          return res?.ok ? res.text() : undefined;
        });
        expect(text).toMatch(/^# TYPE node_cpu_seconds_total counter$/m);
        expect(text).toMatch(/^node_memory_MemTotal_bytes \S+$/m);
        const { stdout } = await run(bins.promtool, ['--version']);
        expect(stdout).toMatch(/promtool, version \d+\.\d+/);
      } finally {
        ne.kill('SIGTERM');
      }
    });
  },
);
