import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { LocalObjectStore } from '../src/logs/local-store.js';
import { LogShipper } from '../src/logs/shipper.js';
import { runOverseer } from './helpers/cli-process.js';

describe('overseer logs status as a process', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'overseer-logs-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists what the shipper journaled: shipped files with their keys, waiting ones with their state', async () => {
    const logs = path.join(dir, 'logs');
    const dataDir = path.join(dir, 'data');
    mkdirSync(logs, { recursive: true });
    writeFileSync(path.join(logs, 'api.20261125T070000Z.vm.000000.log'), '{"msg":"one"}\n{"msg":"two"}\n');
    const shipper = new LogShipper(
      { dirs: [logs], dataDir, host: 'vm', localRetentionMs: 3_600_000 },
      {
        store: new LocalObjectStore(path.join(dataDir, 'archive')),
        clock: new ManualClock(Date.parse('2026-11-25T08:00:00Z')),
        logger: pino({ level: 'silent' }),
        registry: new Registry(),
      },
    );
    await shipper.shipOnce();
    await shipper.stop();
    const config = path.join(dir, 'overseer.yaml');
    writeFileSync(config, `dataDir: ${JSON.stringify(dataDir)}\nlogs: { dirs: [${JSON.stringify(logs)}] }\n`);
    const r = await runOverseer(['--config', config, '--json', 'logs', 'status'], {});
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<{
      path: string;
      state: string;
      key: string | null;
      bytes: number;
    }>;
    expect(rows).toEqual([
      expect.objectContaining({
        state: 'uploaded',
        bytes: 28,
        key: 'api/vm/2026/11/25/07/api.20261125T070000Z.vm.000000.log.gz',
      }),
    ]);
    const text = await runOverseer(['--config', config, 'logs', 'status'], {});
    expect(text.stdout).toMatch(/api\.20261125T070000Z\.vm\.000000\.log\s+uploaded\s+28/);
    expect(text.stderr).toContain('1 file(s); 0 waiting');
  });
});
