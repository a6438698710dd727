import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { CatalogEntry } from '../collector/catalog.js';
import { ErrorCodes, OverseerError } from '../errors/index.js';

const TYPES = [
  'counter',
  'gauge',
  'histogram',
  'summary',
  'untyped',
  'unknown',
  'stateset',
  'info',
  'gaugehistogram',
] as const;

/** One family as GET /api/v1/catalog writes it; fields added later default, so old snapshots still load. */
const entry = z.object({
  name: z.string().min(1),
  type: z.enum(TYPES),
  help: z.string().nullish(),
  unit: z.string().nullish(),
  labelNames: z.array(z.string()).prefault([]),
  sampleNames: z.array(z.string()).prefault([]),
  targets: z.number().int().nonnegative().prefault(1),
  series: z.number().int().nonnegative().prefault(1),
  jobs: z.array(z.string()).prefault([]),
  labelValues: z.record(z.string(), z.number().int().nonnegative()).prefault({}),
  conflictingTypes: z.array(z.enum(TYPES)).prefault([]),
});

const snapshot = z.object({ families: z.array(entry) });

/** Parses a metric catalog snapshot (the JSON of GET /api/v1/catalog); `where` names it in errors. */
export function parseMetricCatalog(text: string, where: string): CatalogEntry[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    json = e;
  }
  const parsed = json instanceof Error ? undefined : snapshot.safeParse(json);
  if (parsed === undefined || !parsed.success) {
    const details =
      parsed === undefined
        ? [`not JSON: ${(json as Error).message}`]
        : parsed.error.issues.slice(0, 20).map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`);
    throw new OverseerError(ErrorCodes.METRIC_CATALOG_INVALID, `${where} is not a metric catalog snapshot`, {
      status: 400,
      exitCode: 2,
      details,
      hint: 'save one with `curl -H "Authorization: Bearer $TOKEN" $OVERSEER_URL/api/v1/catalog > catalog.json`',
    });
  }
  return parsed.data.families.map((f) => ({
    ...f,
    help: f.help ?? undefined,
    unit: f.unit ?? undefined,
    sampleNames: f.sampleNames.length > 0 ? f.sampleNames : [f.name],
  }));
}

export async function readMetricCatalog(file: string): Promise<CatalogEntry[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new OverseerError(ErrorCodes.METRIC_CATALOG_UNREADABLE, `cannot read the metric catalog ${file}`, {
      exitCode: 2,
      cause: e,
      details: [(e as Error).message],
      hint: 'give --catalog a file saved from GET /api/v1/catalog, or --live to ask the server',
    });
  }
  return parseMetricCatalog(text, file);
}
