import type { Context } from 'hono';
import type { z } from 'zod';
import { ErrorCodes, OverseerError } from '../errors/index.js';

/** Parses a JSON request body against `schema`; a bad body is a 400 naming every problem. */
export async function jsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    throw new OverseerError(ErrorCodes.HTTP_BODY_NOT_JSON, 'the request body is not valid JSON', {
      status: 400,
      hint: 'send a JSON object with Content-Type: application/json',
    });
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    throw new OverseerError(ErrorCodes.HTTP_BAD_REQUEST, 'the request body is not valid', {
      status: 400,
      details: result.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`),
      hint: 'fix the listed fields and send the request again',
    });
  }
  return result.data;
}
