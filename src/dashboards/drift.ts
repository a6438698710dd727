import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parse } from 'yaml';
import type { GeneratedFile } from './generate.js';

/** One difference between what would be generated and what is deployed. */
export interface Drift {
  /** File (or rule group/rule) it concerns. */
  where: string;
  kind: 'missing' | 'changed' | 'extra';
  /** Readable detail: a line diff for files, old → new for rules. */
  diff: string;
}

/**
 * A line diff in unified style (`-` deployed, `+` generated) with 2 lines of context, from the longest
 * common subsequence. Files here are a few thousand lines at most; the O(n·m) table stays small.
 */
export function lineDiff(deployed: string, generated: string, context = 2): string {
  const a = deployed.split('\n');
  const b = generated.split('\n');
  // Trim the common head and tail first: drift is usually a few lines in a long file.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (
    tail < a.length - head &&
    tail < b.length - head &&
    a[a.length - 1 - tail] === b[b.length - 1 - tail]
  )
    tail++;
  const x = a.slice(head, a.length - tail);
  const y = b.slice(head, b.length - tail);
  const lcs: number[][] = Array.from({ length: x.length + 1 }, () => new Array<number>(y.length + 1).fill(0));
  for (let i = x.length - 1; i >= 0; i--)
    for (let j = y.length - 1; j >= 0; j--)
      lcs[i]![j] = x[i] === y[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const ops: Array<{ op: ' ' | '-' | '+'; line: string }> = [];
  for (let k = Math.max(0, head - context); k < head; k++) ops.push({ op: ' ', line: a[k]! });
  let i = 0;
  let j = 0;
  while (i < x.length || j < y.length) {
    if (i < x.length && j < y.length && x[i] === y[j]) {
      ops.push({ op: ' ', line: x[i]! });
      i++;
      j++;
    } else if (i < x.length && (j === y.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      // Deletions first, as diff -u prints a changed line.
      ops.push({ op: '-', line: x[i++]! });
    } else {
      ops.push({ op: '+', line: y[j++]! });
    }
  }
  for (let k = a.length - tail; k < Math.min(a.length, a.length - tail + context); k++)
    ops.push({ op: ' ', line: a[k]! });
  return `@@ line ${Math.max(1, head - context + 1)} @@\n${ops.map((o) => `${o.op} ${o.line}`).join('\n')}`;
}

/** Files Overseer generates in an output folder: overseer-*.json dashboards, rules and their tests in rules/. */
async function generatedLooking(dir: string): Promise<string[]> {
  const out: string[] = [];
  const list = async (sub: string, ext: RegExp): Promise<void> => {
    const entries = await readdir(path.join(dir, sub), { withFileTypes: true }).catch(() => []);
    for (const e of entries) if (e.isFile() && ext.test(e.name)) out.push(sub ? `${sub}/${e.name}` : e.name);
  };
  await list('', /^overseer-.*\.json$/);
  await list('rules', /\.ya?ml$/);
  return out.sort();
}

/** Compares generated files with an output folder as deployed. Empty when they are identical. */
export async function driftAgainstDir(files: readonly GeneratedFile[], dir: string): Promise<Drift[]> {
  const drift: Drift[] = [];
  for (const f of files) {
    const deployed = await readFile(path.join(dir, f.path), 'utf8').catch(() => undefined);
    if (deployed === undefined) drift.push({ where: f.path, kind: 'missing', diff: 'not deployed' });
    else if (deployed !== f.content)
      drift.push({ where: f.path, kind: 'changed', diff: lineDiff(deployed, f.content) });
  }
  const wanted = new Set(files.map((f) => f.path));
  for (const p of await generatedLooking(dir))
    if (!wanted.has(p)) drift.push({ where: p, kind: 'extra', diff: 'deployed but no longer generated' });
  return drift;
}

interface RuleView {
  name: string;
  kind: 'alert' | 'record';
  expr: string;
  for: string;
  keepFiringFor: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/**
 * PromQL compared without the whitespace outside string literals and with the matchers of each selector
 * in name order: Prometheus's API returns each query re-printed from its parse tree, which spaces things
 * its own way and sorts matchers.
 */
export function normalizeExpr(expr: string): string {
  let out = '';
  let quote: string | undefined;
  // Matchers of the selector being read, split at top-level commas; undefined outside braces.
  let matchers: string[] | undefined;
  let current = '';
  const emit = (text: string): void => {
    if (matchers === undefined) out += text;
    else current += text;
  };
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i]!;
    if (quote !== undefined) {
      emit(c);
      if (c === '\\') emit(expr[++i] ?? '');
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'" || c === '`') {
      quote = c;
      emit(c);
    } else if (c === '{' && matchers === undefined) {
      matchers = [];
      current = '';
    } else if (c === ',' && matchers !== undefined) {
      matchers.push(current);
      current = '';
    } else if (c === '}' && matchers !== undefined) {
      if (current !== '') matchers.push(current);
      out += `{${matchers.sort().join(',')}}`;
      matchers = undefined;
    } else if (!/\s/.test(c)) emit(c);
  }
  return out + (matchers === undefined ? '' : `{${current}`);
}

/** Prometheus prints durations canonically (`5m`, `1h30m`, `0s`); ours are whole seconds or minutes. */
function normalizeDuration(d: unknown): string {
  if (d === undefined || d === null || d === '' || d === 0 || d === '0s') return '0s';
  if (typeof d === 'number') return `${d}s`;
  const text = typeof d === 'string' ? d : JSON.stringify(d);
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
  if (!m) return text;
  const s = Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
  return `${s}s`;
}

const sortedRecord = (r: unknown): Record<string, string> =>
  Object.fromEntries(
    Object.entries((r ?? {}) as Record<string, string>).sort(([a], [b]) => (a < b ? -1 : 1)),
  );

/** Rule groups of generated rule files, by group name. */
export function rulesOfFiles(files: readonly GeneratedFile[]): Map<string, RuleView[]> {
  const groups = new Map<string, RuleView[]>();
  for (const f of files) {
    const doc = parse(f.content) as {
      groups?: Array<{ name: string; rules: Array<Record<string, unknown>> }>;
    };
    for (const g of doc.groups ?? [])
      groups.set(
        g.name,
        g.rules.map((r) => ({
          name: String(r.alert ?? r.record),
          kind: r.alert !== undefined ? 'alert' : 'record',
          expr: normalizeExpr(String(r.expr)),
          for: normalizeDuration(r.for),
          keepFiringFor: normalizeDuration(r.keep_firing_for),
          labels: sortedRecord(r.labels),
          annotations: sortedRecord(r.annotations),
        })),
      );
  }
  return groups;
}

/** Rule groups as Prometheus's GET /api/v1/rules reports them. */
export function rulesOfApi(body: unknown): Map<string, RuleView[]> {
  const groups = new Map<string, RuleView[]>();
  const data = (
    body as { data?: { groups?: Array<{ name: string; rules: Array<Record<string, unknown>> }> } }
  ).data;
  for (const g of data?.groups ?? [])
    groups.set(
      g.name,
      g.rules.map((r) => ({
        name: String(r.name),
        kind: r.type === 'alerting' ? 'alert' : 'record',
        expr: normalizeExpr(String(r.query)),
        for: normalizeDuration(r.duration),
        keepFiringFor: normalizeDuration(r.keepFiringFor),
        labels: sortedRecord(r.labels),
        annotations: sortedRecord(r.annotations),
      })),
    );
  return groups;
}

/** Differences between generated rule groups and deployed ones (only groups we generate are compared). */
export function driftOfRules(generated: Map<string, RuleView[]>, deployed: Map<string, RuleView[]>): Drift[] {
  const drift: Drift[] = [];
  for (const [group, rules] of [...generated].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const live = deployed.get(group);
    if (live === undefined) {
      drift.push({ where: `group ${group}`, kind: 'missing', diff: `${rules.length} rule(s) not loaded` });
      continue;
    }
    const byName = new Map(live.map((r) => [`${r.kind} ${r.name}`, r]));
    for (const r of rules) {
      const key = `${r.kind} ${r.name}`;
      const l = byName.get(key);
      byName.delete(key);
      if (l === undefined) {
        drift.push({ where: `group ${group} ${key}`, kind: 'missing', diff: 'not loaded' });
        continue;
      }
      const fields = (['expr', 'for', 'keepFiringFor', 'labels', 'annotations'] as const).filter(
        (k) => JSON.stringify(l[k]) !== JSON.stringify(r[k]),
      );
      if (fields.length > 0)
        drift.push({
          where: `group ${group} ${key}`,
          kind: 'changed',
          diff: fields
            .map((k) => `- ${k}: ${JSON.stringify(l[k])}\n+ ${k}: ${JSON.stringify(r[k])}`)
            .join('\n'),
        });
    }
    for (const key of byName.keys())
      drift.push({ where: `group ${group} ${key}`, kind: 'extra', diff: 'loaded but no longer generated' });
  }
  return drift;
}
