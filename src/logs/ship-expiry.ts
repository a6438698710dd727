import type { ObjectStore } from './object-store.js';

/**
 * Optional remote expiry. The store's listing carries no dates, so an object's age is read from its key:
 * the key template puts the file's UTC date (and hour) in it. Only keys the template could have produced
 * are touched, and only once the whole day (or hour) they name lies before the horizon.
 */

type DateToken = 'YYYY' | 'MM' | 'DD' | 'HH';
const WIDTH: Record<DateToken, number> = { YYYY: 4, MM: 2, DD: 2, HH: 2 };
// Mirrors object-keys.ts: placeholders in braces, bare date tokens only as whole words.
const TOKEN = /\{(prefix|service|host|file|YYYY|MM|DD|HH)\}|(?<![A-Za-z0-9])(YYYY|MM|DD|HH)(?![A-Za-z0-9])/g;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export interface KeyAgeParser {
  /** Every key the template renders starts with this (list only under it). */
  listPrefix: string;
  /** When the period a key's date names ends (ms), or undefined for a key the template cannot produce. */
  periodEnd(key: string): number | undefined;
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The parser for `template` (already checked by compileKeyTemplate), or why keys carry no usable date. */
export function keyAgeParser(template: string, prefix: string): KeyAgeParser | string {
  let re = '^';
  let listPrefix = '';
  let literalSoFar = true;
  const groups: DateToken[] = [];
  let last = 0;
  for (const m of template.matchAll(TOKEN)) {
    const literal = template.slice(last, m.index);
    re += escape(literal);
    if (literalSoFar) listPrefix += literal;
    last = m.index + m[0].length;
    const name = (m[1] ?? m[2]) as DateToken | 'prefix' | 'service' | 'host' | 'file';
    if (name === 'prefix') {
      re += escape(prefix);
      if (literalSoFar) listPrefix += prefix;
      continue;
    }
    literalSoFar = false;
    if (name === 'service' || name === 'host' || name === 'file') re += '[^/]+';
    else {
      re += `(\\d{${WIDTH[name]}})`;
      groups.push(name);
    }
  }
  re += escape(template.slice(last)) + '$';
  if (literalSoFar) listPrefix += template.slice(last);
  const missing = (['YYYY', 'MM', 'DD'] as const).filter((t) => !groups.includes(t));
  if (missing.length > 0) return `${JSON.stringify(template)} lacks ${missing.join(', ')}`;
  const pattern = new RegExp(re);
  const hourly = groups.includes('HH');
  return {
    listPrefix,
    periodEnd(key) {
      const m = pattern.exec(key);
      if (!m) return undefined;
      const v: Partial<Record<DateToken, number>> = {};
      for (const [i, g] of groups.entries()) {
        const n = Number(m[i + 1]);
        if (v[g] !== undefined && v[g] !== n) return undefined; // a token twice, with two values
        v[g] = n;
      }
      const [y, mo, d, h] = [v.YYYY!, v.MM!, v.DD!, v.HH ?? 0];
      const start = Date.UTC(y, mo - 1, d, h);
      const back = new Date(start);
      // Date.UTC rolls month 13 or hour 25 over: such a key is not one we wrote.
      if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || back.getUTCHours() !== h)
        return undefined;
      return start + (hourly ? HOUR_MS : DAY_MS);
    },
  };
}

export interface ExpiryReport {
  scanned: number;
  deleted: number;
}

/**
 * Deletes every object under the template's prefix whose period ended at or before `horizonMs`. Stops
 * between objects once `keepGoing` says so; what is left goes on the next run.
 */
export async function expireRemote(
  store: ObjectStore,
  parser: KeyAgeParser,
  horizonMs: number,
  keepGoing: () => boolean,
  onDelete?: (key: string) => void,
): Promise<ExpiryReport> {
  const report: ExpiryReport = { scanned: 0, deleted: 0 };
  for await (const o of store.list(parser.listPrefix)) {
    if (!keepGoing()) break;
    report.scanned++;
    const end = parser.periodEnd(o.key);
    if (end === undefined || end > horizonMs) continue;
    await store.delete(o.key);
    report.deleted++;
    onDelete?.(o.key);
  }
  return report;
}
