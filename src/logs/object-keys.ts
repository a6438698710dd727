import { ErrorCodes, OverseerError } from '../errors/index.js';

/** Where a shipped file goes; `YYYY/MM/DD/HH` is the file's time in UTC. */
export const DEFAULT_KEY_TEMPLATE = '{prefix}{service}/{host}/YYYY/MM/DD/HH/{file}.gz';

export interface KeyVars {
  /** Used verbatim (the config's `logs.s3.prefix`, e.g. `logs/`); may be empty. */
  prefix: string;
  service: string;
  host: string;
  /** The rotated file's base name, without `.gz`. */
  file: string;
  /** The file's time (e.g. when it was opened); the key uses its UTC date and hour. */
  time: Date;
}

type Part = { literal: string } | { var: 'prefix' | 'service' | 'host' | 'file' } | { date: DateToken };
type DateToken = 'YYYY' | 'MM' | 'DD' | 'HH';

const VARS = ['prefix', 'service', 'host', 'file'] as const;
const DATE_TOKENS = ['YYYY', 'MM', 'DD', 'HH'] as const;
// Two files must never share a key, or the second upload overwrites the first.
const REQUIRED = ['service', 'host', 'file'] as const;
const PLACEHOLDERS = [...VARS, ...DATE_TOKENS].map((p) => `{${p}}`).join(', ');
// Bare date tokens count only as whole words, so a literal like `MMX` stays literal.
const BARE_DATE = /(?<![A-Za-z0-9])(YYYY|MM|DD|HH)(?![A-Za-z0-9])/g;
const MAX_KEY_BYTES = 1024; // S3's limit, UTF-8

export interface KeyTemplate {
  readonly source: string;
  render(vars: KeyVars): string;
}

function templateError(template: string, problem: string): OverseerError {
  return new OverseerError(
    ErrorCodes.LOG_KEY_TEMPLATE_INVALID,
    `object key template ${JSON.stringify(template)} ${problem}`,
    {
      hint: `use the placeholders ${PLACEHOLDERS} (bare YYYY, MM, DD, HH also work), e.g. ${DEFAULT_KEY_TEMPLATE}`,
      exitCode: 2,
    },
  );
}

function literalParts(text: string): Part[] {
  const parts: Part[] = [];
  let last = 0;
  for (const m of text.matchAll(BARE_DATE)) {
    if (m.index > last) parts.push({ literal: text.slice(last, m.index) });
    parts.push({ date: m[1] as DateToken });
    last = m.index + m[0].length;
  }
  if (last < text.length) parts.push({ literal: text.slice(last) });
  return parts;
}

function templateProblem(template: string, parts: Part[]): string | undefined {
  const used = new Set(parts.flatMap((p) => ('var' in p ? [p.var] : [])));
  const missing = REQUIRED.filter((v) => !used.has(v));
  if (missing.length > 0) {
    return `lacks ${missing.map((v) => `{${v}}`).join(', ')}: keys of different files would collide`;
  }
  const text = parts.map((p) => ('literal' in p ? p.literal : 'x')).join('');
  if (template.startsWith('/')) return 'starts with "/"';
  return unsafeKeyReason(text);
}

/** Parses and checks a template once; `render` then only substitutes. */
export function compileKeyTemplate(template: string): KeyTemplate {
  const parts: Part[] = [];
  let rest = template;
  while (rest.length > 0) {
    const open = rest.indexOf('{');
    const close = rest.indexOf('}');
    if (close !== -1 && (open === -1 || close < open)) throw templateError(template, 'has a "}" without "{"');
    if (open === -1) {
      parts.push(...literalParts(rest));
      break;
    }
    parts.push(...literalParts(rest.slice(0, open)));
    if (close === -1) throw templateError(template, 'has a "{" without "}"');
    const name = rest.slice(open + 1, close);
    if ((VARS as readonly string[]).includes(name)) parts.push({ var: name as (typeof VARS)[number] });
    else if ((DATE_TOKENS as readonly string[]).includes(name)) parts.push({ date: name as DateToken });
    else throw templateError(template, `has an unknown placeholder {${name}}`);
    rest = rest.slice(close + 1);
  }
  const problem = templateProblem(template, parts);
  if (problem) throw templateError(template, problem);
  return { source: template, render: (vars) => render(parts, vars) };
}

function varProblem(vars: KeyVars): string | undefined {
  for (const name of REQUIRED) {
    const v = vars[name];
    if (v.length === 0) return `${name} is empty`;
    // A '/' inside one value would let (service "a/b", host "c") and (service "a", host "b/c") collide.
    if (v.includes('/')) return `${name} ${JSON.stringify(v)} contains "/"`;
  }
  if (Number.isNaN(vars.time.getTime())) return 'time is not a valid date';
  const year = vars.time.getUTCFullYear();
  if (year < 1000 || year > 9999) return `time ${vars.time.toISOString()} is outside years 1000..9999`;
  return undefined;
}

function render(parts: Part[], vars: KeyVars): string {
  const problem = varProblem(vars);
  if (problem) {
    throw new OverseerError(ErrorCodes.LOG_KEY_VAR_INVALID, `cannot build an object key: ${problem}`, {
      hint: 'service, host and file names must be non-empty and contain no "/"',
    });
  }
  const t = vars.time;
  const date: Record<DateToken, string> = {
    YYYY: String(t.getUTCFullYear()),
    MM: String(t.getUTCMonth() + 1).padStart(2, '0'),
    DD: String(t.getUTCDate()).padStart(2, '0'),
    HH: String(t.getUTCHours()).padStart(2, '0'),
  };
  const key = parts
    .map((p) => ('literal' in p ? p.literal : 'var' in p ? vars[p.var] : date[p.date]))
    .join('');
  assertSafeKey(key);
  return key;
}

/** The key for one file under `template`: a pure function of its arguments, so re-uploads hit the same key. */
export function objectKey(template: string | KeyTemplate, vars: KeyVars): string {
  return (typeof template === 'string' ? compileKeyTemplate(template) : template).render(vars);
}

/**
 * Why `key` is not a key both stores can hold the same way, or undefined. S3 takes almost anything, but a
 * local folder would resolve `..`, `.` and empty segments (escaping the folder or merging two keys), and
 * control characters break logs and listings.
 */
export function unsafeKeyReason(key: string): string | undefined {
  if (key.length === 0) return 'is empty';
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) return `is longer than ${MAX_KEY_BYTES} bytes`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(key)) return 'contains a control character';
  if (key.includes('\\')) return 'contains "\\"';
  if (key.startsWith('/')) return 'starts with "/"';
  for (const segment of key.split('/')) {
    if (segment === '') return 'has an empty segment ("//" or a trailing "/")';
    if (segment === '.' || segment === '..') return `has a "${segment}" segment`;
  }
  return undefined;
}

export function assertSafeKey(key: string): void {
  const reason = unsafeKeyReason(key);
  if (reason) {
    throw new OverseerError(ErrorCodes.LOG_KEY_UNSAFE, `object key ${JSON.stringify(key)} ${reason}`, {
      hint: 'keys are relative paths of non-empty segments without ".", "..", "\\" or control characters',
    });
  }
}
