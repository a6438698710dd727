import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pino } from 'pino';
import { configSchema } from '../../src/config.js';
import { startOverseer, type RunningOverseer } from '../../src/main.js';
import { freePort } from './pg-cluster.js';
import type { TestDatabase } from './test-db.js';

export interface TestOverseer {
  running: RunningOverseer;
  url: string;
  token: string;
  /** GET (or `method`) an API path with the admin token; throws on a non-2xx answer. */
  get<T>(apiPath: string, method?: string): Promise<T>;
  stop(): Promise<void>;
}

/**
 * Overseer in this process on a free port, on the given test database, with `collector` merged into the
 * config (durations as strings, as in overseer.yaml).
 */
export async function startTestOverseer(
  db: TestDatabase,
  collector: Record<string, unknown>,
  more: Record<string, unknown> = {},
): Promise<TestOverseer> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'overseer-it-'));
  const config = configSchema.parse({
    server: { listen: `127.0.0.1:${await freePort()}` },
    dataDir,
    database: { url: db.url },
    log: { level: 'silent' },
    collector,
    ...more,
  });
  const running = await startOverseer(config, { logger: pino({ level: 'silent' }) });
  const token = readFileSync(running.adminTokenFile, 'utf8').trim();
  return {
    running,
    url: running.url,
    token,
    async get<T>(apiPath: string, method = 'GET'): Promise<T> {
      const res = await fetch(`${running.url}${apiPath}`, {
        method,
        headers: { authorization: `Bearer ${token}` },
      });
      if (!res.ok) throw new Error(`${method} ${apiPath}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    },
    async stop() {
      await running.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
