import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOverseer, spawnOverseer } from './helpers/cli-process.js';
import { freePort } from './helpers/pg-cluster.js';
import { waitFor } from './helpers/poll.js';
import { createTestDatabase, type TestDatabase } from './helpers/test-db.js';

async function readyz(url: string): Promise<number | undefined> {
  try {
    return (await fetch(`${url}/readyz`)).status === 200 ? 200 : undefined;
  } catch {
    return undefined;
  }
}

async function refused(url: string): Promise<boolean> {
  try {
    await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
    return false;
  } catch {
    return true;
  }
}

describe('overseer serve as a process', () => {
  let testDb: TestDatabase;
  const dirs: string[] = [];
  const tempDir = (): string => {
    const d = mkdtempSync(path.join(tmpdir(), 'overseer-e2e-'));
    dirs.push(d);
    return d;
  };
  /** A fresh data dir and free port; real Postgres or the embedded database. */
  const instance = async (realPg: boolean) => {
    const dataDir = tempDir();
    const port = await freePort();
    const env: Record<string, string> = {
      OVERSEER_SERVER_LISTEN: `127.0.0.1:${port}`,
      OVERSEER_DATA_DIR: dataDir,
      // Not the defaults (relative to the checkout): the service writes its own log and reads a spool there.
      OVERSEER_LOGS_DIRS: `[${path.join(dataDir, 'logs')}]`,
      OVERSEER_BILLING_SPOOL_DIRS: `[${path.join(dataDir, 'billing-spool')}]`,
      ...(realPg ? { DATABASE_URL: testDb.url } : {}),
    };
    return { dataDir, url: `http://127.0.0.1:${port}`, env };
  };
  beforeAll(async () => {
    testDb = await createTestDatabase();
  });
  afterAll(async () => {
    await testDb?.drop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it.each([
    ['real Postgres', true],
    ['embedded PGlite (npm start defaults)', false],
  ])('starts on %s, serves the CLI, stops on SIGTERM', async (_name, realPg) => {
    const { dataDir, url, env } = await instance(realPg);
    const proc = spawnOverseer(['serve'], env);
    try {
      await waitFor('/readyz', () => readyz(url), { timeoutMs: 60_000 });
      expect(proc.stderr()).toContain(`listening on ${url}`);
      expect(proc.stderr()).toContain(path.join(dataDir, 'admin-token'));
      expect(proc.stderr()).toContain(realPg ? 'postgres://' : 'embedded PGlite');
      const tokenFile = path.join(dataDir, 'admin-token');
      expect(statSync(tokenFile).mode & 0o777).toBe(0o600);

      // The CLI finds the service and the admin token from the same config/env.
      const who = await runOverseer(['whoami', '--json'], { OVERSEER_URL: url, OVERSEER_DATA_DIR: dataDir });
      expect(who.code).toBe(0);
      expect(JSON.parse(who.stdout)).toMatchObject({ role: 'admin' });
      const created = await runOverseer(['tokens', 'create', '--name', 'e2e', '--role', 'viewer'], {
        OVERSEER_URL: url,
        OVERSEER_DATA_DIR: dataDir,
      });
      expect(created.code).toBe(0);
      const viewer = created.stdout.trim();
      const denied = await runOverseer(['tokens', 'list'], { OVERSEER_URL: url, OVERSEER_TOKEN: viewer });
      expect(denied.code).toBe(3);
      expect(denied.stderr).toMatch(/403 .*server error 100305/);

      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/^overseer_ready 1$/m);
      expect(metrics).toMatch(/^process_cpu_seconds_total /m);
    } finally {
      proc.child.kill('SIGTERM');
    }
    expect(await proc.exited).toBe(0);
    expect(proc.stdout()).toContain('"msg":"stopped"');
    expect(await refused(url)).toBe(true);
  });

  it('embedded mode: with no targets it scrapes this machine, and `overseer hosts` shows it within one interval', async () => {
    const { dataDir, url, env } = await instance(true);
    const started = Date.now();
    const proc = spawnOverseer(['serve'], env); // default scrapeInterval: 15s
    const cli = { OVERSEER_URL: url, OVERSEER_DATA_DIR: dataDir };
    try {
      await waitFor('/readyz', () => readyz(url), { timeoutMs: 60_000 });
      const ready = Date.now();
      const host = await waitFor(
        'a host with CPU and memory',
        async () => {
          const r = await runOverseer(['hosts', '--json'], cli);
          const hosts = JSON.parse(r.stdout || '[]') as Array<{
            host: string;
            cpu: number | null;
            memory: number | null;
          }>;
          return hosts[0]?.cpu != null && hosts[0].memory != null ? hosts[0] : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 500 },
      );
      expect(Date.now() - ready, `ready after ${ready - started} ms`).toBeLessThan(15_000 + 3_000);
      expect(host.host).toBe(hostname());
      expect(host.memory).toBeGreaterThan(0);
      expect(host.memory).toBeLessThan(1);
      const table = await runOverseer(['hosts'], cli);
      expect(table.stdout).toMatch(
        new RegExp(String.raw`^HOST\s+UP\s+CPU\s+MEMORY\s+LOAD1[\s\S]*\n${hostname()}\s+yes\s+\d+\.\d%`, 'm'),
      );
      const targets = await runOverseer(['targets'], cli);
      expect(targets.code).toBe(0);
      expect(targets.stdout).toMatch(/\/metrics\/node\s+up\s/);
    } finally {
      proc.child.kill('SIGTERM');
    }
    expect(await proc.exited).toBe(0);
  });

  it('a second start reuses the data dir and its admin token', async () => {
    const { dataDir, url, env } = await instance(true);
    for (let round = 0; round < 2; round++) {
      const proc = spawnOverseer(['serve'], env);
      try {
        await waitFor('/readyz', () => readyz(url), { timeoutMs: 60_000 });
        const who = await runOverseer(['whoami'], { OVERSEER_URL: url, OVERSEER_DATA_DIR: dataDir });
        expect(who.stdout, `round ${round}: ${who.stderr}`).toContain('(admin)');
      } finally {
        proc.child.kill('SIGTERM');
      }
      expect(await proc.exited).toBe(0);
    }
  });

  it('an unreachable database: exit 3, error 100201, nothing left listening or written', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const dead = await freePort();
    const r = await runOverseer(['serve'], {
      OVERSEER_SERVER_LISTEN: `127.0.0.1:${port}`,
      OVERSEER_DATA_DIR: dataDir,
      DATABASE_URL: `postgres://postgres@127.0.0.1:${dead}/x`,
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/error 100201: cannot connect to Postgres/);
    expect(r.stderr).toMatch(/hint: /);
    expect(existsSync(path.join(dataDir, 'admin-token'))).toBe(false);
    expect(await refused(`http://127.0.0.1:${port}`)).toBe(true);
  });

  it('a port already in use: exit 3, error 100307, and the process exits (nothing left open)', async () => {
    const busy = createServer();
    const port = await freePort();
    await new Promise<void>((r) => busy.listen(port, '127.0.0.1', r));
    try {
      const r = await runOverseer(['serve'], {
        OVERSEER_SERVER_LISTEN: `127.0.0.1:${port}`,
        OVERSEER_DATA_DIR: tempDir(),
        DATABASE_URL: testDb.url,
      });
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/error 100307: cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE/);
    } finally {
      busy.close();
    }
  });

  it.each([
    [
      'an invalid config file',
      ['serve', '--config', 'CONFIG'],
      'server:\n  lisen: x\n',
      2,
      /error 100103[\s\S]*did you mean "listen"/,
    ],
    ['malformed YAML', ['serve', '--config', 'CONFIG'], 'server: [\n', 2, /error 100102/],
    ['an unknown flag', ['serve', '--bogus'], undefined, 2, /unknown option '--bogus'[\s\S]*error 100401/],
    ['an unknown command', ['srve'], undefined, 2, /Did you mean serve\?[\s\S]*error 100401/],
    ['a missing config file', ['serve', '--config', '/no/such/overseer.yaml'], undefined, 2, /error 100101/],
  ])('%s: clear coded error and exit code', async (_n, args, text, code, pattern) => {
    const dir = tempDir();
    const cfg = path.join(dir, 'overseer.yaml');
    if (text !== undefined) writeFileSync(cfg, text);
    const r = await runOverseer(
      args.map((a) => (a === 'CONFIG' ? cfg : a)),
      { OVERSEER_DATA_DIR: dir },
    );
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(pattern);
    expect(existsSync(path.join(dir, 'pglite'))).toBe(false);
  });

  it('--help works on every command', async () => {
    for (const args of [
      ['--help'],
      ['serve', '--help'],
      ['codes', 'scan', '--help'],
      ['tokens', 'create', '--help'],
    ]) {
      const r = await runOverseer(args, {});
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Usage: overseer/);
    }
  });

  it('codes scan exits 1 on violations and 0 on a clean codebase', async () => {
    const fixtures = path.join(import.meta.dirname, 'fixtures/codes');
    const bad = await runOverseer(['codes', 'scan', path.join(fixtures, 'ts-bad'), '--json'], {});
    expect(bad.code).toBe(1);
    expect((JSON.parse(bad.stdout) as { problems: unknown[] }).problems).toHaveLength(5);
    const clean = await runOverseer(
      ['codes', 'scan', path.join(fixtures, 'java-clean'), '--language', 'java'],
      {},
    );
    expect(clean.code).toBe(0);
    expect(clean.stdout).toMatch(/120001\s+API_BAD_JSON\s+.*Api\.java:5/);
  });
});
