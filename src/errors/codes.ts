/**
 * Overseer's own error codes. Every code is defined once here and raised at exactly one place in src/,
 * so an error (and the alarm built on it) names the line that failed. `overseer codes scan src` enforces
 * this in CI. Numbers are never reused: retire a code by deleting it, never by renumbering another.
 *
 * Ranges: 1001xx config · 1002xx database · 1003xx HTTP/auth · 1004xx CLI · 1005xx code scanner ·
 * 1006xx lifecycle · 1007xx tokens · 1008xx telemetry · 1009xx collector · 1010xx alarms.
 */
export const ErrorCodes = {
  CONFIG_FILE_UNREADABLE: 100101,
  CONFIG_YAML_MALFORMED: 100102,
  CONFIG_INVALID: 100103,
  CONFIG_NOT_AN_OBJECT: 100104,

  DB_UNREACHABLE: 100201,
  DB_MIGRATION_FAILED: 100202,
  DB_EMBEDDED_OPEN_FAILED: 100203,
  DB_URL_INVALID: 100204,

  HTTP_NOT_FOUND: 100301,
  HTTP_INTERNAL: 100302,
  AUTH_TOKEN_MISSING: 100303,
  AUTH_TOKEN_INVALID: 100304,
  AUTH_FORBIDDEN: 100305,
  HTTP_BAD_REQUEST: 100306,
  SERVER_LISTEN_FAILED: 100307,
  HTTP_BODY_NOT_JSON: 100308,

  CLI_USAGE: 100401,
  CLI_SERVER_UNREACHABLE: 100402,
  CLI_TOKEN_MISSING: 100403,
  CLI_API_ERROR: 100404,

  CODES_PATH_UNREADABLE: 100501,
  CODES_PATTERN_INVALID: 100502,
  CODES_PATTERN_GROUP_MISSING: 100503,

  SHUTDOWN_STEP_FAILED: 100601,
  SHUTDOWN_STEP_TIMEOUT: 100602,
  STARTUP_FAILED: 100603,

  TOKEN_ROLE_INVALID: 100701,

  TRACING_START_FAILED: 100801,

  EXPOSITION_FILE_INVALID: 100901,
  EXPOSITION_FILE_UNREADABLE: 100902,
  FILE_SD_INVALID: 100904,
  PROMETHEUS_QUERY_FAILED: 100905,
  SCRAPE_SLOT_QUEUE_FULL: 100906,

  CODE_CATALOG_UNREADABLE: 101001,
  CODE_CATALOG_INVALID: 101002,
} as const;

export type ErrorCodeName = keyof typeof ErrorCodes;
export type ErrorCode = (typeof ErrorCodes)[ErrorCodeName];
