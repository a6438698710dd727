/**
 * File names of a service's logs in its directory. The writer appends to `<service>.log` (the active
 * file) and renames it at rotation to
 *
 *   <service>.<YYYYMMDDTHHMMSSZ>.<host>.<seq>.log      e.g. api.20250102T130000Z.web-1.000000.log
 *
 * where the stamp is the UTC second the file was started and seq (6 digits) tells apart files started
 * in the same second. Every field before seq has a fixed width or a fixed delimiter, so for one service
 * and host, lexical order is chronological order: the shipper sorts names, it never parses dates.
 * Only names matching ROTATED_PATTERN are complete and may be shipped; the active file never is.
 */
import { ErrorCodes, OverseerError } from '../errors/index.js';

export const SEQ_MAX = 999_999;
const SERVICE_RE = /^[A-Za-z0-9_-]{1,64}$/;
const HOST_MAX = 63;
// 9999-12-31T23:59:59Z: past it the stamp would need a fifth year digit and break the order.
const MAX_START_MS = 253_402_300_799_999;

/** Matches a rotated file's name (never the active `<service>.log`); named groups as in RotatedName. */
export const ROTATED_PATTERN =
  /^(?<service>[A-Za-z0-9_-]{1,64})\.(?<stamp>\d{8}T\d{6}Z)\.(?<host>[A-Za-z0-9-]{1,63})\.(?<seq>\d{6})\.log$/;

export interface RotatedName {
  service: string;
  /** The file's start, to the second (UTC). */
  startMs: number;
  /** Already sanitized: [A-Za-z0-9-]. */
  host: string;
  seq: number;
}

/** A host name as it may appear in a file name: every other character becomes `-`, at most 63 long. */
export function sanitizeHost(host: string): string {
  const s = host.replace(/[^A-Za-z0-9-]/g, '-').slice(0, HOST_MAX);
  return s === '' ? 'unknown' : s;
}

/** The file a service appends to. */
export function activeName(service: string): string {
  checkParts(service, 0, 0);
  return `${service}.log`;
}

export function rotatedName(parts: { service: string; startMs: number; host: string; seq: number }): string {
  checkParts(parts.service, parts.startMs, parts.seq);
  return `${parts.service}.${stamp(parts.startMs)}.${sanitizeHost(parts.host)}.${String(parts.seq).padStart(6, '0')}.log`;
}

/** The fields of a rotated file's name, or undefined for any other name (the active file included). */
export function parseRotatedName(name: string): RotatedName | undefined {
  const g = ROTATED_PATTERN.exec(name)?.groups;
  if (!g) return undefined;
  const s = g.stamp!;
  const startMs = Date.UTC(
    Number(s.slice(0, 4)),
    Number(s.slice(4, 6)) - 1,
    Number(s.slice(6, 8)),
    Number(s.slice(9, 11)),
    Number(s.slice(11, 13)),
    Number(s.slice(13, 15)),
  );
  // Date.UTC rolls 20250230 over to March; a stamp we never write is not ours.
  if (!Number.isFinite(startMs) || startMs < 0 || stamp(startMs) !== s) return undefined;
  return { service: g.service!, startMs, host: g.host!, seq: Number(g.seq) };
}

/** `YYYYMMDDTHHMMSSZ` of the UTC second holding `ms`. */
function stamp(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/[-:]|\.\d{3}/g, '');
}

// The one place LOG_NAME_INVALID is raised: a name must be a safe, single path segment that sorts.
function checkParts(service: string, startMs: number, seq: number): void {
  const problems: string[] = [];
  if (!SERVICE_RE.test(service))
    problems.push(`service ${JSON.stringify(service)} must be 1–64 characters of [A-Za-z0-9_-]`);
  if (!Number.isFinite(startMs) || startMs < 0 || startMs > MAX_START_MS)
    problems.push(`start time ${startMs} must be between 1970 and 9999`);
  if (!Number.isInteger(seq) || seq < 0 || seq > SEQ_MAX)
    problems.push(`sequence ${seq} must be an integer in 0..${SEQ_MAX}`);
  if (problems.length > 0)
    throw new OverseerError(ErrorCodes.LOG_NAME_INVALID, 'invalid log file name', {
      details: problems,
      hint: 'name the service with letters, digits, `_` and `-` only (it becomes part of file names)',
      exitCode: 2,
    });
}
