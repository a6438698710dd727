import { describe, expect, it } from 'vitest';
import { planRedaction, redactNested } from './redact.js';

const C = '[redacted]';

describe('planRedaction', () => {
  it.each<[string, string[], string[], string[]]>([
    ['one-level wildcards come here', ['*.password', '*.token'], ['password', 'token'], []],
    [
      'exact paths stay with pino',
      ['token', 'req.headers.authorization', 'h["x-y"]'],
      [],
      ['token', 'req.headers.authorization', 'h["x-y"]'],
    ],
    [
      'deeper or bracketed wildcards stay with pino',
      ['a.*.b', '*.a.b', '*["x-y"]', '*'],
      [],
      ['a.*.b', '*.a.b', '*["x-y"]', '*'],
    ],
    ['a name twice is kept once', ['*.pw', '*.pw', 'pw'], ['pw'], ['pw']],
    ['bad paths go to pino, which rejects them', ['a..b', '*.'], [], ['a..b', '*.']],
  ])('%s', (_name, paths, nested, rest) => {
    expect(planRedaction(paths)).toEqual({ nested, pino: rest });
  });
});

describe('redactNested', () => {
  const names = ['password', 'token'];

  it.each<[string, Record<string, unknown>]>([
    ['primitives only', { a: 1, b: 's', password: 'top level is pino’s job' }],
    ['objects without secrets', { user: { name: 'ann' }, n: null }],
    ['arrays', { list: [{ password: 'x' }] }],
    ['a secret that is undefined', { user: { password: undefined } }],
  ])('returns the very object when there is nothing to censor: %s', (_name, obj) => {
    expect(redactNested(obj, names, C)).toBe(obj);
  });

  it('censors one level down, copy-on-write, leaving the caller’s objects alone', () => {
    const user = { name: 'ann', password: 'pw', token: 't' };
    const db = { host: 'db1' };
    const obj = { user, db, n: 1 };
    const out = redactNested(obj, names, C);
    expect(out).toEqual({ user: { name: 'ann', password: C, token: C }, db: { host: 'db1' }, n: 1 });
    expect(out).not.toBe(obj);
    expect(out.db).toBe(db); // untouched values are shared, not copied
    expect(user).toEqual({ name: 'ann', password: 'pw', token: 't' });
    expect(JSON.stringify(out)).not.toContain('pw');
  });

  it('keeps an Error an Error, message and stack included', () => {
    const err = Object.assign(new Error('boom'), { token: 'secret' });
    const out = redactNested({ err }, names, C);
    expect(out.err).toBeInstanceOf(Error);
    expect(out.err).toMatchObject({ message: 'boom', token: C });
    expect(out.err.stack).toBe(err.stack);
    expect(err.token).toBe('secret');
  });

  it('does nothing without names', () => {
    const obj = { user: { password: 'pw' } };
    expect(redactNested(obj, [], C)).toBe(obj);
  });
});
