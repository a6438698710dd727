import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { isOverseerError } from '../errors/index.js';
import { DEFAULT_REDACT_PATHS } from '../logging.js';
import { configuredShipperOptions, configuredStore } from './configured.js';
import { resolveShipOptions } from './ship-options.js';

const dir = mkdtempSync(path.join(tmpdir(), 'overseer-logs-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function load(yaml: string) {
  const file = path.join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, yaml);
  return loadConfig(file, {}).config;
}

describe('the logs: section, as serve and `overseer logs ship` both read it', () => {
  it('has no foreign folders and the default redact paths by default', () => {
    const c = load('');
    expect(c.logs.foreign).toEqual([]);
    expect(c.logs.redact).toEqual(DEFAULT_REDACT_PATHS);
  });

  it('resolves foreign folders against the config file, each with its quiet period or the shared one', () => {
    const c = load(
      'logs:\n  quietPeriod: 2m\n  foreign: [{ dir: nginx, quietPeriod: 30s }, { dir: /var/log/app }]\n',
    );
    const opts = configuredShipperOptions(c, { owner: 'test' });
    expect(opts.foreignDirs).toEqual([
      { dir: path.join(dir, 'nginx'), quietMs: 30_000 },
      { dir: '/var/log/app' },
    ]);
    expect(resolveShipOptions(opts).foreignDirs).toEqual([
      { dir: path.join(dir, 'nginx'), quietMs: 30_000 },
      { dir: '/var/log/app', quietMs: 120_000 },
    ]);
    expect(opts).toMatchObject({ owner: 'test', prefix: '', dirs: [path.join(dir, 'logs')] });
  });

  it.each([
    ['a foreign folder without dir', 'logs: { foreign: [{ quietPeriod: 1m }] }', 'logs.foreign.0.dir'],
    [
      'an unknown key in a foreign folder',
      'logs: { foreign: [{ dir: a, quiet: 1m }] }',
      'logs.foreign.0.quiet',
    ],
    [
      'a quiet period without unit',
      'logs: { foreign: [{ dir: a, quietPeriod: 5 }] }',
      'logs.foreign.0.quietPeriod',
    ],
    ['an empty redact path', "logs: { redact: [''] }", 'logs.redact.0'],
  ])('rejects %s with its path', (_name, yaml, where) => {
    let err: unknown;
    try {
      load(yaml);
    } catch (e) {
      err = e;
    }
    expect(isOverseerError(err) && err.details.join('\n')).toContain(where);
  });

  it('uploads to logs.s3 when configured, else into <dataDir>/archive', () => {
    const local = configuredStore(load('dataDir: d\n'), pino({ level: 'silent' }));
    expect(local.store.describe).toBe(`file://${path.join(dir, 'd', 'archive')}`);
    const s3 = configuredStore(
      load('logs: { s3: { bucket: b, prefix: p/, endpoint: "http://127.0.0.1:9", forcePathStyle: true } }\n'),
      pino({ level: 'silent' }),
    );
    expect(s3.store.describe).toBe('s3://b/p/');
    s3.stop();
    const opts = configuredShipperOptions(load('logs: { s3: { bucket: b, prefix: p/ } }\n'), { owner: 'x' });
    expect(opts.prefix).toBe('p/');
  });
});
