import { PGlite } from '@electric-sql/pglite';
import { Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, isOverseerError } from '../errors/index.js';
import { PGliteDialect } from './pglite-dialect.js';

describe('PGliteDialect', () => {
  let db: Kysely<any>;
  beforeAll(async () => {
    db = new Kysely<any>({ dialect: new PGliteDialect(await PGlite.create(), 2) });
  }, 60_000);
  afterAll(async () => {
    await db.destroy();
  });

  it('queues queries behind a transaction up to its bound, refuses the next with a code, then runs the queued', async () => {
    let commit!: () => void;
    const held = new Promise<void>((r) => (commit = r));
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    const tx = db.transaction().execute(async (trx) => {
      await sql`select 1`.execute(trx);
      entered();
      await held;
    });
    await inside;
    const queued = [
      sql<{ n: number }>`select 1 as n`.execute(db),
      sql<{ n: number }>`select 2 as n`.execute(db),
    ];
    const refused = await sql`select 3`.execute(db).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isOverseerError(refused) && [refused.code, refused.status]).toEqual([
      ErrorCodes.DB_EMBEDDED_QUEUE_FULL,
      503,
    ]);
    commit();
    await tx;
    expect((await Promise.all(queued)).map((r) => r.rows[0]!.n)).toEqual([1, 2]);
    // The bound counts waiters, not queries ever run.
    expect((await sql<{ n: number }>`select 4 as n`.execute(db)).rows).toEqual([{ n: 4 }]);
  });
});
