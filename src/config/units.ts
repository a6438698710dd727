import { z } from 'zod';

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};
const BYTE_UNITS: Record<string, number> = {
  '': 1,
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4,
};

/** Parses a Prometheus-style duration (`1h30m`, `15s`, `500ms`) to milliseconds; undefined when invalid. */
export function parseDuration(text: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * (DURATION_UNITS[m[2]!] ?? NaN);
    matched = re.lastIndex;
  }
  if (matched === 0 || matched !== text.length || !Number.isFinite(total)) return undefined;
  return total;
}

/** Parses `64MiB`, `10MB`, `512` (bytes) to a byte count; undefined when invalid. */
export function parseBytes(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)?$/.exec(text.trim());
  if (!m) return undefined;
  const unit = BYTE_UNITS[m[2] ?? ''];
  if (unit === undefined) return undefined;
  return Math.round(Number(m[1]) * unit);
}

/** A duration in config: a string with units like `15s` or `1h30m`. Yields milliseconds. */
export const duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  // A bare number is refused rather than guessed at (seconds? milliseconds?), as Prometheus does.
  const ms = typeof v === 'number' ? undefined : parseDuration(v);
  if (ms === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `invalid duration ${JSON.stringify(v)} (use a unit: 500ms, 15s, 1h30m, 7d)`,
    });
    return z.NEVER;
  }
  return ms;
});

/** A size in config: `64MiB`, `10MB` or a number of bytes. Yields bytes. */
export const bytes = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const n = typeof v === 'number' ? v : parseBytes(v);
  if (n === undefined || n < 0) {
    ctx.addIssue({
      code: 'custom',
      message: `invalid size ${JSON.stringify(v)} (use e.g. 512KiB, 64MiB, 1GB)`,
    });
    return z.NEVER;
  }
  return n;
});
