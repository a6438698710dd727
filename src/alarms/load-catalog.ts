import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { Config } from '../config.js';
import { readCatalogFile, type CatalogFile } from './catalog-file.js';
import { buildCodeCatalog, type AlarmCode, type ServiceScan } from './code-catalog.js';
import { codePattern } from './code-patterns.js';
import { scanPaths } from './scan-files.js';

export interface LoadedCodeCatalog {
  codes: AlarmCode[];
  file: CatalogFile | undefined;
}

/** Overseer's own sources, when they ship with it: alarms on its own codes with no configuration. */
export function ownSources(): Config['alarms']['codeSources'] {
  const src = path.resolve(import.meta.dirname, '..');
  const dir = existsSync(path.join(src, 'errors', 'codes.ts')) ? src : path.resolve(src, '..', 'src');
  return existsSync(path.join(dir, 'errors', 'codes.ts'))
    ? [{ dir, language: 'ts', service: 'overseer', container: 'ErrorCodes' }]
    : [];
}

/** Scans every configured code source (or Overseer itself) and applies the catalog file. */
export async function loadCodeCatalog(
  alarms: Pick<Config['alarms'], 'codeSources' | 'catalog'>,
): Promise<LoadedCodeCatalog> {
  const file = alarms.catalog === undefined ? undefined : await readCatalogFile(alarms.catalog);
  const sources = alarms.codeSources.length > 0 ? alarms.codeSources : ownSources();
  const scans: ServiceScan[] = [];
  for (const s of sources) {
    const pattern = codePattern({ language: s.language, containerName: s.container });
    // Paths in alerts start in the service folder: src/handlers/pay.ts:42 for billing/src.
    const root = path.dirname(s.dir);
    const report = await scanPaths([s.dir], pattern, root);
    scans.push({ service: s.service ?? path.basename(path.dirname(s.dir)), report });
  }
  return { codes: buildCodeCatalog(scans, file), file };
}
