import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { UsageSelection } from './queries.js';
import { matchesIfNoneMatch, usageCacheKey, usageEtag, UsageCache, type CachedPage } from './usage-cache.js';

const page = (bytes: number): CachedPage => ({ etag: 'W/"x"', gzip: new Uint8Array(bytes) });
const listening = (opts: ConstructorParameters<typeof UsageCache>[0] = {}): UsageCache => {
  const cache = new UsageCache(opts);
  cache.setListening(true);
  return cache;
};
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
  it('is a weak quoted tag that follows the bytes', () => {
    const tag = usageEtag(Buffer.from('{"rows":[]}'));
    expect(tag).toMatch(/^W\/"[A-Za-z0-9_-]{32}"$/);
    expect(usageEtag(Buffer.from('{"rows":[]}'))).toBe(tag);
    expect(usageEtag(Buffer.from('{"rows":[1]}'))).not.toBe(tag);
  });
});

describe('matchesIfNoneMatch', () => {
  const tag = 'W/"abc"';
  it.each([
    [undefined, false],
    ['', false],
    ['"abc"', true],
    ['W/"abc"', true],
    ['W/"abc', false],
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
  it('serves and keeps nothing until it listens, and drops everything when it stops', () => {
    const cache = new UsageCache();
    expect(cache.set('k', 't', cache.ticket(), page(10))).toBe(false);
    cache.setListening(true);
    expect(cache.set('k', 't', cache.ticket(), page(10))).toBe(true);
    expect(cache.get('k')).toBeDefined();
    cache.setListening(false);
    expect([cache.size, cache.byteSize, cache.get('k')]).toEqual([0, 0, undefined]);
    cache.setListening(true);
    expect(cache.get('k')).toBeUndefined();
  });

  it('drops the pages of an invalidated tenant only, or all on *', () => {
    const cache = listening();
    for (const [k, t] of [
      ['a1', 'a'],
      ['a2', 'a'],
      ['b1', 'b'],
    ] as const)
      cache.set(k, t, cache.ticket(), page(10));
    cache.invalidate(['a', 'nobody']);
    expect([cache.get('a1'), cache.get('a2'), cache.get('b1')?.etag]).toEqual([
      undefined,
      undefined,
      'W/"x"',
    ]);
    cache.invalidate('*');
    expect([cache.size, cache.byteSize]).toEqual([0, 0]);
  });

  it('refuses a page whose tenant changed while it was rendered, keeps one whose tenant did not', () => {
    const cache = listening();
    const ticket = cache.ticket();
    cache.invalidate(['b']);
    expect(cache.set('a1', 'a', ticket, page(10))).toBe(true);
    cache.invalidate(['a']);
    expect(cache.set('a2', 'a', ticket, page(10))).toBe(false);
    const later = cache.ticket();
    expect(cache.set('a2', 'a', later, page(10))).toBe(true);
    cache.invalidate('*');
    expect(cache.set('a3', 'a', later, page(10))).toBe(false);
  });

  it('replaces the page of a key, counting its bytes once', () => {
    const cache = listening();
    cache.set('k', 't', cache.ticket(), page(1000));
    const one = cache.byteSize;
    cache.set('k', 't', cache.ticket(), page(1000));
    expect([cache.size, cache.byteSize]).toEqual([1, one]);
    cache.invalidate(['t']);
    expect([cache.size, cache.byteSize]).toEqual([0, 0]);
  });

  it('evicts the least recently used beyond maxEntries', () => {
    const cache = listening({ maxEntries: 2 });
    cache.set('a', 't', cache.ticket(), page(1));
    cache.set('b', 't', cache.ticket(), page(1));
    expect(cache.get('a')).toBeDefined(); // a is now the most recent
    cache.set('c', 't', cache.ticket(), page(1));
    expect(cache.size).toBe(2);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.get('c')).toBeDefined();
  });

  it('evicts the least recently used beyond maxBytes, and keeps no page larger than it', () => {
    const cache = listening({ maxBytes: 3_000 });
    cache.set('a', 't', cache.ticket(), page(1_000));
    cache.set('b', 't', cache.ticket(), page(1_000));
    expect(cache.size).toBe(2);
    cache.set('c', 't', cache.ticket(), page(1_000));
    expect(cache.size).toBe(2);
    expect(cache.byteSize).toBeLessThanOrEqual(3_000);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.set('huge', 't', cache.ticket(), page(3_000))).toBe(false);
    expect(cache.size).toBe(2);
  });

  it('keeps nothing with maxEntries 0', () => {
    const cache = listening({ maxEntries: 0 });
    cache.set('a', 't', cache.ticket(), page(1));
    expect([cache.size, cache.byteSize, cache.get('a')]).toEqual([0, 0, undefined]);
  });

  it('counts lookups, evictions, refusals, entries, bytes and whether it listens in its registry', async () => {
    const registry = new Registry();
    const cache = new UsageCache({ maxEntries: 1, registry });
    cache.get('a');
    cache.setListening(true);
    cache.get('a');
    cache.set('a', 't', cache.ticket(), page(10));
    cache.get('a');
    const ticket = cache.ticket();
    cache.invalidate(['t']);
    cache.set('a', 't', ticket, page(10));
    cache.set('a', 't', cache.ticket(), page(10));
    cache.set('b', 'u', cache.ticket(), page(10));
    const text = await registry.metrics();
    expect(text).toContain('overseer_billing_usage_cache_lookups_total{result="off"} 1');
    expect(text).toContain('overseer_billing_usage_cache_lookups_total{result="miss"} 1');
    expect(text).toContain('overseer_billing_usage_cache_lookups_total{result="hit"} 1');
    expect(text).toContain('overseer_billing_usage_cache_evictions_total{reason="changed"} 1');
    expect(text).toContain('overseer_billing_usage_cache_evictions_total{reason="bound"} 1');
    expect(text).toContain('overseer_billing_usage_cache_refused_total 1');
    expect(text).toContain('overseer_billing_usage_cache_entries 1');
    expect(text).toContain(`overseer_billing_usage_cache_bytes ${cache.byteSize}`);
    expect(text).toContain('overseer_billing_usage_cache_listening 1');
  });
});
