import type { MiddlewareHandler } from 'hono';
import { ErrorCodes, OverseerError } from '../errors/index.js';
import type { AppEnv } from './env.js';
import { allows, type Principal, type StaffRole } from './roles.js';

export interface TokenVerifier {
  verify(token: string): Promise<Principal | undefined>;
}

/**
 * Authenticates every request it guards. It runs before routing decides anything, so a path that does not
 * exist answers 401 too: without a token nobody learns which API paths exist.
 */
export function authenticate(tokens: TokenVerifier): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!m) {
      throw new OverseerError(ErrorCodes.AUTH_TOKEN_MISSING, 'authentication required', {
        status: 401,
        hint: 'send "Authorization: Bearer <token>"; the admin token is in <dataDir>/admin-token',
      });
    }
    const principal = await tokens.verify(m[1]!);
    if (!principal) {
      throw new OverseerError(ErrorCodes.AUTH_TOKEN_INVALID, 'the bearer token is not valid', {
        status: 401,
        hint: 'the token is unknown or was revoked; ask an admin for a new one (overseer tokens create)',
      });
    }
    c.set('principal', principal);
    await next();
  };
}

/** Guards a route: the caller's role must be at least `need`. */
export function requireRole(need: StaffRole): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const principal = c.get('principal');
    if (!allows(principal.role, need)) {
      throw new OverseerError(ErrorCodes.AUTH_FORBIDDEN, `role ${principal.role} may not do this`, {
        status: 403,
        hint: `this needs the ${need} role or stronger`,
      });
    }
    await next();
  };
}
