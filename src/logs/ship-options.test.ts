import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, OverseerError } from '../errors/index.js';
import { resolveShipOptions, type LogShipperOptions } from './ship-options.js';

const base: LogShipperOptions = { dirs: ['logs'], dataDir: '/data', host: 'web 1', localRetentionMs: 1000 };

function problems(over: Partial<LogShipperOptions>): string[] {
  try {
    resolveShipOptions({ ...base, ...over });
  } catch (e) {
    if (e instanceof OverseerError && e.code === ErrorCodes.LOG_SHIP_OPTIONS_INVALID) return e.details;
    throw e;
  }
  return [];
}

describe('resolveShipOptions', () => {
  it('fills in the defaults', () => {
    const c = resolveShipOptions(base);
    expect(c).toMatchObject({
      dirs: [resolve('logs')],
      foreignDirs: [],
      outbox: resolve('/data/logs/outbox'),
      host: 'web-1',
      prefix: '',
      quietMs: 300_000,
      intervalMs: 30_000,
      maxBacklogBytes: 10 * 1024 ** 3,
      alarmRatio: 0.8,
      uploadConcurrency: 2,
      backoff: { baseMs: 5000, maxMs: 900_000 },
      remoteRetentionMs: undefined,
      keyAge: undefined,
    });
    expect(c.template.source).toBe('{prefix}{service}/{host}/YYYY/MM/DD/HH/{file}.gz');
    expect(c.foreignPattern.test('nginx.log')).toBe(true);
  });

  it('gives each foreign folder its own quiet period, the shipper-wide one by default', () => {
    const c = resolveShipOptions({
      ...base,
      quietMs: 60_000,
      foreignDirs: ['nginx', { dir: 'app', quietMs: 5000 }, { dir: 'db' }],
    });
    expect(c.foreignDirs).toEqual([
      { dir: resolve('nginx'), quietMs: 60_000 },
      { dir: resolve('app'), quietMs: 5000 },
      { dir: resolve('db'), quietMs: 60_000 },
    ]);
  });

  it.each<[string, Partial<LogShipperOptions>, string]>([
    ['no folders', { dirs: [] }, 'dirs and foreignDirs are both empty'],
    ['a folder twice', { foreignDirs: ['logs'] }, 'in both dirs and foreignDirs'],
    ['a foreign folder twice', { foreignDirs: ['a', { dir: 'a' }] }, 'in foreignDirs twice'],
    ['a negative quiet period', { foreignDirs: [{ dir: 'a', quietMs: -1 }] }, 'quietMs of a must be'],
    ['the outbox as a log folder', { dirs: ['/data/logs/outbox'] }, "the shipper's own outbox"],
    ['no upload slots', { uploadConcurrency: 0 }, 'uploadConcurrency must be a positive integer'],
    ['a fractional batch', { maxBatch: 1.5 }, 'maxBatch must be a positive integer'],
    ['a negative retention', { localRetentionMs: -1 }, 'localRetentionMs must be a number ≥ 0'],
    ['an alarm past the limit', { alarmRatio: 1.5 }, 'alarmRatio must be in (0, 1]'],
    ['a zero limit', { maxBacklogBytes: 0 }, 'maxBacklogBytes must be a positive integer'],
    ['a shrinking backoff', { backoff: { baseMs: 10, maxMs: 5 } }, 'backoff.maxMs must be ≥ backoff.baseMs'],
    ['gzip level 10', { gzipLevel: 10 }, 'gzipLevel must be an integer in 0..9'],
    [
      'remote expiry without dates in keys',
      { remoteRetentionMs: 1000, keyTemplate: '{prefix}{service}/{host}/{file}.gz' },
      'remote expiry needs dates in the key template',
    ],
  ])('refuses %s', (_name, over, problem) => {
    expect(problems(over).join('\n')).toContain(problem);
  });

  it('lets a bad key template fail with its own code', () => {
    expect(() => resolveShipOptions({ ...base, keyTemplate: '{service}/{file}' })).toThrow(
      expect.objectContaining({ code: ErrorCodes.LOG_KEY_TEMPLATE_INVALID }),
    );
  });
});
