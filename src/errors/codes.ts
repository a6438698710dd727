/**
 * Overseer's own error codes. Every code is defined once here and raised at exactly one place in src/,
 * so an error (and the alarm built on it) names the line that failed. `overseer codes scan src` enforces
 * this in CI. Numbers are never reused: retire a code by deleting it, never by renumbering another.
 *
 * Class: a code is `server` (Overseer's fault: its alert pages) unless tagged `// @class client` (the
 * caller's or operator's input was wrong: a ticket past a threshold). `overseer generate` reads the tags.
 *
 * Ranges: 1001xx config · 1002xx database · 1003xx HTTP/auth · 1004xx CLI · 1005xx code scanner ·
 * 1006xx lifecycle · 1007xx tokens · 1008xx telemetry · 1009xx collector · 1010xx alarms · 1011xx dashboards ·
 * 1012xx billing API · 1013xx billing jobs · 1014xx log store · 1015xx logging · 1016xx log shipping · 1017xx log shipper ·
 * 1018xx capacity planner and simulator (101820–101839 simulator scenarios) · 1019xx capacity service.
 */
export const ErrorCodes = {
  CONFIG_FILE_UNREADABLE: 100101, // @class client
  CONFIG_YAML_MALFORMED: 100102, // @class client
  CONFIG_INVALID: 100103, // @class client
  CONFIG_NOT_AN_OBJECT: 100104, // @class client

  DB_UNREACHABLE: 100201,
  DB_MIGRATION_FAILED: 100202,
  DB_EMBEDDED_OPEN_FAILED: 100203,
  DB_URL_INVALID: 100204, // @class client
  DB_EMBEDDED_QUEUE_FULL: 100205,

  HTTP_NOT_FOUND: 100301, // @class client
  HTTP_INTERNAL: 100302,
  AUTH_TOKEN_MISSING: 100303, // @class client
  AUTH_TOKEN_INVALID: 100304, // @class client
  AUTH_FORBIDDEN: 100305, // @class client
  HTTP_BAD_REQUEST: 100306, // @class client
  SERVER_LISTEN_FAILED: 100307,
  HTTP_BODY_NOT_JSON: 100308, // @class client

  CLI_USAGE: 100401, // @class client
  CLI_SERVER_UNREACHABLE: 100402,
  CLI_TOKEN_MISSING: 100403, // @class client
  CLI_API_ERROR: 100404,

  CODES_PATH_UNREADABLE: 100501, // @class client
  CODES_PATTERN_INVALID: 100502, // @class client
  CODES_PATTERN_GROUP_MISSING: 100503, // @class client

  SHUTDOWN_STEP_FAILED: 100601,
  SHUTDOWN_STEP_TIMEOUT: 100602,
  STARTUP_FAILED: 100603,

  TOKEN_ROLE_INVALID: 100701, // @class client

  TRACING_START_FAILED: 100801,

  EXPOSITION_FILE_INVALID: 100901, // @class client
  EXPOSITION_FILE_UNREADABLE: 100902, // @class client
  FILE_SD_INVALID: 100904, // @class client
  PROMETHEUS_QUERY_FAILED: 100905,
  SCRAPE_SLOT_QUEUE_FULL: 100906,

  CODE_CATALOG_UNREADABLE: 101001, // @class client
  CODE_CATALOG_INVALID: 101002, // @class client
  ALARM_QUERY_INVALID: 101003, // @class client
  ALARM_NOT_ACTIVE: 101004, // @class client
  SILENCE_MATCHERS_INVALID: 101005, // @class client
  SILENCE_WINDOW_INVALID: 101006, // @class client
  SILENCE_NOT_FOUND: 101007, // @class client
  NOTIFICATION_DELIVERY_FAILED: 101008,

  METRIC_CATALOG_UNREADABLE: 101101, // @class client
  METRIC_CATALOG_INVALID: 101102, // @class client
  GENERATED_OUTPUT_DRIFT: 101103, // @class client
  DEPLOYED_RULES_UNREADABLE: 101104, // @class client
  DASHBOARD_NOT_FOUND: 101105, // @class client
  GRAFANA_PUSH_FAILED: 101106,
  PROMETHEUS_RELOAD_FAILED: 101107,

  // 1012xx billing API: POST records, usage, summary.
  BILLING_POST_TOO_LARGE: 101201, // @class client
  BILLING_USAGE_QUERY_INVALID: 101202, // @class client
  BILLING_CURSOR_INVALID: 101203, // @class client
  BILLING_SUMMARY_QUERY_INVALID: 101204, // @class client
  BILLING_TENANT_FORBIDDEN: 101205, // @class client

  // 1013xx billing jobs (leader, spool scan, close, retention) and the billing CLI.
  BILLING_SCHEDULE_INVALID: 101301, // @class client
  BILLING_JOB_FAILED: 101302,
  BILLING_SPOOL_FILE_FAILED: 101303,
  // Leader (billing/leader.ts) serves billing jobs and the capacity loop: the lock in the details says which.
  LEADER_LOCK_FAILED: 101304,
  LEADERSHIP_LOST: 101305,
  BILLING_INGEST_PATH_INVALID: 101306, // @class client
  BILLING_INGEST_FAILED: 101307,
  BILLING_EMBEDDED_DB_IN_USE: 101308, // @class client
  BILLING_TIME_ARG_INVALID: 101309, // @class client
  BILLING_VERIFY_DIFFERENCES: 101310,

  // 1014xx log object store: key templates, the local archive, S3.
  LOG_KEY_TEMPLATE_INVALID: 101401, // @class client
  LOG_KEY_VAR_INVALID: 101402, // @class client
  LOG_KEY_UNSAFE: 101403, // @class client
  LOG_ARCHIVE_KEY_RESERVED: 101404, // @class client
  LOG_ARCHIVE_WRITE_FAILED: 101405,
  LOG_ARCHIVE_READ_FAILED: 101406,
  LOG_ARCHIVE_LIST_FAILED: 101407,
  LOG_ARCHIVE_DELETE_FAILED: 101408,
  LOG_UPLOAD_SOURCE_UNREADABLE: 101409,
  LOG_UPLOAD_FAILED: 101410,
  LOG_STORE_UNREACHABLE: 101411,
  LOG_STORE_ACCESS_DENIED: 101412, // @class client
  LOG_STORE_BUCKET_MISSING: 101413, // @class client
  LOG_STORE_HEAD_FAILED: 101414,
  LOG_STORE_LIST_FAILED: 101415,
  LOG_STORE_DELETE_FAILED: 101416,
  LOG_STORE_CLEANUP_FAILED: 101417,

  // 1015xx logging: overseer/logging (pino into rotated files) and its rotation.
  LOG_NAME_INVALID: 101501, // @class client
  LOG_ROTATE_OPTIONS_INVALID: 101502, // @class client
  LOG_LOGGER_OPTIONS_INVALID: 101503, // @class client
  LOG_FILE_OPEN_FAILED: 101504,
  LOG_ROTATE_FAILED: 101505,
  LOG_WRITE_FAILED: 101506,

  // 1016xx log shipping building blocks: gzip + verify (logs/compress.ts), ship journal (logs/journal.ts).
  LOG_GZIP_FAILED: 101601,
  LOG_GZIP_VERIFY_FAILED: 101602,
  LOG_JOURNAL_OPEN_FAILED: 101603,
  LOG_JOURNAL_CORRUPT: 101604,
  LOG_JOURNAL_QUEUE_FULL: 101605,
  LOG_JOURNAL_CLOSED: 101606,
  LOG_JOURNAL_ENTRY_INVALID: 101607,
  LOG_JOURNAL_WRITE_FAILED: 101608,
  LOG_JOURNAL_COMPACT_FAILED: 101609,

  // 1017xx log shipper (logs/shipper.ts and its ship-*.ts helpers): discovery, upload, GC, backlog.
  LOG_SHIP_OPTIONS_INVALID: 101701, // @class client
  LOG_SHIP_DIR_UNREADABLE: 101702, // @class client
  LOG_SHIP_SOURCE_MISSING: 101703,
  LOG_SHIP_SOURCE_CHANGED: 101704, // @class client
  LOG_SHIP_GZ_UNRECOVERABLE: 101705,
  LOG_SHIP_UPLOAD_UNCONFIRMED: 101706,
  LOG_SHIP_KEY_COLLISION: 101707, // @class client
  LOG_SHIP_STEP_FAILED: 101708,
  LOG_SHIP_PASS_FAILED: 101709,
  LOG_SHIP_BACKLOG_HIGH: 101710,
  LOG_SHIP_BACKLOG_OVER_LIMIT: 101711,
  // 10172x one journal writer per data dir (logs/ship-journal-owner.ts) and `overseer logs ship` (cli/logs.ts).
  LOG_SHIP_JOURNAL_LOCKED: 101720, // @class client
  LOG_SHIP_RUN_INCOMPLETE: 101721,

  // 1019xx capacity service: live model, routing table, apply loop, capacity API and admin CLI.
  CAPACITY_NAME_INVALID: 101901, // @class client
  CAPACITY_HOST_UNKNOWN: 101902, // @class client
  CAPACITY_TENANT_UNKNOWN: 101903, // @class client
  CAPACITY_MOVE_INVALID: 101904, // @class client
  CAPACITY_TENANT_PINNED: 101905, // @class client
  CAPACITY_NO_PLAN: 101906, // @class client
  CAPACITY_PLAN_STALE: 101907, // @class client
  CAPACITY_ROUTING_CHANGED: 101908, // @class client
  CAPACITY_SINCE_INVALID: 101909, // @class client
  CAPACITY_CYCLE_FAILED: 101910,
  CAPACITY_APPLY_UNCONFIRMED: 101911, // @class client
  CAPACITY_DRAIN_TIMEOUT: 101912,
  CAPACITY_CLI_ARG_INVALID: 101913, // @class client

  // 1018xx capacity planner and simulator: policy, `overseer capacity simulate` scenarios and their expectations.
  CAPACITY_POLICY_INVALID: 101801, // @class client
  CAPACITY_SCENARIO_UNREADABLE: 101802, // @class client
  CAPACITY_SCENARIO_INVALID: 101803, // @class client
  CAPACITY_SIMULATION_EXPECTATIONS_FAILED: 101804, // @class client

  // 10182x–10183x `overseer capacity simulate`: the issue 8 scenario format, stage by stage.
  CAPACITY_SCENARIO_NOT_JSON: 101820, // @class client
  CAPACITY_SCENARIO_TOO_LARGE: 101821, // @class client
  CAPACITY_SCENARIO_INCONSISTENT: 101822, // @class client
} as const;

export type ErrorCodeName = keyof typeof ErrorCodes;
export type ErrorCode = (typeof ErrorCodes)[ErrorCodeName];
