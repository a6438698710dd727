import { describe, expect, it } from 'vitest';
import { ErrorCodes, OverseerError } from '../errors/index.js';
import {
  DEFAULT_KEY_TEMPLATE,
  compileKeyTemplate,
  objectKey,
  unsafeKeyReason,
  type KeyVars,
} from './object-keys.js';

const vars: KeyVars = {
  prefix: 'logs/',
  service: 'api',
  host: 'web-1',
  file: 'api.2024-03-05T07-00-00Z',
  time: new Date('2024-03-05T07:59:59.999Z'),
};

function codeOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof OverseerError ? e.code : -1;
  }
  return undefined;
}

describe('objectKey', () => {
  it.each([
    [
      'the default template',
      DEFAULT_KEY_TEMPLATE,
      {},
      'logs/api/web-1/2024/03/05/07/api.2024-03-05T07-00-00Z.gz',
    ],
    [
      'an empty prefix',
      DEFAULT_KEY_TEMPLATE,
      { prefix: '' },
      'api/web-1/2024/03/05/07/api.2024-03-05T07-00-00Z.gz',
    ],
    [
      'a nested prefix',
      DEFAULT_KEY_TEMPLATE,
      { prefix: 'a/b/' },
      'a/b/api/web-1/2024/03/05/07/api.2024-03-05T07-00-00Z.gz',
    ],
    [
      'UTC, not local time, across a day boundary',
      DEFAULT_KEY_TEMPLATE,
      { time: new Date('2023-12-31T23:30:00-02:00') },
      'logs/api/web-1/2024/01/01/01/api.2024-03-05T07-00-00Z.gz',
    ],
    [
      'braced date tokens',
      '{host}/{YYYY}-{MM}-{DD}T{HH}/{service}/{file}',
      {},
      'web-1/2024-03-05T07/api/api.2024-03-05T07-00-00Z',
    ],
    [
      'bare tokens only as whole words',
      'MMX/{service}/{host}/{file}-HH',
      {},
      'MMX/api/web-1/api.2024-03-05T07-00-00Z-07',
    ],
    ['non-ASCII names', '{service}/{host}/{file}', { host: 'hôte-1' }, 'api/hôte-1/api.2024-03-05T07-00-00Z'],
  ])('%s', (_name, template, over: Partial<KeyVars>, want) => {
    expect(objectKey(template, { ...vars, ...over })).toBe(want);
  });

  it('gives the same key for the same inputs (idempotent re-uploads)', () => {
    const compiled = compileKeyTemplate(DEFAULT_KEY_TEMPLATE);
    const a = objectKey(compiled, vars);
    expect(objectKey(compiled, { ...vars, time: new Date(vars.time.getTime()) })).toBe(a);
    expect(objectKey(DEFAULT_KEY_TEMPLATE, vars)).toBe(a);
  });

  it.each([
    ['an unknown placeholder', '{prefix}{service}/{hostname}/{file}', 'unknown placeholder {hostname}'],
    ['a lowercase date token', '{service}/{host}/{yyyy}/{file}', 'unknown placeholder {yyyy}'],
    ['an unclosed brace', '{service}/{host}/{file', '"{" without "}"'],
    ['a stray closing brace', '{service}/{host}}/{file}', '"}" without "{"'],
    ['no {file}', '{service}/{host}/YYYY.gz', 'lacks {file}'],
    ['no {host} nor {service}', 'YYYY/{file}', 'lacks {service}, {host}'],
    ['a leading slash', '/{service}/{host}/{file}', 'starts with "/"'],
    ['a ".." segment', '{service}/../{host}/{file}', '".." segment'],
    ['an empty segment', '{service}//{host}/{file}', 'empty segment'],
    ['a control character', '{service}/\t{host}/{file}', 'control character'],
  ])('rejects a template with %s', (_name, template, message) => {
    expect(() => compileKeyTemplate(template)).toThrow(message);
    expect(codeOf(() => compileKeyTemplate(template))).toBe(ErrorCodes.LOG_KEY_TEMPLATE_INVALID);
  });

  it('names the placeholders it knows in the hint', () => {
    try {
      compileKeyTemplate('{svc}/{host}/{file}');
      expect.unreachable();
    } catch (e) {
      expect((e as OverseerError).hint).toContain('{service}');
    }
  });

  it.each([
    ['an empty host', { host: '' }],
    ['a service with "/"', { service: 'a/b' }],
    ['a file with "/"', { file: '../etc/passwd' }],
    ['an invalid date', { time: new Date(Number.NaN) }],
    ['a five-digit year', { time: new Date('+010000-01-01T00:00:00Z') }],
  ])('rejects vars with %s', (_name, over: Partial<KeyVars>) => {
    expect(codeOf(() => objectKey(DEFAULT_KEY_TEMPLATE, { ...vars, ...over }))).toBe(
      ErrorCodes.LOG_KEY_VAR_INVALID,
    );
  });

  it.each([
    ['a prefix with a leading "/"', { prefix: '/logs/' }],
    ['a prefix with ".."', { prefix: '../' }],
    ['a host with a control character', { host: 'web\n1' }],
    ['a host of "..."', { host: '..' }],
  ])('rejects a key from %s', (_name, over: Partial<KeyVars>) => {
    expect(codeOf(() => objectKey(DEFAULT_KEY_TEMPLATE, { ...vars, ...over }))).toBe(
      ErrorCodes.LOG_KEY_UNSAFE,
    );
  });
});

describe('unsafeKeyReason', () => {
  it.each([
    ['a/b/c.gz', undefined],
    ['a', undefined],
    ['a/.hidden/..b/c..', undefined],
    ['', 'is empty'],
    ['/a', 'starts with "/"'],
    ['a/', 'empty segment'],
    ['a//b', 'empty segment'],
    ['a/./b', '"." segment'],
    ['a/../b', '".." segment'],
    ['..', '".." segment'],
    ['a\\b', 'contains "\\"'],
    ['a\u0000b', 'control character'],
    ['a\u007fb', 'control character'],
    ['x'.repeat(1025), 'longer than 1024 bytes'],
    ['é'.repeat(513), 'longer than 1024 bytes'],
  ])('%j → %s', (key, reason) => {
    const got = unsafeKeyReason(key);
    if (reason === undefined) expect(got).toBeUndefined();
    else expect(got).toContain(reason);
  });
});
