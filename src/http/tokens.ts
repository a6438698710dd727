import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import type { Principal, Role } from './roles.js';

const LAST_USED_RESOLUTION_MS = 60_000;

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function generateToken(): string {
  return `ovs_${randomBytes(32).toString('base64url')}`;
}

export interface TokenInfo {
  id: number;
  name: string;
  role: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/**
 * API tokens, stored as sha256 only: a leaked database does not leak credentials. Tokens are 256 random
 * bits, so a plain hash (no salt, no slow KDF) is enough and lets lookup be one indexed equality.
 */
export class TokenStore {
  constructor(private readonly deps: { db: Kysely<Database>; clock: Clock }) {}

  /** Creates a token and returns it; this is the only time the plain token exists on the server. */
  async create(
    name: string,
    role: Role,
    token: string = generateToken(),
  ): Promise<{ id: number; token: string }> {
    const row = await this.deps.db
      .insertInto('api_tokens')
      .values({ name, role, token_sha256: hashToken(token) })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { id: row.id, token };
  }

  /** Makes sure `token` is known (idempotent): used to re-register the admin token file's token. */
  async ensure(name: string, role: Role, token: string): Promise<void> {
    await this.deps.db
      .insertInto('api_tokens')
      .values({ name, role, token_sha256: hashToken(token) })
      .onConflict((oc) => oc.column('token_sha256').doNothing())
      .execute();
  }

  async verify(token: string): Promise<Principal | undefined> {
    const row = await this.deps.db
      .selectFrom('api_tokens')
      .select(['id', 'name', 'role', 'last_used_at'])
      .where('token_sha256', '=', hashToken(token))
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (!row) return undefined;
    // last_used_at is kept to the minute: one write per token per minute, not one per request.
    const now = this.deps.clock.now();
    if (!row.last_used_at || now.getTime() - new Date(row.last_used_at).getTime() > LAST_USED_RESOLUTION_MS) {
      await this.deps.db
        .updateTable('api_tokens')
        .set({ last_used_at: now })
        .where('id', '=', row.id)
        .execute();
    }
    return { tokenId: row.id, name: row.name, role: row.role as Role };
  }

  async list(): Promise<TokenInfo[]> {
    const rows = await this.deps.db.selectFrom('api_tokens').selectAll().orderBy('id').execute();
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      role: r.role,
      createdAt: new Date(r.created_at).toISOString(),
      lastUsedAt: r.last_used_at ? new Date(r.last_used_at).toISOString() : null,
      revokedAt: r.revoked_at ? new Date(r.revoked_at).toISOString() : null,
    }));
  }

  /** Returns whether a live token was revoked. */
  async revoke(id: number): Promise<boolean> {
    const res = await this.deps.db
      .updateTable('api_tokens')
      .set({ revoked_at: this.deps.clock.now() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }
}
