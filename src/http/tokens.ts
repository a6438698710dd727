import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import type { Principal, Role } from './roles.js';

const LAST_USED_RESOLUTION_MS = 60_000;
/** Verified tokens are trusted this long without asking the database again (a revocation on another replica
 * takes effect within it; on this one at once). */
export const TOKEN_CACHE_TTL_MS = 5_000;
const TOKEN_CACHE_MAX = 10_000;

interface CachedToken {
  principal: Principal;
  /** Asked again after this: between 3/4 and all of the TTL after the check, by the hash. */
  expiresAtMs: number;
  lastUsedMs: number;
}

/**
 * Tokens first used together (a fleet of clients starting at once) would otherwise all expire together
 * and be looked up in one burst every TTL: spread over the last quarter of it, by the token's hash.
 */
const ttlFor = (hash: string, ttl: number): number => ttl * (0.75 + parseInt(hash.slice(0, 2), 16) / 1024);

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
  // Every API request verifies its token: a database round trip each time bounded the cheapest route to
  // ~4k req/s on a 2-core box. Insertion order is age order, so the oldest entry is evicted first.
  private readonly cache = new Map<string, CachedToken>();

  constructor(private readonly deps: { db: Kysely<Database>; clock: Clock; cacheTtlMs?: number }) {}

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
    const hash = hashToken(token);
    const nowMs = this.deps.clock.nowMs();
    const ttl = this.deps.cacheTtlMs ?? TOKEN_CACHE_TTL_MS;
    const hit = this.cache.get(hash);
    if (hit !== undefined && nowMs < hit.expiresAtMs) {
      this.touch(hit, nowMs);
      return hit.principal;
    }
    this.cache.delete(hash);
    const row = await this.deps.db
      .selectFrom('api_tokens')
      .select(['id', 'name', 'role', 'last_used_at'])
      .where('token_sha256', '=', hash)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (!row) return undefined;
    const entry: CachedToken = {
      principal: { tokenId: row.id, name: row.name, role: row.role as Role },
      expiresAtMs: nowMs + ttlFor(hash, ttl),
      lastUsedMs: row.last_used_at ? new Date(row.last_used_at).getTime() : -Infinity,
    };
    this.touch(entry, nowMs);
    if (ttl > 0) {
      if (this.cache.size >= TOKEN_CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(hash, entry);
    }
    return entry.principal;
  }

  /**
   * last_used_at is kept to the minute: one write per token per minute, not one per request, and off the
   * request's path (a durable commit is milliseconds the caller need not wait for). At most one write per
   * token is in flight; a failed one is tried again by the next request.
   */
  private touch(entry: CachedToken, nowMs: number): void {
    if (nowMs - entry.lastUsedMs <= LAST_USED_RESOLUTION_MS) return;
    const before = entry.lastUsedMs;
    entry.lastUsedMs = nowMs;
    this.deps.db
      .updateTable('api_tokens')
      .set({ last_used_at: new Date(nowMs) })
      .where('id', '=', entry.principal.tokenId)
      .execute()
      .catch(() => {
        if (entry.lastUsedMs === nowMs) entry.lastUsedMs = before;
      });
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
    for (const [hash, e] of this.cache) if (e.principal.tokenId === id) this.cache.delete(hash);
    return res.numUpdatedRows > 0n;
  }
}
