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

export interface Database {
  api_tokens: ApiTokensTable;
  audit_log: AuditLogTable;
}
