import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { UsageSelection } from './queries.js';
import { matchesIfNoneMatch, usageCacheKey, usageEtag, UsageCache, type CachedPage } from './usage-cache.js';

const page = (version: string, bytes: number): CachedPage => ({
  version,
  etag: usageEtag('k', version),
  body: new Uint8Array(bytes),
});
const sel: UsageSelection = { tenant: 't1', fromMs: 0, toMs: 3_600_000, granularity: 'hour' };

describe('usageCacheKey', () => {
  it('is the same for the same page however it was asked for', () => {
    expect(usageCacheKey({ ...sel }, 10, undefined)).toBe(
      usageCacheKey({ ...sel, space: undefined }, 10, undefined),
    );
  });

  it.each([
    ['another tenant', { ...sel, tenant: 't2' }, 10, undefined],
    ['a space', { ...sel, space: 's' }, 10, undefined],
    ['the space named null', { ...sel, space: 'null' }, 10, undefined],
    ['another from', { ...sel, fromMs: 1 }, 10, undefined],
    ['another to', { ...sel, toMs: 1 }, 10, undefined],
    ['another granularity', { ...sel, granularity: 'day' as const }, 10, undefined],
    ['another limit', sel, 11, undefined],
    ['a cursor', sel, 10, { hourMs: 0, space: 's' }],
  ])('differs for %s', (_n, s, limit, after) => {
    expect(usageCacheKey(s, limit, after)).not.toBe(usageCacheKey(sel, 10, undefined));
  });
});

describe('usageEtag', () => {
  it('is a quoted tag that follows the key and the version', () => {
    const tag = usageEtag('k', '1 2 3 4 5');
    expect(tag).toMatch(/^"[A-Za-z0-9_-]{32}"$/);
    expect(usageEtag('k', '1 2 3 4 5')).toBe(tag);
    expect(usageEtag('k', '1 3 3 4 5')).not.toBe(tag);
    expect(usageEtag('k2', '1 2 3 4 5')).not.toBe(tag);
  });
});

describe('matchesIfNoneMatch', () => {
  const tag = '"abc"';
  it.each([
    [undefined, false],
    ['', false],
    ['"abc"', true],
    ['W/"abc"', true],
    ['"x", "abc"', true],
    ['"x",W/"abc" ', true],
    ['*', true],
    ['"abcd"', false],
    ['abc', false],
    ['"x"', false],
  ])('%j → %s', (header, match) => {
    expect(matchesIfNoneMatch(header, tag)).toBe(match);
  });
});

describe('UsageCache', () => {
  it('gives a page back only for the version it was kept with, and drops an older one', () => {
    const cache = new UsageCache();
    cache.set('k', page('v1', 10));
    expect(cache.get('k', 'v1')?.version).toBe('v1');
    expect(cache.get('k', 'v2')).toBeUndefined();
    expect(cache.size).toBe(0);
    expect(cache.byteSize).toBe(0);
    expect(cache.get('k', 'v1')).toBeUndefined();
  });

  it('replaces the page of a key, counting its bytes once', () => {
    const cache = new UsageCache();
    cache.set('k', page('v1', 1000));
    const one = cache.byteSize;
    cache.set('k', page('v2', 1000));
    expect([cache.size, cache.byteSize]).toEqual([1, one]);
    expect(cache.get('k', 'v2')).toBeDefined();
  });

  it('evicts the least recently used beyond maxEntries', () => {
    const cache = new UsageCache({ maxEntries: 2 });
    cache.set('a', page('v', 1));
    cache.set('b', page('v', 1));
    expect(cache.get('a', 'v')).toBeDefined(); // a is now the most recent
    cache.set('c', page('v', 1));
    expect(cache.size).toBe(2);
    expect(cache.get('b', 'v')).toBeUndefined();
    expect(cache.get('a', 'v')).toBeDefined();
    expect(cache.get('c', 'v')).toBeDefined();
  });

  it('evicts the least recently used beyond maxBytes, and keeps no page larger than it', () => {
    const cache = new UsageCache({ maxBytes: 3_000 });
    cache.set('a', page('v', 1_000));
    cache.set('b', page('v', 1_000));
    expect(cache.size).toBe(2);
    cache.set('c', page('v', 1_000));
    expect(cache.size).toBe(2);
    expect(cache.byteSize).toBeLessThanOrEqual(3_000);
    expect(cache.get('a', 'v')).toBeUndefined();
    cache.set('huge', page('v', 3_000));
    expect(cache.get('huge', 'v')).toBeUndefined();
    expect(cache.size).toBe(2);
  });

  it('keeps nothing with maxEntries 0', () => {
    const cache = new UsageCache({ maxEntries: 0 });
    cache.set('a', page('v', 1));
    expect([cache.size, cache.byteSize, cache.get('a', 'v')]).toEqual([0, 0, undefined]);
  });

  it('counts lookups, evictions, entries and bytes in its registry', async () => {
    const registry = new Registry();
    const cache = new UsageCache({ maxEntries: 1, registry });
    cache.get('a', 'v');
    cache.set('a', page('v', 10));
    cache.get('a', 'v');
    cache.get('a', 'w');
    cache.set('a', page('w', 10));
    cache.set('b', page('w', 10));
    const text = await registry.metrics();
    expect(text).toContain('overseer_billing_usage_cache_lookups_total{result="miss"} 1');
    expect(text).toContain('overseer_billing_usage_cache_lookups_total{result="hit"} 1');
    expect(text).toContain('overseer_billing_usage_cache_lookups_total{result="stale"} 1');
    expect(text).toContain('overseer_billing_usage_cache_evictions_total{reason="stale"} 1');
    expect(text).toContain('overseer_billing_usage_cache_evictions_total{reason="bound"} 1');
    expect(text).toContain('overseer_billing_usage_cache_entries 1');
    expect(text).toContain(`overseer_billing_usage_cache_bytes ${cache.byteSize}`);
  });
});
