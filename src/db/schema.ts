import type { ColumnType, Generated } from 'kysely';

/** API tokens. Only the sha256 of a token is stored; the token itself is shown once, at creation. */
export interface ApiTokensTable {
  id: Generated<number>;
  name: string;
  role: string;
  token_sha256: string;
  created_at: ColumnType<Date, Date | string | undefined, never>;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

/** Every change an operator or the service makes on purpose (GET /api/v1/audit). */
export interface AuditLogTable {
  id: Generated<string>;
  at: ColumnType<Date, Date | string | undefined, never>;
  actor: string;
  action: string;
  subject: string;
  detail: ColumnType<unknown, string, string>;
}

/** Alert instances of the built-in evaluator (one per rule and label set). */
export interface AlarmsTable {
  id: Generated<string>;
  alertname: string;
  fingerprint: string;
  labels: ColumnType<Record<string, string>, string, string>;
  annotations: ColumnType<Record<string, string>, string, string>;
  state: string;
  value: number;
  active_at: Date;
  fired_at: Date | null;
  resolved_at: Date | null;
  keep_firing_since: Date | null;
  acked_at: Date | null;
  acked_by: string | null;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** Silences: Alertmanager-style label matchers over a time window. */
export interface SilencesTable {
  id: string;
  matchers: ColumnType<unknown, string, string>;
  starts_at: Date;
  ends_at: Date;
  created_by: string;
  comment: string;
  created_at: ColumnType<Date, Date | string | undefined, never>;
  expired_at: Date | null;
}

export interface Database {
  api_tokens: ApiTokensTable;
  audit_log: AuditLogTable;
  alarms: AlarmsTable;
  silences: SilencesTable;
}
