import { describe, expect, it } from 'vitest';
import { allows, allowsTenant, parseRole } from './roles.js';

describe('roles', () => {
  it.each([
    ['admin', 'admin'],
    ['viewer', 'viewer'],
    ['tenant:t-1.a', 'tenant:t-1.a'],
    ['tenant:', undefined],
    ['tenant:a b', undefined],
    ['root', undefined],
    ['Admin', undefined],
  ])('parseRole(%j) = %j', (text, role) => expect(parseRole(text)).toBe(role));

  it.each([
    ['admin', 'admin', true],
    ['admin', 'viewer', true],
    ['operator', 'admin', false],
    ['operator', 'operator', true],
    ['viewer', 'operator', false],
    ['tenant:t1', 'viewer', false],
  ] as const)('%s allows %s: %s', (role, need, ok) => expect(allows(role, need)).toBe(ok));

  it.each([
    ['tenant:t1', 't1', true],
    ['tenant:t1', 't2', false],
    ['viewer', 't2', true],
  ] as const)('%s may read billing of %s: %s', (role, t, ok) => expect(allowsTenant(role, t)).toBe(ok));
});
