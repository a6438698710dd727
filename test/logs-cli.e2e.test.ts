import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
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

describe('overseer logs ship as a process', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'overseer-logs-ship-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('ships rotated files and quiet foreign ones in one pass, with progress and a JSON summary', async () => {
    const logs = path.join(dir, 'logs');
    const nginx = path.join(dir, 'nginx');
    const dataDir = path.join(dir, 'data');
    mkdirSync(logs, { recursive: true });
    mkdirSync(nginx, { recursive: true });
    writeFileSync(path.join(logs, 'api.20261125T070000Z.vm.000000.log'), '{"msg":"one"}\n');
    writeFileSync(path.join(logs, 'api.20261125T070000Z.vm.000001.log'), '{"msg":"two"}\n');
    writeFileSync(path.join(logs, 'api.log'), '{"msg":"active"}\n');
    const access = path.join(nginx, 'access.log');
    writeFileSync(access, 'GET / 200\n');
    const old = new Date(Date.now() - 10 * 60_000);
    utimesSync(access, old, old);
    const config = path.join(dir, 'overseer.yaml');
    writeFileSync(
      config,
      [
        `dataDir: ${JSON.stringify(dataDir)}`,
        'logs:',
        `  dirs: [${JSON.stringify(logs)}]`,
        `  foreign: [{ dir: ${JSON.stringify(nginx)}, quietPeriod: 1m }]`,
        '',
      ].join('\n'),
    );

    const r = await runOverseer(['--config', config, 'logs', 'ship'], {});
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^shipped 3 file\(s\), 38 bytes \(\d+ gzipped\) to file:\/\/.*archive in [\d.]+ s; 0 failed/,
    );
    expect(r.stderr).toMatch(
      /3\/3 files shipped · 38 B of 38 B \([\d.]+ \w*B\/s, [\d.]+ \w*B gzipped\) · 0 failed/,
    );
    const archive = path.join(dataDir, 'archive');
    expect(existsSync(path.join(archive, 'api/vm/2026/11/25/07/api.20261125T070000Z.vm.000001.log.gz'))).toBe(
      true,
    );
    expect(readFileSync(access, 'utf8')).toBe('GET / 200\n'); // a foreign active file is never touched
    expect(readFileSync(path.join(logs, 'api.log'), 'utf8')).toBe('{"msg":"active"}\n');

    const again = await runOverseer(['--config', config, '--json', 'logs', 'ship'], {});
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ discovered: 0, uploaded: 0, failed: 0, failures: [] });
  });

  it('exits 3 with error 101721 when the store is down, keeping every file for the next try', async () => {
    const logs = path.join(dir, 'logs-down');
    const dataDir = path.join(dir, 'data-down');
    mkdirSync(logs, { recursive: true });
    const file = path.join(logs, 'api.20261125T070000Z.vm.000000.log');
    writeFileSync(file, '{"msg":"one"}\n');
    const config = path.join(dir, 'down.yaml');
    // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    writeFileSync(
      config,
      [
        `dataDir: ${JSON.stringify(dataDir)}`,
        `logs: { dirs: [${JSON.stringify(logs)}], s3: { bucket: b, endpoint: "http://127.0.0.1:9", forcePathStyle: true } }`,
        '',
      ].join('\n'),
    );
    const env = { AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y', AWS_EC2_METADATA_DISABLED: 'true' };
    const r = await runOverseer(['--config', config, '--json', 'logs', 'ship'], env);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/error 101721: 1 log file\(s\) could not be shipped/);
    expect(r.stderr).toContain('hint: nothing is lost');
    const summary = JSON.parse(r.stdout) as {
      failed: number;
      failures: Array<{ path: string; step: string }>;
    };
    expect(summary).toMatchObject({ failed: 1, failures: [{ path: file, step: 'upload' }] });
    const status = await runOverseer(['--config', config, '--json', 'logs', 'status'], env);
    expect(JSON.parse(status.stdout)).toEqual([
      expect.objectContaining({ path: file, state: 'failed', attempts: 1 }),
    ]);
    // The source went into a verified .gz in the outbox; that .gz is kept until an upload is confirmed.
    expect(readdirSync(path.join(dataDir, 'logs', 'outbox'))).toHaveLength(1);
  });
});
