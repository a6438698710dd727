import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { isOverseerError, type OverseerError } from './errors/index.js';

const dir = mkdtempSync(path.join(tmpdir(), 'overseer-config-'));
function file(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}
function failure(f: string | undefined, env: Record<string, string> = {}): OverseerError {
  try {
    loadConfig(f, env);
  } catch (e) {
    if (isOverseerError(e)) return e;
    throw e;
  }
  throw new Error('expected loadConfig to fail');
}

describe('loadConfig defaults', () => {
  it('embedded mode when there is no file', () => {
    const { config, source } = loadConfig(undefined, {});
    expect(source).toBe('defaults');
    expect(config.server.listen).toBe('127.0.0.1:9300');
    expect(config.dataDir).toBe(path.resolve('.overseer'));
    expect(config.database.url).toBeUndefined();
    expect(config.collector.scrapeInterval).toBe(15_000);
    expect(config.logs.rotate.maxBytes).toBe(64 * 1024 * 1024);
    expect(config.billing.rawRetention).toBe(35 * 86_400_000);
    expect(config.capacity).toEqual({
      interval: 10_000,
      minHostsPerTenant: 3,
      mode: 'plan',
      demandWindow: 3_600_000,
    });
    expect(config.telemetry.tracing.enabled).toBe(false);
  });

  it('an empty file is the defaults; relative paths are relative to the file', () => {
    const { config } = loadConfig(file('empty.yaml', ''), {});
    expect(config.dataDir).toBe(path.join(dir, '.overseer'));
    expect(config.logs.dirs).toEqual([path.join(dir, 'logs')]);
  });

  it('reads every section of DESIGN.md', () => {
    const { config } = loadConfig(
      file(
        'full.yaml',
        `server: { listen: "[::1]:9400" }
dataDir: data
database: { url: "postgres://u:p@127.0.0.1:5432/o" }
collector:
  scrapeInterval: 30s
  scrapeTimeout: 5s
  targets: [ { url: "http://127.0.0.1:9100/metrics", labels: { host: a } } ]
  fileSd: [ "targets/*.json" ]
  prometheus: { url: "http://127.0.0.1:9090" }
alarms:
  codeSources: [ { dir: "../svc/src", language: java } ]
  catalog: codes.yml
  alertmanager: { url: "http://127.0.0.1:9093" }
  webhooks: [ { url: "http://127.0.0.1:8080/hook" } ]
logs:
  dirs: [ logs ]
  rotate: { maxBytes: 1MiB, maxAge: 1h30m }
  s3: { bucket: b, prefix: logs/, region: eu-west-1, endpoint: "http://127.0.0.1:4569", forcePathStyle: true, requestChecksumCalculation: WHEN_REQUIRED }
  localRetention: 7d
billing: { spoolDirs: [ spool ], closeAfter: 2h, rawRetention: 35d }
capacity: { interval: 10s, minHostsPerTenant: 2, mode: auto }
`,
      ),
      {},
    );
    expect(config.server.listen).toBe('[::1]:9400');
    expect(config.collector.targets[0]).toEqual({
      url: 'http://127.0.0.1:9100/metrics',
      labels: { host: 'a' },
    });
    expect(config.logs.rotate).toEqual({ maxBytes: 1024 * 1024, maxAge: 5_400_000 });
    expect(config.alarms.codeSources).toEqual([
      { dir: path.resolve(dir, '../svc/src'), language: 'java', container: 'ErrorCodes' },
    ]);
    expect(config.capacity.mode).toBe('auto');
  });
});

describe('env overrides', () => {
  it('OVERSEER_* keys override the file; DATABASE_URL wins', () => {
    const f = file('env.yaml', 'server: { listen: "127.0.0.1:1" }\ndatabase: { url: "postgres://a/b" }\n');
    const { config, envApplied, warnings } = loadConfig(f, {
      OVERSEER_SERVER_LISTEN: '127.0.0.1:2',
      OVERSEER_CAPACITY_MIN_HOSTS_PER_TENANT: '5',
      OVERSEER_TELEMETRY_TRACING_ENABLED: 'true',
      OVERSEER_COLLECTOR_TARGETS: '[{url: "http://127.0.0.1:9100/metrics"}]',
      OVERSEER_DATABASE_URL: 'postgres://ignored/x',
      DATABASE_URL: 'postgres://c/d',
      OVERSEER_LISEN: 'x',
      OVERSEER_URL: 'http://cli-only',
    });
    expect(config.server.listen).toBe('127.0.0.1:2');
    expect(config.capacity.minHostsPerTenant).toBe(5);
    expect(config.telemetry.tracing.enabled).toBe(true);
    expect(config.collector.targets).toEqual([{ url: 'http://127.0.0.1:9100/metrics', labels: {} }]);
    expect(config.database.url).toBe('postgres://c/d');
    expect(envApplied).toContain('DATABASE_URL');
    expect(warnings).toEqual([expect.stringContaining('OVERSEER_LISEN is not a config key')]);
  });
});

describe('invalid configuration', () => {
  it.each([
    ['missing file', undefined, path.join(dir, 'nope.yaml'), 100101, [/nope\.yaml/]],
    ['malformed YAML', 'server:\n  listen: "127.0.0.1:9300\n', 'bad.yaml', 100102, [/bad\.yaml:\d+:\d+/]],
    ['duplicate key', 'dataDir: a\ndataDir: b\n', 'dup.yaml', 100102, [/dup\.yaml:2:1/]],
    ['a list at the top', '- a\n- b\n', 'list.yaml', 100104, []],
    [
      'unknown key, with the closest known key',
      'server:\n  lisen: "127.0.0.1:9300"\n',
      'k.yaml',
      100103,
      [/k\.yaml:2:3: server\.lisen: unknown key \(did you mean "listen"\?\)/],
    ],
    [
      'unknown top-level key',
      'colector: {}\n',
      'k2.yaml',
      100103,
      [/colector: unknown key \(did you mean "collector"\?\)/],
    ],
    [
      'wrong type',
      'capacity: { minHostsPerTenant: "three" }\n',
      't.yaml',
      100103,
      [/t\.yaml:1:32: capacity\.minHostsPerTenant: .*expected number/],
    ],
    [
      'duration without unit',
      'collector: { scrapeInterval: 15 }\n',
      'd.yaml',
      100103,
      [/collector\.scrapeInterval: invalid duration 15/],
    ],
    [
      'bad size',
      'logs: { rotate: { maxBytes: 64 mebibytes } }\n',
      's.yaml',
      100103,
      [/logs\.rotate\.maxBytes: invalid size/],
    ],
    ['bad enum', 'capacity: { mode: turbo }\n', 'e.yaml', 100103, [/capacity\.mode: .*"plan"\|"auto"/]],
    [
      'an inconsistent capacity policy (each key fine on its own), minHostsPerTenant from capacity',
      'capacity: { minHostsPerTenant: 40, policy: { hotSamples: 5 } }\n',
      'p.yaml',
      100103,
      [
        /p\.yaml:1:\d+: capacity\.policy: hotSamples must be at most windowSamples/,
        /capacity\.policy: minHostsPerTenant must be at most maxHostsPerTenant/,
      ],
    ],
    ['bad listen', 'server: { listen: "9300" }\n', 'l.yaml', 100103, [/server\.listen: must be host:port/]],
    [
      'bad URL in a list',
      'collector: { targets: [ { url: "10.0.0.5:9100" } ] }\n',
      'u.yaml',
      100103,
      [/collector\.targets\.0\.url: must be an absolute URL/],
    ],
    [
      'every problem at once',
      'server: { lisen: x }\ncapacity: { mode: turbo, interval: 10 }\n',
      'many.yaml',
      100103,
      [/server\.lisen/, /capacity\.mode/, /capacity\.interval/],
    ],
  ])('%s', (_name, text, name, code, patterns) => {
    const f = text === undefined ? name : file(name, text);
    const err = failure(f);
    expect(err.code).toBe(code);
    expect(err.exitCode).toBe(2);
    expect(err.hint).toBeTruthy();
    const shown = err.format();
    for (const p of patterns) expect(shown).toMatch(p);
  });

  it('a bad env value names the variable', () => {
    const err = failure(undefined, { OVERSEER_CAPACITY_MODE: 'turbo' });
    expect(err.format()).toMatch(/env OVERSEER_CAPACITY_MODE: capacity\.mode/);
  });
});
