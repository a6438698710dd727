import { describe, expect, it } from 'vitest';
import { useMigratedDatabase } from '../../test/helpers/migrated-db.js';
import { ManualClock } from '../clock.js';
import { ErrorCodes, isOverseerError } from '../errors/index.js';
import { SILENCE_RETENTION_MS, Silences } from './silences.js';

const H = 3_600_000;
const T0 = Date.parse('2026-11-25T00:00:00Z');

describe('Silences on real Postgres, on a fake clock', () => {
  const opened = useMigratedDatabase();
  const clock = new ManualClock(T0);

  const count = async (): Promise<number> =>
    Number(
      (
        await opened.db
          .selectFrom('silences')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('pending → active → expired by its window; silences only matching labels while active', async () => {
    const s = new Silences(opened.db, clock);
    await s.load();
    const created = await s.create(
      {
        matchers: '{alertname=~"ErrorCode10.*", job!="web"}',
        startsAt: new Date(T0 + H),
        durationMs: 2 * H,
        comment: 'deploy',
      },
      'alice',
    );
    const labels = { alertname: 'ErrorCode104211', job: 'api' };
    expect(created.status).toBe('pending');
    expect(s.silenced(labels)).toBe(false);
    clock.set(T0 + H);
    expect(s.list().find((x) => x.id === created.id)?.status).toBe('active');
    expect(s.silenced(labels)).toBe(true);
    expect(s.silenced({ ...labels, job: 'web' })).toBe(false);
    expect(s.silenced({ alertname: 'HostDown', job: 'api' })).toBe(false);
    clock.set(T0 + 3 * H);
    expect(s.list().find((x) => x.id === created.id)?.status).toBe('expired');
    expect(s.silenced(labels)).toBe(false);
  });

  it('a reload sees the same silences, and expiring one ends it now', async () => {
    clock.set(T0 + 10 * H);
    const a = new Silences(opened.db, clock);
    await a.load();
    const s = await a.create({ matchers: ['job="api"'], durationMs: H, comment: 'x' }, 'bob');
    const b = new Silences(opened.db, clock);
    await b.load();
    expect(b.list().find((x) => x.id === s.id)).toMatchObject({ status: 'active', createdBy: 'bob' });
    clock.advance(60_000);
    await b.expire(s.id);
    const c = new Silences(opened.db, clock);
    await c.load();
    expect(c.list().find((x) => x.id === s.id)).toMatchObject({
      status: 'expired',
      endsAt: new Date(T0 + 10 * H + 60_000).toISOString(),
    });
  });

  it('expired silences are deleted once past the retention, from the table and the list', async () => {
    const s = new Silences(opened.db, clock);
    await s.load();
    const before = await count();
    expect(before).toBeGreaterThanOrEqual(2);
    // Just inside the retention of the oldest (ended at T0 + 3h): nothing goes.
    clock.set(T0 + 3 * H + SILENCE_RETENTION_MS - 1);
    const kept = new Silences(opened.db, clock);
    await kept.load();
    expect(await count()).toBe(before);
    // Past it for every silence so far; a silence created now triggers the collection and stays.
    clock.set(T0 + 10 * H + 60_000 + SILENCE_RETENTION_MS + 1);
    const fresh = await kept.create({ matchers: 'job="db"', durationMs: H, comment: 'new' }, 'carol');
    expect(await count()).toBe(1);
    expect(kept.list().map((x) => x.id)).toEqual([fresh.id]);
  });

  it.each([
    [
      'unparsable matchers',
      { matchers: '{job=api', durationMs: H, comment: '' },
      ErrorCodes.SILENCE_MATCHERS_INVALID,
    ],
    [
      'an end before the start',
      { matchers: 'job="a"', durationMs: -H, comment: '' },
      ErrorCodes.SILENCE_WINDOW_INVALID,
    ],
    ['no end at all', { matchers: 'job="a"', comment: '' }, ErrorCodes.SILENCE_WINDOW_INVALID],
  ])('refuses %s with its code, and stores nothing', async (_, input, code) => {
    const s = new Silences(opened.db, clock);
    await s.load();
    const before = await count();
    const err = await s.create(input, 'dave').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isOverseerError(err) && err.code).toBe(code);
    expect(await count()).toBe(before);
  });
});
