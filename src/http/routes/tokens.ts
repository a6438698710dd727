import type { Hono } from 'hono';
import { z } from 'zod';
import type { AuditLog } from '../../db/audit-log.js';
import { ErrorCodes, OverseerError } from '../../errors/index.js';
import { requireRole } from '../auth.js';
import type { AppEnv } from '../env.js';
import { parseRole } from '../roles.js';
import type { TokenStore } from '../tokens.js';
import { jsonBody } from '../validate.js';

const createBody = z.strictObject({ name: z.string().min(1).max(200), role: z.string().min(1) });

/** Who am I, and token administration (admin only). */
export function tokenRoutes(deps: { tokens: TokenStore; audit: AuditLog }) {
  return (api: Hono<AppEnv>): void => {
    api.get('/whoami', (c) => {
      const p = c.get('principal');
      return c.json({ name: p.name, role: p.role, tokenId: p.tokenId });
    });

    api.get('/tokens', requireRole('admin'), async (c) => c.json({ tokens: await deps.tokens.list() }));

    api.post('/tokens', requireRole('admin'), async (c) => {
      const body = await jsonBody(c, createBody);
      const role = parseRole(body.role);
      if (!role) {
        throw new OverseerError(ErrorCodes.TOKEN_ROLE_INVALID, `unknown role ${JSON.stringify(body.role)}`, {
          status: 400,
          hint: 'roles are admin, operator, viewer, or tenant:<id>',
        });
      }
      const created = await deps.tokens.create(body.name, role);
      await deps.audit.record(c.get('principal').name, 'token.create', `token/${created.id}`, {
        name: body.name,
        role,
      });
      return c.json({ id: created.id, name: body.name, role, token: created.token }, 201);
    });

    api.delete('/tokens/:id{[0-9]+}', requireRole('admin'), async (c) => {
      const id = Number(c.req.param('id'));
      const revoked = await deps.tokens.revoke(id);
      if (revoked) await deps.audit.record(c.get('principal').name, 'token.revoke', `token/${id}`);
      return c.json({ id, revoked });
    });

    api.get('/audit', requireRole('operator'), async (c) => {
      const limit = Number(c.req.query('limit') ?? 100);
      const before = c.req.query('before');
      const entries = await deps.audit.list({
        limit: Number.isFinite(limit) ? limit : 100,
        ...(before && /^[0-9]+$/.test(before) ? { beforeId: before } : {}),
      });
      return c.json({ entries });
    });
  };
}
