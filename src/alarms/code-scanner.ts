import type { CodePattern } from './code-patterns.js';
import { commentNear } from './code-doc.js';
import { maskSource } from './mask-source.js';

export interface SourceLocation {
  file: string;
  line: number;
  col: number;
}

export interface CodeDefinition extends SourceLocation {
  name: string;
  code: number;
  /** The comment above or beside the definition (class, owner, runbook tags and a description). */
  comment: string;
}

export interface CodeUse extends SourceLocation {
  name: string;
}

export type ProblemKind = 'duplicate-code' | 'duplicate-name' | 'multiple-uses' | 'unused' | 'undefined';

export interface CodeProblem {
  kind: ProblemKind;
  message: string;
  name?: string;
  code?: number;
  locations: SourceLocation[];
}

export interface CodeEntry {
  name: string;
  code: number;
  definedAt: SourceLocation;
  uses: SourceLocation[];
  comment: string;
}

export interface ScanReport {
  files: number;
  codes: CodeEntry[];
  problems: CodeProblem[];
}

export interface SourceFile {
  /** Path as shown to the user (relative to where the scan was asked from). */
  file: string;
  text: string;
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

function position(starts: number[], file: string, offset: number): SourceLocation {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { file, line: lo + 1, col: offset - starts[lo]! + 1 };
}

/** Index of the `}` closing the `{` at `open`, in masked text; -1 when unbalanced. */
function matchBrace(masked: string, open: number): number {
  let depth = 0;
  for (let i = open; i < masked.length; i++) {
    if (masked[i] === '{') depth++;
    else if (masked[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

/** Finds definitions (inside container blocks) and uses in one file. Pure. */
export function scanSource(
  src: SourceFile,
  pattern: CodePattern,
): { definitions: CodeDefinition[]; uses: CodeUse[] } {
  const masked = maskSource(src.text);
  const starts = lineStarts(src.text);
  const definitions: CodeDefinition[] = [];
  const blocks: Array<[number, number]> = [];
  for (const m of masked.matchAll(new RegExp(pattern.container.source, 'g'))) {
    const open = masked.indexOf('{', m.index + m[0].length);
    if (open === -1) continue;
    const close = matchBrace(masked, open);
    if (close === -1) continue;
    blocks.push([open, close]);
    const body = masked.slice(open + 1, close);
    for (const e of body.matchAll(new RegExp(pattern.entry.source, 'g'))) {
      const name = e.groups?.name;
      const code = e.groups?.code;
      if (!name || !code) continue;
      const offset = open + 1 + e.index + e[0].indexOf(name);
      const at = position(starts, src.file, offset);
      definitions.push({
        name,
        code: Number(code.replace(/_/g, '')),
        ...at,
        comment: commentNear(src.text, masked, at.line),
      });
    }
  }
  const uses: CodeUse[] = [];
  for (const u of masked.matchAll(new RegExp(pattern.use.source, 'g'))) {
    const name = u.groups?.name;
    if (!name) continue;
    if (blocks.some(([a, b]) => u.index > a && u.index < b)) continue;
    uses.push({ name, ...position(starts, src.file, u.index) });
  }
  return { definitions, uses };
}

const where = (l: SourceLocation): string => `${l.file}:${l.line}:${l.col}`;

/** Checks the single-use rule over every file: each code defined once, its number unique, used exactly once. */
export function checkCodes(files: readonly SourceFile[], pattern: CodePattern): ScanReport {
  const definitions: CodeDefinition[] = [];
  const uses: CodeUse[] = [];
  for (const f of files) {
    const r = scanSource(f, pattern);
    definitions.push(...r.definitions);
    uses.push(...r.uses);
  }
  const problems: CodeProblem[] = [];
  const byName = new Map<string, CodeDefinition[]>();
  const byCode = new Map<number, CodeDefinition[]>();
  for (const d of definitions) {
    byName.set(d.name, [...(byName.get(d.name) ?? []), d]);
    byCode.set(d.code, [...(byCode.get(d.code) ?? []), d]);
  }
  for (const [code, defs] of byCode) {
    const names = [...new Set(defs.map((d) => d.name))];
    if (names.length > 1) {
      problems.push({
        kind: 'duplicate-code',
        code,
        message: `code ${code} is defined ${defs.length} times (${names.join(', ')}) at ${defs.map(where).join(', ')}`,
        locations: defs,
      });
    }
  }
  for (const [name, defs] of byName) {
    if (defs.length > 1) {
      problems.push({
        kind: 'duplicate-name',
        name,
        message: `${name} is defined ${defs.length} times at ${defs.map(where).join(', ')}`,
        locations: defs,
      });
    }
  }
  const usesByName = new Map<string, CodeUse[]>();
  for (const u of uses) usesByName.set(u.name, [...(usesByName.get(u.name) ?? []), u]);
  const codes: CodeEntry[] = [];
  for (const [name, defs] of byName) {
    const d = defs[0]!;
    const used = usesByName.get(name) ?? [];
    codes.push({
      name,
      code: d.code,
      definedAt: { file: d.file, line: d.line, col: d.col },
      uses: used.map(loc),
      comment: d.comment,
    });
    if (used.length === 0) {
      problems.push({
        kind: 'unused',
        name,
        code: d.code,
        message: `${name} (${d.code}) defined at ${where(d)} is never used`,
        locations: [d],
      });
    } else if (used.length > 1) {
      problems.push({
        kind: 'multiple-uses',
        name,
        code: d.code,
        message: `${name} (${d.code}) is used at ${used.length} places: ${used.map(where).join(', ')}`,
        locations: used.map(loc),
      });
    }
  }
  for (const [name, used] of usesByName) {
    if (!byName.has(name)) {
      problems.push({
        kind: 'undefined',
        name,
        message: `${name} is used at ${used.map(where).join(', ')} but never defined`,
        locations: used.map(loc),
      });
    }
  }
  codes.sort((a, b) => a.code - b.code);
  return { files: files.length, codes, problems };
}

function loc(l: SourceLocation): SourceLocation {
  return { file: l.file, line: l.line, col: l.col };
}
