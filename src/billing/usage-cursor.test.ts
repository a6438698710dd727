import { describe, expect, it } from 'vitest';
import { ErrorCodes, OverseerError } from '../errors/index.js';
import { decodeCursor, encodeCursor } from './usage-cursor.js';

const b64 = (text: string): string => Buffer.from(text).toString('base64url');

describe('usage cursor', () => {
  it.each([
    [Date.parse('2026-11-25T10:00:00Z'), 's1'],
    [Date.parse('2026-11-01T00:00:00Z'), 'space, with "quotes" and ünïcode'],
  ])('round-trips %i / %s as URL-safe text', (hourMs, space) => {
    const c = encodeCursor({ hourMs, space });
    expect(c).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(c)).toEqual({ hourMs, space });
  });

  it.each([
    ['empty', ''],
    ['not base64url', 'abc+/='],
    ['not JSON', b64('hello')],
    ['an object', b64('{"hour":"2026-11-25T10:00:00.000Z","space":"s1"}')],
    ['a bad time', b64('["yesterday","s1"]')],
    ['no space', b64('["2026-11-25T10:00:00.000Z"]')],
    ['an empty space', b64('["2026-11-25T10:00:00.000Z",""]')],
    ['too long', 'A'.repeat(1001)],
  ])('refuses %s with 400 and its code', (_n, cursor) => {
    let err: unknown;
    try {
      decodeCursor(cursor);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OverseerError);
    expect(err).toMatchObject({ code: ErrorCodes.BILLING_CURSOR_INVALID, status: 400 });
  });
});
