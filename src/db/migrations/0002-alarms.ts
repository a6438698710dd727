import { sql, type Kysely } from 'kysely';

// Frozen: migrations import no application code and never change once released.

export async function up(db: Kysely<any>): Promise<void> {
  // One row per alert instance (rule + label set) the built-in evaluator has seen, so a restart neither
  // loses a firing alarm nor notifies it twice.
  await db.schema
    .createTable('alarms')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('alertname', 'text', (c) => c.notNull())
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('labels', 'jsonb', (c) => c.notNull())
    .addColumn('annotations', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('value', 'double precision', (c) => c.notNull())
    .addColumn('active_at', 'timestamptz', (c) => c.notNull())
    .addColumn('fired_at', 'timestamptz')
    .addColumn('resolved_at', 'timestamptz')
    .addColumn('keep_firing_since', 'timestamptz')
    .addColumn('acked_at', 'timestamptz')
    .addColumn('acked_by', 'text')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('alarms_alert_fingerprint')
    .on('alarms')
    .columns(['alertname', 'fingerprint'])
    .unique()
    .execute();
  await db.schema.createIndex('alarms_state').on('alarms').column('state').execute();

  await db.schema
    .createTable('silences')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('matchers', 'jsonb', (c) => c.notNull())
    .addColumn('starts_at', 'timestamptz', (c) => c.notNull())
    .addColumn('ends_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('comment', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expired_at', 'timestamptz')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('silences').execute();
  await db.schema.dropTable('alarms').execute();
}
