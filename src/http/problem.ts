import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { OverseerError } from '../errors/index.js';

/** RFC 9457 problem details, plus Overseer's `code` and `hint`. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: number;
  hint?: string;
  instance?: string;
  errors?: string[];
}

export function toProblem(err: OverseerError, instance: string): Problem {
  return {
    type: `urn:overseer:error:${err.code}`,
    title: err.message,
    status: err.status,
    detail: err.details.length > 0 ? err.details.join('; ') : err.message,
    code: err.code,
    ...(err.hint ? { hint: err.hint } : {}),
    instance,
    ...(err.details.length > 0 ? { errors: err.details } : {}),
  };
}

export function problemResponse(c: Context, err: OverseerError): Response {
  const body = toProblem(err, c.req.path);
  const headers: Record<string, string> = { 'content-type': 'application/problem+json' };
  if (err.status === 401) headers['www-authenticate'] = 'Bearer realm="overseer"';
  return c.body(JSON.stringify(body), err.status as ContentfulStatusCode, headers);
}
