import { describe, expect, it } from 'vitest';
import { isOverseerError } from '../errors/index.js';
import {
  ROTATED_PATTERN,
  activeName,
  parseRotatedName,
  rotatedName,
  sanitizeHost,
  SEQ_MAX,
} from './log-names.js';

const utc = (iso: string): number => Date.parse(iso);

describe('rotatedName', () => {
  it.each([
    ['api', '2025-01-02T13:00:00.000Z', 'web-1', 0, 'api.20250102T130000Z.web-1.000000.log'],
    ['api', '2025-01-02T13:00:00.999Z', 'web-1', 7, 'api.20250102T130000Z.web-1.000007.log'],
    ['billing_api', '1970-01-01T00:00:00.000Z', 'h', 999_999, 'billing_api.19700101T000000Z.h.999999.log'],
    [
      'x',
      '2024-02-29T23:59:59.500Z',
      'web_1.prod.example.com',
      12,
      'x.20240229T235959Z.web-1-prod-example-com.000012.log',
    ],
    ['x', '9999-12-31T23:59:59.000Z', '', 1, 'x.99991231T235959Z.unknown.000001.log'],
  ])('%s %s %j #%d → %s', (service, iso, host, seq, name) => {
    expect(rotatedName({ service, startMs: utc(iso), host, seq })).toBe(name);
    expect(ROTATED_PATTERN.test(name)).toBe(true);
  });

  it.each([
    ['', 0, 0],
    ['a.b', 0, 0],
    ['a/b', 0, 0],
    ['..', 0, 0],
    ['x'.repeat(65), 0, 0],
    ['ok', -1, 0],
    ['ok', Number.NaN, 0],
    ['ok', utc('+010000-01-01T00:00:00Z'), 0],
    ['ok', 0, -1],
    ['ok', 0, SEQ_MAX + 1],
    ['ok', 0, 1.5],
  ])('rejects service %j, start %d, seq %d with LOG_NAME_INVALID', (service, startMs, seq) => {
    let caught: unknown;
    try {
      rotatedName({ service, startMs, host: 'h', seq });
    } catch (e) {
      caught = e;
    }
    expect(isOverseerError(caught) && caught.code).toBe(101501);
  });
});

describe('sanitizeHost', () => {
  it.each([
    ['web-1', 'web-1'],
    ['Web_1.local', 'Web-1-local'],
    ['ünï', '-n-'],
    ['', 'unknown'],
    ['a'.repeat(100), 'a'.repeat(63)],
  ])('%j → %j', (raw, safe) => expect(sanitizeHost(raw)).toBe(safe));
});

describe('activeName', () => {
  it('is <service>.log and never matches the rotated pattern', () => {
    expect(activeName('api')).toBe('api.log');
    expect(parseRotatedName('api.log')).toBeUndefined();
  });
});

describe('parseRotatedName', () => {
  it('round-trips every field (start to the second)', () => {
    const name = rotatedName({
      service: 'api',
      startMs: utc('2025-06-30T23:59:58.750Z'),
      host: 'h-2',
      seq: 42,
    });
    expect(parseRotatedName(name)).toEqual({
      service: 'api',
      startMs: utc('2025-06-30T23:59:58Z'),
      host: 'h-2',
      seq: 42,
    });
  });

  it.each([
    'api.log',
    'api.20250102T130000Z.web-1.000000.log.gz',
    'api.20250102T130000Z.web-1.00000.log',
    'api.20250102T130000Z.web.1.000000.log',
    'api.20250230T130000Z.web-1.000000.log',
    'api.20251302T130000Z.web-1.000000.log',
    'api.20250102T250000Z.web-1.000000.log',
    'api.2025010T130000Z.web-1.000000.log',
    '.20250102T130000Z.web-1.000000.log',
    'a.b.20250102T130000Z.web-1.000000.log',
    'api.20250102T130000Z..000000.log',
    'notes.txt',
  ])('%j → undefined', (name) => expect(parseRotatedName(name)).toBeUndefined());
});

describe('lexical order is chronological order (one service, one host)', () => {
  const at = (iso: string, seq = 0): string =>
    rotatedName({ service: 'svc', startMs: utc(iso), host: 'h', seq });
  it.each([
    ['within a second, by seq', at('2025-01-01T00:00:00Z', 0), at('2025-01-01T00:00:00.900Z', 1)],
    [
      'seq 999999 then the next second at 0',
      at('2025-01-01T00:00:00Z', 999_999),
      at('2025-01-01T00:00:01Z', 0),
    ],
    ['seq 9 then 10 (fixed width)', at('2025-01-01T00:00:00Z', 9), at('2025-01-01T00:00:00Z', 10)],
    ['across an hour', at('2025-01-01T09:59:59Z'), at('2025-01-01T10:00:00Z')],
    ['9 o’clock before 10 o’clock', at('2025-01-01T09:00:00Z', 5), at('2025-01-01T10:00:00Z')],
    ['across a day', at('2025-01-09T23:59:59Z', 3), at('2025-01-10T00:00:00Z')],
    ['across a month', at('2025-09-30T23:00:00Z'), at('2025-10-01T00:00:00Z')],
    ['across a year', at('2024-12-31T23:59:59Z', 999_999), at('2025-01-01T00:00:00Z')],
    ['across a decade', at('2029-12-31T23:00:00Z'), at('2030-01-01T00:00:00Z')],
  ])('%s', (_what, earlier, later) => {
    expect(earlier < later).toBe(true);
    expect([later, earlier].sort()).toEqual([earlier, later]);
  });

  it('a whole year of hourly files with a few same-second rotations sorts into time order', () => {
    const names: string[] = [];
    const start = utc('2024-12-31T20:00:00Z');
    for (let h = 0; h < 24 * 366; h++) {
      names.push(at(new Date(start + h * 3_600_000).toISOString(), 0));
      if (h % 97 === 0) names.push(at(new Date(start + h * 3_600_000).toISOString(), 1));
    }
    const shuffled = [...names].reverse();
    shuffled.sort();
    expect(shuffled).toEqual(names);
  });
});
