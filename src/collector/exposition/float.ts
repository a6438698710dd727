/**
 * Number grammars of the two formats. Validated by hand before `Number()` converts: `Number` alone would
 * accept "0b101", " 1", "Infinity" and "" — each a silently wrong sample.
 */

const C = {
  PLUS: 43,
  MINUS: 45,
  DOT: 46,
  D0: 48,
  D9: 57,
  E_UP: 69,
  E_LO: 101,
} as const;

function isDigit(c: number): boolean {
  return c >= C.D0 && c <= C.D9;
}

/** Length of the decimal float `[sign] (digits [. digits*] | . digits) [e [sign] digits]` at `s[i..end)`, or -1. */
function decimalEnd(s: string, i: number, end: number): number {
  let digits = 0;
  while (i < end && isDigit(s.charCodeAt(i))) {
    i++;
    digits++;
  }
  if (i < end && s.charCodeAt(i) === C.DOT) {
    i++;
    while (i < end && isDigit(s.charCodeAt(i))) {
      i++;
      digits++;
    }
  }
  if (digits === 0) return -1;
  if (i < end) {
    const c = s.charCodeAt(i);
    if (c === C.E_LO || c === C.E_UP) {
      i++;
      if (i < end && (s.charCodeAt(i) === C.PLUS || s.charCodeAt(i) === C.MINUS)) i++;
      const start = i;
      while (i < end && isDigit(s.charCodeAt(i))) i++;
      if (i === start) return -1;
    }
  }
  return i;
}

function special(token: string): number | undefined {
  const lower = token.toLowerCase();
  switch (lower) {
    case 'nan':
      return NaN;
    case 'inf':
    case '+inf':
    case 'infinity':
    case '+infinity':
      return Infinity;
    case '-inf':
    case '-infinity':
      return -Infinity;
    default:
      return undefined;
  }
}

/**
 * The text format's float, as Prometheus and client_golang parse it: Go's strconv.ParseFloat restricted to
 * the pre-Go-1.13 forms (no hex floats, no underscores). Decimal, Inf/Infinity with a sign, NaN.
 */
export function parseGoFloat(s: string, start: number, end: number): number | undefined {
  if (start >= end) return undefined;
  let i = start;
  const c0 = s.charCodeAt(i);
  if (c0 === C.PLUS || c0 === C.MINUS) {
    i++;
  }
  if (decimalEnd(s, i, end) === end) return finite(Number(s.slice(start, end)));
  const sp = special(s.slice(start, end));
  // Go accepts a sign before Inf but not before NaN.
  if (sp !== undefined && !(Number.isNaN(sp) && i !== start)) return sp;
  return undefined;
}

/** Go's ParseFloat refuses a literal beyond the float64 range (ErrRange) instead of rounding it to Inf. */
function finite(v: number): number | undefined {
  return Number.isFinite(v) ? v : undefined;
}

/** OpenMetrics `number`: a decimal realnumber, [sign] inf/infinity, or nan (case-insensitive). */
export function parseOpenMetricsNumber(s: string, start: number, end: number): number | undefined {
  if (start >= end) return undefined;
  let i = start;
  const c0 = s.charCodeAt(i);
  if (c0 === C.PLUS || c0 === C.MINUS) i++;
  // Beyond the float64 range is refused, as the text format does, rather than read as ±Inf.
  if (decimalEnd(s, i, end) === end) return finite(Number(s.slice(start, end)));
  const sp = special(s.slice(start, end));
  if (sp !== undefined && !(Number.isNaN(sp) && i !== start)) return sp;
  return undefined;
}

/** OpenMetrics timestamps and exemplar timestamps: a decimal realnumber of seconds (no Inf/NaN). */
export function parseOpenMetricsSeconds(s: string, start: number, end: number): number | undefined {
  if (start >= end) return undefined;
  let i = start;
  const c0 = s.charCodeAt(i);
  if (c0 === C.PLUS || c0 === C.MINUS) i++;
  return decimalEnd(s, i, end) === end ? Number(s.slice(start, end)) : undefined;
}

/** Prometheus text timestamps: a base-10 int64 of milliseconds; beyond 2^53 it cannot be held exactly. */
export function parseMillis(s: string, start: number, end: number): number | undefined {
  let i = start;
  const c0 = s.charCodeAt(i);
  if (c0 === C.PLUS || c0 === C.MINUS) i++;
  if (i >= end) return undefined;
  for (let j = i; j < end; j++) if (!isDigit(s.charCodeAt(j))) return undefined;
  const v = Number(s.slice(start, end));
  return Number.isSafeInteger(v) ? v : undefined;
}
