import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CatalogEntry } from '../collector/catalog.js';
import { generate } from './generate.js';
import { parseMetricCatalog } from './metric-catalog-file.js';

const committed = parseMetricCatalog(
  readFileSync(new URL('../../dashboards/catalog.json', import.meta.url), 'utf8'),
  'dashboards/catalog.json',
);
const opts = { codes: [], ruleOptions: { scrapeIntervalMs: 15_000 } };

function family(name: string, over: Partial<CatalogEntry> = {}): CatalogEntry {
  return {
    name,
    type: 'gauge',
    help: undefined,
    unit: undefined,
    labelNames: ['instance', 'job'],
    sampleNames: [name],
    targets: 1,
    series: 1,
    jobs: ['api'],
    labelValues: { instance: 1, job: 1 },
    conflictingTypes: [],
    ...over,
  };
}

describe('generate', () => {
  it('is deterministic: same catalog, in any order, same bytes', () => {
    const a = generate({ families: committed, ...opts });
    const b = generate({ families: [...committed].reverse(), ...opts });
    expect(b.files).toEqual(a.files);
    expect(a.files.map((f) => f.path)).toEqual([
      'overseer-error-codes.json',
      'overseer-fleet.json',
      'overseer-host.json',
      'overseer-job-overseer.json',
      'overseer-self.json',
      'rules/error-codes.test.yml',
      'rules/error-codes.yml',
      'rules/node.test.yml',
      'rules/node.yml',
    ]);
  });

  it('node jobs get the host dashboards and host alerts, not a job dashboard of their own', () => {
    const g = generate({ families: committed, ...opts });
    expect(g.dashboards.map((d) => d.uid)).not.toContain('overseer-job-node');
    expect(g.rules.find((r) => r.path === 'rules/node.yml')!.content).toContain('up{job=~"node"} == 0');
  });

  it('a bad catalog still generates, with a warning naming each bad metric', () => {
    const g = generate({
      families: [
        family('queue_depth', { conflictingTypes: ['counter'] }),
        family('legacy_requests_total', { type: 'untyped' }),
        family('bad-name'),
        family('user_sessions', {
          labelNames: ['instance', 'job', 'user'],
          labelValues: { instance: 1, job: 1, user: 1000 },
          series: 50_000,
        }),
      ],
      ...opts,
    });
    const text = g.warnings.join('\n');
    for (const name of ['queue_depth', 'legacy_requests_total', 'bad-name', 'user_sessions'])
      expect(text, name).toContain(name);
    expect(g.dashboards.map((d) => d.uid)).toContain('overseer-job-api');
  });
});
