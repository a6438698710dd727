import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { AlertInstance } from './alert-state.js';

/** An alert instance as stored: the evaluator's state plus what people did with it. */
export interface StoredAlarm extends AlertInstance {
  id: string;
  alertname: string;
  fingerprint: string;
  annotations: Record<string, string>;
  ackedAt: Date | null;
  ackedBy: string | null;
}

/** Rows per insert statement (11 parameters each, well under Postgres's 65,535). */
const SAVE_BATCH = 500;

const d = (ms: number | undefined): Date | null => (ms === undefined ? null : new Date(ms));

/** Alarm rows in the database: the evaluator's state survives a restart. */
export class AlarmStore {
  constructor(private readonly db: Kysely<Database>) {}

  async loadActive(): Promise<StoredAlarm[]> {
    const rows = await this.db.selectFrom('alarms').selectAll().execute();
    return rows.map((r) => ({
      id: String(r.id),
      alertname: r.alertname,
      fingerprint: r.fingerprint,
      labels: r.labels,
      annotations: r.annotations,
      state: r.state as StoredAlarm['state'],
      value: r.value,
      activeAt: r.active_at.getTime(),
      firedAt: r.fired_at?.getTime(),
      resolvedAt: r.resolved_at?.getTime(),
      keepFiringSince: r.keep_firing_since?.getTime(),
      ackedAt: r.acked_at,
      ackedBy: r.acked_by,
    }));
  }

  /** Writes the given instances (insert or update by alertname + fingerprint) and deletes `gone`, in one transaction. */
  async save(
    changed: ReadonlyArray<Omit<StoredAlarm, 'id' | 'ackedAt' | 'ackedBy'> & { clearAck: boolean }>,
    gone: ReadonlyArray<{ alertname: string; fingerprint: string }>,
  ): Promise<Map<string, string>> {
    const ids = new Map<string, string>();
    if (changed.length === 0 && gone.length === 0) return ids;
    await this.db.transaction().execute(async (trx) => {
      // A batch per statement: an incident that starts 500 alerts at once is a few statements, not 500.
      for (const clearAck of [false, true]) {
        // One row per key: Postgres refuses a statement that updates the same row twice.
        const rows = [
          ...new Map(changed.map((a) => [`${a.alertname}\u0000${a.fingerprint}`, a])).values(),
        ].filter((a) => a.clearAck === clearAck);
        for (let i = 0; i < rows.length; i += SAVE_BATCH) {
          const batch = rows.slice(i, i + SAVE_BATCH).map((a) => ({
            alertname: a.alertname,
            fingerprint: a.fingerprint,
            labels: JSON.stringify(a.labels),
            annotations: JSON.stringify(a.annotations),
            state: a.state,
            value: Number.isFinite(a.value) ? a.value : 0,
            active_at: new Date(a.activeAt),
            fired_at: d(a.firedAt),
            resolved_at: d(a.resolvedAt),
            keep_firing_since: d(a.keepFiringSince),
            updated_at: new Date(),
          }));
          const saved = await trx
            .insertInto('alarms')
            .values(batch)
            .onConflict((oc) =>
              oc.columns(['alertname', 'fingerprint']).doUpdateSet((eb) => ({
                labels: eb.ref('excluded.labels'),
                annotations: eb.ref('excluded.annotations'),
                state: eb.ref('excluded.state'),
                value: eb.ref('excluded.value'),
                active_at: eb.ref('excluded.active_at'),
                fired_at: eb.ref('excluded.fired_at'),
                resolved_at: eb.ref('excluded.resolved_at'),
                keep_firing_since: eb.ref('excluded.keep_firing_since'),
                updated_at: eb.ref('excluded.updated_at'),
                // A new episode (pending again after resolving) starts without the old ack.
                ...(clearAck ? { acked_at: null, acked_by: null } : {}),
              })),
            )
            .returning(['id', 'alertname', 'fingerprint'])
            .execute();
          for (const r of saved) ids.set(`${r.alertname}\u0000${r.fingerprint}`, String(r.id));
        }
      }
      for (const g of gone) {
        await trx
          .deleteFrom('alarms')
          .where('alertname', '=', g.alertname)
          .where('fingerprint', '=', g.fingerprint)
          .execute();
      }
    });
    return ids;
  }

  async ack(id: string, by: string, at: Date): Promise<boolean> {
    const r = await this.db
      .updateTable('alarms')
      .set({ acked_at: at, acked_by: by })
      .where('id', '=', id)
      .where('state', 'in', ['pending', 'firing'])
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }
}
