import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  action: string;
  subject: string;
  detail: unknown;
}

/** Append-only record of deliberate changes: who did what to what. */
export class AuditLog {
  constructor(private readonly deps: { db: Kysely<Database> }) {}

  async record(
    actor: string,
    action: string,
    subject: string,
    detail: Record<string, unknown> = {},
  ): Promise<void> {
    await this.deps.db
      .insertInto('audit_log')
      .values({ actor, action, subject, detail: JSON.stringify(detail) })
      .execute();
  }

  /** Newest first; `limit` is capped so a page is always bounded. */
  async list(opts: { limit: number; beforeId?: string }): Promise<AuditEntry[]> {
    let q = this.deps.db
      .selectFrom('audit_log')
      .selectAll()
      .orderBy('id', 'desc')
      .limit(Math.min(Math.max(opts.limit, 1), 1000));
    if (opts.beforeId !== undefined) q = q.where('id', '<', opts.beforeId);
    const rows = await q.execute();
    return rows.map((r) => ({
      id: String(r.id),
      at: new Date(r.at).toISOString(),
      actor: r.actor,
      action: r.action,
      subject: r.subject,
      detail: r.detail,
    }));
  }
}
