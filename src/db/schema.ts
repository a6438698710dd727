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

/** Files and POST bodies ingested into billing, so a replay adds nothing. */
export interface BillingFilesTable {
  host: string;
  name: string;
  sha256: string;
  source: string;
  records: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  ingested_at: ColumnType<Date, Date | string | undefined, never>;
}

/** Every billing record ever counted, by its identity (host, id). */
export interface BillingRecordKeysTable {
  host: string;
  id: string;
}

/** Raw billing records, partitioned by UTC day of `hour`. Counters are bigint: pg returns strings. */
export interface BillingRawTable {
  host: string;
  id: string;
  tenant: string;
  space: string;
  ts: Date;
  hour: Date;
  cpu_ms: ColumnType<string, number | string, never>;
  memory_byte_seconds: number;
  messages: ColumnType<string, number | string, never>;
  bytes_in: ColumnType<string, number | string, never>;
  bytes_out: ColumnType<string, number | string, never>;
  file: string;
  ingested_at: ColumnType<Date, Date | string | undefined, never>;
}

/** One row per tenant, space and UTC hour. */
export interface BillingHourlyTable {
  tenant: string;
  space: string;
  hour: Date;
  cpu_ms: ColumnType<string, number | string, number | string>;
  memory_byte_seconds: number;
  messages: ColumnType<string, number | string, number | string>;
  bytes_in: ColumnType<string, number | string, number | string>;
  bytes_out: ColumnType<string, number | string, number | string>;
  records: number;
  first_ts: Date;
  last_ts: Date;
  revision: ColumnType<number, number | undefined, number>;
  closed_at: Date | null;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface Database {
  api_tokens: ApiTokensTable;
  audit_log: AuditLogTable;
  alarms: AlarmsTable;
  silences: SilencesTable;
  billing_files: BillingFilesTable;
  billing_record_keys: BillingRecordKeysTable;
  billing_raw: BillingRawTable;
  billing_hourly: BillingHourlyTable;
  capacity_hosts: CapacityHostsTable;
  capacity_tenants: CapacityTenantsTable;
  capacity_state: CapacityStateTable;
  capacity_routing_versions: CapacityRoutingVersionsTable;
  capacity_routes: CapacityRoutesTable;
  capacity_plan: CapacityPlanTable;
  capacity_planner_memory: CapacityPlannerMemoryTable;
}

/** Operator settings of a host (capacity admin commands). */
export interface CapacityHostsTable {
  host: string;
  pool: ColumnType<'shared' | 'dedicated', 'shared' | 'dedicated' | undefined, 'shared' | 'dedicated'>;
  dedicated_to: string | null;
  cordoned: ColumnType<boolean, boolean | undefined, boolean>;
  draining: ColumnType<boolean, boolean | undefined, boolean>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
  updated_by: string;
}

/** Operator settings of a tenant: pinned hosts (JSON array), dedicated hosts wanted, frozen. */
export interface CapacityTenantsTable {
  tenant: string;
  pinned: ColumnType<string[], string | undefined, string>;
  dedicated: ColumnType<number, number | undefined, number>;
  frozen: ColumnType<boolean, boolean | undefined, boolean>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
  updated_by: string;
}

/** One row (id 1): the routing table's version (bigint: pg returns a string) and the global freeze. */
export interface CapacityStateTable {
  id: number;
  version: ColumnType<string, number | string, number | string>;
  frozen: ColumnType<boolean, boolean | undefined, boolean>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface CapacityRoutingVersionsTable {
  version: ColumnType<string, number | string, never>;
  at: ColumnType<Date, Date | string | undefined, never>;
  actor: string;
  reason: string;
  moves: ColumnType<unknown, string, never>;
}

/** The current routing table: one row per (tenant, host). */
export interface CapacityRoutesTable {
  tenant: string;
  host: string;
  since_version: ColumnType<string, number | string, number | string>;
}

/** The leader's last plan (one row, id 1). */
export interface CapacityPlanTable {
  id: number;
  plan_id: string;
  based_on: ColumnType<string, number | string, number | string>;
  computed_at: Date;
  mode: string;
  applied_version: ColumnType<string | null, number | string | null, number | string | null>;
  moves: ColumnType<unknown, string, string>;
  inputs: ColumnType<unknown, string, string>;
  notes: ColumnType<unknown, string, string>;
}

/** The capacity planner's memory (one row), saved by the leader after every cycle. */
export interface CapacityPlannerMemoryTable {
  id: number;
  state: ColumnType<unknown, string, string>;
  pending_plan_id: string | null;
  pending_state: ColumnType<unknown, string | null, string | null>;
  saved_at: ColumnType<Date, Date | string, Date | string>;
}
