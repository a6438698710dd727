import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { useMigratedDatabase } from '../../test/helpers/migrated-db.js';
import { ManualClock } from '../clock.js';
import { TOKEN_CACHE_TTL_MS, TokenStore } from './tokens.js';

describe('TokenStore verification cache', () => {
  const database = useMigratedDatabase();
  const clock = new ManualClock(Date.parse('2026-11-25T12:00:00Z'));

  it('trusts a verified token for the TTL, then asks again', async () => {
    const a = new TokenStore({ db: database.db, clock });
    const { token } = await a.create('t', 'viewer');
    expect(await a.verify(token)).toMatchObject({ name: 't', role: 'viewer' });
    // Revoked behind this replica's back (another replica did it): still trusted until the TTL runs out.
    await sql`update api_tokens set revoked_at = now() where name = 't'`.execute(database.db);
    clock.advance(TOKEN_CACHE_TTL_MS - 1);
    expect(await a.verify(token)).toBeDefined();
    clock.advance(1);
    expect(await a.verify(token)).toBeUndefined();
  });

  it('a revocation on this replica takes effect at once', async () => {
    const a = new TokenStore({ db: database.db, clock });
    const { id, token } = await a.create('u', 'operator');
    expect(await a.verify(token)).toBeDefined();
    expect(await a.revoke(id)).toBe(true);
    expect(await a.verify(token)).toBeUndefined();
  });

  it('last_used_at is still written once a minute while the token is served from the cache', async () => {
    const a = new TokenStore({ db: database.db, clock });
    const { token } = await a.create('w', 'viewer');
    const lastUsed = async () =>
      (
        await database.db
          .selectFrom('api_tokens')
          .select('last_used_at')
          .where('name', '=', 'w')
          .executeTakeFirstOrThrow()
      ).last_used_at;
    await a.verify(token);
    const first = await lastUsed();
    clock.advance(30_000);
    await a.verify(token);
    await a.verify(token);
    expect(await lastUsed()).toEqual(first);
    clock.advance(31_000);
    await a.verify(token);
    expect((await lastUsed())!.getTime()).toBe(clock.nowMs());
  });

  it('an unknown token is never cached as valid', async () => {
    const a = new TokenStore({ db: database.db, clock });
    expect(await a.verify('ovs_nope')).toBeUndefined();
    expect(await a.verify('ovs_nope')).toBeUndefined();
  });
});
