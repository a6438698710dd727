import { z } from 'zod';
import { ErrorCodes, OverseerError } from '../errors/index.js';

/** The keyset position of a usage row: rows are ordered by (hour or period start, space). */
export interface UsageKey {
  hourMs: number;
  space: string;
}

// A cursor is longer than this only when someone made it up; refuse it before decoding anything.
const MAX_CURSOR_CHARS = 1_000;
const keyJson = z.tuple([z.iso.datetime(), z.string().min(1)]);

/** Opaque to clients (base64url of the last key returned), so the key may grow without breaking them. */
export function encodeCursor(key: UsageKey): string {
  return Buffer.from(JSON.stringify([new Date(key.hourMs).toISOString(), key.space])).toString('base64url');
}

/** The key after which the next page starts; a cursor we did not make is a 400 with the code. */
export function decodeCursor(cursor: string): UsageKey {
  let parsed: z.ZodSafeParseResult<[string, string]> | undefined;
  if (cursor.length <= MAX_CURSOR_CHARS && /^[A-Za-z0-9_-]+$/.test(cursor)) {
    try {
      parsed = keyJson.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    } catch {
      parsed = undefined;
    }
  }
  if (!parsed?.success) {
    throw new OverseerError(ErrorCodes.BILLING_CURSOR_INVALID, 'the cursor is not one this server made', {
      status: 400,
      hint: 'pass nextCursor from the previous page unchanged, or leave cursor out to start at the beginning',
    });
  }
  return { hourMs: Date.parse(parsed.data[0]), space: parsed.data[1] };
}
