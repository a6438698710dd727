import { ErrorCodes, OverseerError } from '../errors/index.js';

/** How to find error-code definitions and their uses in one language. */
export interface CodePattern {
  language: string;
  /** File endings scanned, with the dot. */
  extensions: string[];
  /** Finds where a container of codes is declared; the block is the `{…}` that follows. */
  container: RegExp;
  /** One code inside the block; named groups `name` and `code` (digits, `_` allowed). Global flag. */
  entry: RegExp;
  /** One use anywhere; named group `name`. Global flag. */
  use: RegExp;
  /** Paths (relative, with `/`) that are not production code: their uses do not count. */
  exclude: RegExp[];
}

const TEST_FILES =
  /(^|\/)(node_modules|dist|build|target|\.git)(\/|$)|\.(test|spec)\.[cm]?[jt]sx?$|(^|\/)(__tests__|src\/test)\//;

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export interface PatternOptions {
  language: 'ts' | 'java';
  /** Name of the const/enum/class holding the codes. */
  containerName?: string;
  /** Override of the entry pattern (named groups name, code). */
  entry?: string;
  /** Override of the use pattern (named group name). */
  use?: string;
  /** Count uses in test files too. */
  includeTests?: boolean;
}

function compile(source: string, what: string, groups: string[]): RegExp {
  let re: RegExp;
  try {
    re = new RegExp(source, 'g');
  } catch (cause) {
    throw new OverseerError(
      ErrorCodes.CODES_PATTERN_INVALID,
      `the ${what} pattern is not a valid regular expression`,
      {
        details: [String((cause as Error).message)],
        hint: `use a JavaScript regular expression with the named group(s) ${groups.map((g) => `(?<${g}>…)`).join(', ')}`,
        cause,
      },
    );
  }
  const missing = groups.filter((g) => !source.includes(`(?<${g}>`));
  if (missing.length > 0) {
    throw new OverseerError(
      ErrorCodes.CODES_PATTERN_GROUP_MISSING,
      `the ${what} pattern lacks a named group`,
      {
        details: missing.map((g) => `missing (?<${g}>…)`),
        hint: `the ${what} pattern must capture ${groups.map((g) => `(?<${g}>…)`).join(' and ')}`,
      },
    );
  }
  return re;
}

/** The default patterns (TS `ErrorCodes` const object or enum; Java `ErrorCodes` class of int constants). */
export function codePattern(opts: PatternOptions): CodePattern {
  const name = escape(opts.containerName ?? 'ErrorCodes');
  const ts = opts.language === 'ts';
  const entry =
    opts.entry ??
    (ts
      ? String.raw`(?<![\w$.])(?<name>[A-Za-z_$][\w$]*)\s*[:=]\s*(?<code>-?\d[\d_]*)\b`
      : String.raw`\bstatic\s+final\s+(?:int|long|short)\s+(?<name>[A-Za-z_$][\w$]*)\s*=\s*(?<code>-?\d[\d_]*)\s*;`);
  const use = opts.use ?? String.raw`\b${name}\s*\.\s*(?<name>[A-Za-z_$][\w$]*)\b`;
  return {
    language: opts.language,
    extensions: ts ? ['.ts', '.tsx', '.mts', '.cts', '.js', '.mjs', '.cjs', '.jsx'] : ['.java'],
    container: ts
      ? new RegExp(String.raw`\b(?:const|enum|let|var)\s+${name}\b[^{;]*`, 'g')
      : new RegExp(String.raw`\b(?:class|interface)\s+${name}\b[^{;]*`, 'g'),
    entry: compile(entry, 'entry', ['name', 'code']),
    use: compile(use, 'use', ['name']),
    exclude: opts.includeTests ? [] : [TEST_FILES],
  };
}
