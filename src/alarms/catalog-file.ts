import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { YamlLocator } from '../config/locate.js';
import { duration } from '../config/units.js';
import { ErrorCodes, OverseerError } from '../errors/index.js';

export const CODE_CLASSES = ['server', 'client', 'ignore'] as const;
export type CodeClass = (typeof CODE_CLASSES)[number];

const codeClass = z.enum(CODE_CLASSES, { message: 'class must be server, client or ignore' });
const classRule = z.strictObject({
  severity: z.string().min(1).optional(),
  /** Errors per evaluation range above which the alert fires (0: any increase). */
  threshold: z.number().min(0).optional(),
  for: duration.optional(),
  keepFiringFor: duration.optional(),
});

const entry = z.strictObject({
  /** When given, must be the name the source defines for this number. */
  name: z.string().min(1).optional(),
  service: z.string().min(1).optional(),
  class: codeClass.optional(),
  owner: z.string().min(1).optional(),
  description: z.string().min(1).optional(),
  runbook: z.string().min(1).optional(),
});

/**
 * `alarms.catalog` (codes.yml): per-code overrides of what the source comments say, defaults, and the
 * alert parameters of each class. Every key is optional.
 */
export const catalogFileSchema = z.strictObject({
  defaults: z
    .strictObject({
      class: codeClass.optional(),
      owner: z.string().min(1).optional(),
      /** Template: {{service}}, {{name}}, {{code}}. */
      runbook: z.string().min(1).optional(),
    })
    .default({}),
  classes: z.strictObject({ server: classRule.optional(), client: classRule.optional() }).default({}),
  codes: z.record(z.string().regex(/^\d+$/, 'code keys are numbers, e.g. "104211"'), entry).default({}),
});
export type CatalogFile = z.infer<typeof catalogFileSchema>;

/** Reads and validates codes.yml; every problem listed with its `file:line:col`. */
export async function readCatalogFile(file: string): Promise<CatalogFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new OverseerError(ErrorCodes.CODE_CATALOG_UNREADABLE, `cannot read code catalog ${file}`, {
      details: [(cause as Error).message],
      hint: 'alarms.catalog names a YAML file of code overrides; remove the key to use source comments only',
      exitCode: 2,
      cause,
    });
  }
  return parseCatalogFile(text, file);
}

export function parseCatalogFile(text: string, file: string): CatalogFile {
  const locator = new YamlLocator(text);
  const details: string[] = locator.doc.errors.map((e) => `${file}: ${e.message}`);
  let parsed: CatalogFile | undefined;
  if (details.length === 0) {
    const result = catalogFileSchema.safeParse(locator.doc.toJS() ?? {});
    if (result.success) parsed = result.data;
    else {
      for (const issue of result.error.issues) {
        const at = locator.locate(issue.path) ?? '1:1';
        details.push(`${file}:${at}: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
      }
    }
  }
  if (parsed === undefined) {
    throw new OverseerError(ErrorCodes.CODE_CATALOG_INVALID, `code catalog ${file} is invalid`, {
      details,
      hint: 'codes.yml has defaults:, classes: and codes: {"<number>": {class, owner, description, runbook}}',
      exitCode: 2,
      status: 400,
    });
  }
  return parsed;
}
