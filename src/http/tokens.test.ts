import { sql, type KyselyPlugin } from 'kysely';
import { describe, expect, it } from 'vitest';
import { useMigratedDatabase } from '../../test/helpers/migrated-db.js';
import { waitFor } from '../../test/helpers/poll.js';
import { ManualClock } from '../clock.js';
import { TOKEN_CACHE_TTL_MS, TokenStore } from './tokens.js';

describe('TokenStore verification cache', () => {
  const database = useMigratedDatabase();
  const clock = new ManualClock(Date.parse('2026-11-25T12:00:00Z'));

  it('trusts a verified token for the TTL, then asks again', async () => {
    const a = new TokenStore({ db: database.db, clock });
    const { token } = await a.create('t', 'viewer');
    expect(await a.verify(token)).toMatchObject({ name: 't', role: 'viewer' });
    // Revoked behind this replica's back (another replica did it): still trusted for at least 3/4 of the
    // TTL (expiries are spread over its last quarter), never past it.
    await sql`update api_tokens set revoked_at = now() where name = 't'`.execute(database.db);
    clock.advance((TOKEN_CACHE_TTL_MS * 3) / 4 - 1);
    expect(await a.verify(token)).toBeDefined();
    clock.advance(TOKEN_CACHE_TTL_MS / 4 + 1);
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
    // Every UPDATE the store sends, counted as it is sent.
    let updates = 0;
    const counting: KyselyPlugin = {
      transformQuery: (args) => {
        if (args.node.kind === 'UpdateQueryNode') updates++;
        return args.node;
      },
      transformResult: (args) => Promise.resolve(args.result),
    };
    const a = new TokenStore({ db: database.db.withPlugin(counting), clock });
    const { token } = await a.create('w', 'viewer');
    const lastUsed = async () =>
      (
        await database.db
          .selectFrom('api_tokens')
          .select('last_used_at')
          .where('name', '=', 'w')
          .executeTakeFirstOrThrow()
      ).last_used_at;
    // Written after the answer, not before it: read back with a deadline.
    const writtenAt = (ms: number) =>
      waitFor(
        `last_used_at ${new Date(ms).toISOString()}`,
        async () => ((await lastUsed())?.getTime() === ms ? true : undefined),
        { timeoutMs: 10_000, intervalMs: 10 },
      );
    await a.verify(token);
    expect(updates).toBe(1);
    await writtenAt(clock.nowMs());
    clock.advance(30_000);
    await a.verify(token);
    await a.verify(token);
    expect(updates).toBe(1);
    clock.advance(31_000);
    await a.verify(token);
    expect(updates).toBe(2);
    await writtenAt(clock.nowMs());
  });

  it('an unknown token is never cached as valid', async () => {
    const a = new TokenStore({ db: database.db, clock });
    expect(await a.verify('ovs_nope')).toBeUndefined();
    expect(await a.verify('ovs_nope')).toBeUndefined();
  });
});
