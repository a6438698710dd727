import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import { ErrorCodes, OverseerError } from '../errors/index.js';
import { matches, MatcherSyntaxError, parseMatchers, type Matcher } from './matchers.js';

export interface Silence {
  id: string;
  matchers: Matcher[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
  status: 'pending' | 'active' | 'expired';
}

export interface NewSilence {
  /** Alertmanager syntax: `{job="api", alertname=~"ErrorCode10.*"}`, or a list of single matchers. */
  matchers: string | string[];
  startsAt?: Date;
  /** The end, or how long from the start (ms): one of the two. */
  endsAt?: Date;
  durationMs?: number;
  comment: string;
}

interface Row {
  id: string;
  matchers: Matcher[];
  startsAt: number;
  endsAt: number;
  createdBy: string;
  comment: string;
}

/** Expired silences stay listed this long, then are deleted (Alertmanager's default data retention, 120h). */
export const SILENCE_RETENTION_MS = 120 * 3_600_000;

/**
 * Silences, Alertmanager's way: label matchers over a time window, kept in the database and cached in
 * memory for the notify pipeline. Expiring one ends its window now; it stays listed as expired for
 * SILENCE_RETENTION_MS, then is deleted (at start and whenever a silence is created: no timer needed, as
 * only people add silences).
 */
export class Silences {
  private rows: Row[] = [];

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async load(): Promise<void> {
    const rows = await this.db.selectFrom('silences').selectAll().orderBy('created_at').execute();
    this.rows = rows.map((r) => ({
      id: r.id,
      matchers: r.matchers as Matcher[],
      startsAt: r.starts_at.getTime(),
      endsAt: (r.expired_at ?? r.ends_at).getTime(),
      createdBy: r.created_by,
      comment: r.comment,
    }));
    await this.collectGarbage();
  }

  /** Deletes silences that ended more than the retention ago. */
  private async collectGarbage(): Promise<void> {
    const cutoff = this.clock.nowMs() - SILENCE_RETENTION_MS;
    if (!this.rows.some((r) => r.endsAt < cutoff)) return;
    await this.db
      .deleteFrom('silences')
      .where((eb) => eb(eb.fn.coalesce('expired_at', 'ends_at'), '<', new Date(cutoff)))
      .execute();
    this.rows = this.rows.filter((r) => r.endsAt >= cutoff);
  }

  list(): Silence[] {
    const now = this.clock.nowMs();
    return this.rows.map((r) => ({
      id: r.id,
      matchers: r.matchers,
      startsAt: new Date(r.startsAt).toISOString(),
      endsAt: new Date(r.endsAt).toISOString(),
      createdBy: r.createdBy,
      comment: r.comment,
      status: now < r.startsAt ? 'pending' : now < r.endsAt ? 'active' : 'expired',
    }));
  }

  /** Whether an active silence covers these labels now. */
  silenced(labels: Readonly<Record<string, string>>): boolean {
    const now = this.clock.nowMs();
    return this.rows.some((r) => now >= r.startsAt && now < r.endsAt && matches(r.matchers, labels));
  }

  async create(s: NewSilence, by: string): Promise<Silence> {
    let matchers: Matcher[];
    try {
      matchers = (Array.isArray(s.matchers) ? s.matchers : [s.matchers]).flatMap((m) => parseMatchers(m));
    } catch (e) {
      if (!(e instanceof MatcherSyntaxError)) throw e;
      throw new OverseerError(ErrorCodes.SILENCE_MATCHERS_INVALID, 'the silence matchers cannot be parsed', {
        status: 400,
        details: [e.message],
        hint: 'Alertmanager syntax, e.g. {alertname="ErrorCode104211", job=~"billing|ledger"}',
      });
    }
    const startsAt = s.startsAt ?? new Date(this.clock.nowMs());
    const endsAt = s.endsAt ?? new Date(startsAt.getTime() + (s.durationMs ?? NaN));
    if (!(endsAt.getTime() > startsAt.getTime()) || endsAt.getTime() <= this.clock.nowMs()) {
      throw new OverseerError(
        ErrorCodes.SILENCE_WINDOW_INVALID,
        'a silence must end after it starts, in the future',
        {
          status: 400,
          details: [
            `startsAt ${startsAt.toISOString()}, endsAt ${Number.isNaN(endsAt.getTime()) ? 'missing' : endsAt.toISOString()}`,
          ],
          hint: 'give endsAt later than startsAt and now, or a duration like 2h',
        },
      );
    }
    await this.collectGarbage();
    const id = randomUUID();
    await this.db
      .insertInto('silences')
      .values({
        id,
        matchers: JSON.stringify(matchers),
        starts_at: startsAt,
        ends_at: endsAt,
        created_by: by,
        comment: s.comment,
      })
      .execute();
    this.rows.push({
      id,
      matchers,
      startsAt: startsAt.getTime(),
      endsAt: endsAt.getTime(),
      createdBy: by,
      comment: s.comment,
    });
    return this.list().find((x) => x.id === id)!;
  }

  async expire(id: string): Promise<void> {
    const row = this.rows.find((r) => r.id === id);
    if (row === undefined) {
      throw new OverseerError(ErrorCodes.SILENCE_NOT_FOUND, `no silence ${id}`, {
        status: 404,
        hint: 'GET /api/v1/silences lists them',
      });
    }
    const now = new Date(this.clock.nowMs());
    await this.db.updateTable('silences').set({ expired_at: now }).where('id', '=', id).execute();
    row.endsAt = Math.min(row.endsAt, now.getTime());
  }
}
