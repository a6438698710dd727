import { describe, expect, it } from 'vitest';
import { ErrorCodes, isOverseerError } from '../errors/index.js';
import { parseMetricCatalog, readMetricCatalog } from './metric-catalog-file.js';

const codeOf = (f: () => unknown): number | undefined => {
  try {
    f();
  } catch (e) {
    return isOverseerError(e) ? e.code : -1;
  }
  return undefined;
};

describe('metric catalog snapshot', () => {
  it('loads a snapshot from before jobs/labelValues existed, with defaults', () => {
    const [f] = parseMetricCatalog(
      JSON.stringify({ families: [{ name: 'up', type: 'gauge', help: null, labelNames: ['job'] }] }),
      'old.json',
    );
    expect(f).toMatchObject({ name: 'up', help: undefined, jobs: [], labelValues: {}, sampleNames: ['up'] });
  });

  it.each([
    ['not JSON', '{families:'],
    ['no families', '{}'],
    ['an unknown type', JSON.stringify({ families: [{ name: 'x', type: 'counterish' }] })],
    ['an empty name', JSON.stringify({ families: [{ name: '', type: 'gauge' }] })],
    ['negative counts', JSON.stringify({ families: [{ name: 'x', type: 'gauge', series: -1 }] })],
  ])('refuses %s with METRIC_CATALOG_INVALID', (_, text) => {
    expect(codeOf(() => parseMetricCatalog(text, 'c.json'))).toBe(ErrorCodes.METRIC_CATALOG_INVALID);
  });

  it('an unreadable file is METRIC_CATALOG_UNREADABLE', async () => {
    const err = await readMetricCatalog('/nonexistent/catalog.json').catch((e: unknown) => e);
    expect(isOverseerError(err) && err.code).toBe(ErrorCodes.METRIC_CATALOG_UNREADABLE);
  });
});
