import { parseCodeDoc } from './code-doc.js';
import type { ScanReport } from './code-scanner.js';
import { CODE_CLASSES, type CatalogFile, type CodeClass } from './catalog-file.js';

/** One error code as alarms see it. */
export interface AlarmCode {
  service: string;
  name: string;
  code: number;
  class: CodeClass;
  owner: string | null;
  description: string | null;
  runbookUrl: string | null;
  /** `file:line` of its single use: where the alarm points. Null when it breaks the single-use rule. */
  source: string | null;
  definedAt: string;
  /** True when it gets an alert: single-use, class not `ignore`, no conflict. */
  alert: boolean;
  /** Why it gets no alert, when it does not. */
  problems: string[];
}

export interface ServiceScan {
  service: string;
  report: ScanReport;
}

function template(t: string | undefined, c: { service: string; name: string; code: number }): string | null {
  if (t === undefined) return null;
  return t
    .replaceAll('{{service}}', c.service)
    .replaceAll('{{name}}', c.name)
    .replaceAll('{{code}}', String(c.code));
}

/**
 * The alarm catalog: every code of every scanned service with its class, owner, description and runbook.
 * Precedence for each field: the catalog file's entry, then tags in the comment at the definition
 * (`@class client @owner billing @runbook …`), then the file's defaults; class defaults to `server`.
 * A code that breaks the single-use rule, or whose number another service also defines, is listed with
 * its problems and gets no alert until fixed.
 */
export function buildCodeCatalog(scans: readonly ServiceScan[], file: CatalogFile | undefined): AlarmCode[] {
  const out: AlarmCode[] = [];
  const byNumber = new Map<number, AlarmCode[]>();
  for (const { service, report } of scans) {
    const broken = new Map<string, string[]>();
    for (const p of report.problems) {
      if (p.name === undefined) continue;
      broken.set(p.name, [...(broken.get(p.name) ?? []), p.message]);
    }
    for (const e of report.codes) {
      const doc = parseCodeDoc(e.comment);
      const entry = file?.codes[String(e.code)];
      // An entry scoped to another service does not apply here.
      const over = entry?.service === undefined || entry.service === service ? entry : undefined;
      const problems = [...(broken.get(e.name) ?? [])];
      if (over?.name !== undefined && over.name !== e.name) {
        problems.push(`the catalog file names code ${e.code} ${over.name}, the source ${e.name}`);
      }
      const docClass = doc.class;
      if (docClass !== undefined && !(CODE_CLASSES as readonly string[]).includes(docClass)) {
        problems.push(
          `unknown class "${docClass}" in the comment at ${e.definedAt.file}:${e.definedAt.line}`,
        );
      }
      const cls =
        over?.class ??
        ((CODE_CLASSES as readonly string[]).includes(docClass ?? '')
          ? (docClass as CodeClass)
          : undefined) ??
        file?.defaults.class ??
        'server';
      const use = e.uses.length === 1 ? e.uses[0]! : undefined;
      const c: AlarmCode = {
        service,
        name: e.name,
        code: e.code,
        class: cls,
        owner: over?.owner ?? doc.owner ?? file?.defaults.owner ?? null,
        description: over?.description ?? doc.description ?? null,
        runbookUrl: template(over?.runbook ?? doc.runbook ?? file?.defaults.runbook, {
          service,
          name: e.name,
          code: e.code,
        }),
        source: use ? `${use.file}:${use.line}` : null,
        definedAt: `${e.definedAt.file}:${e.definedAt.line}`,
        alert: false,
        problems,
      };
      out.push(c);
      byNumber.set(e.code, [...(byNumber.get(e.code) ?? []), c]);
    }
  }
  for (const [code, list] of byNumber) {
    if (list.length < 2) continue;
    for (const c of list) {
      c.problems.push(
        `code ${code} is also defined by ${list
          .filter((o) => o !== c)
          .map((o) => `${o.service} (${o.name} at ${o.definedAt})`)
          .join(', ')}`,
      );
    }
  }
  for (const c of out) c.alert = c.problems.length === 0 && c.source !== null && c.class !== 'ignore';
  return out.sort((a, b) => a.code - b.code || (a.service < b.service ? -1 : 1));
}
