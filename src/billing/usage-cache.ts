import { createHash } from 'node:crypto';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { UsageSelection } from './queries.js';
import type { UsageKey } from './usage-cursor.js';

export const DEFAULT_CACHE_ENTRIES = 1_000;
export const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;

// Part of every ETag: bump it when the bytes of a usage page change for the same rows (a new field, another
// number format), so a tag a client kept from the old renderer never matches a page of the new one.
const BODY_FORMAT = 'usage-json/1';

export interface UsageCacheOptions {
  /** Most pages kept; 0 keeps none (every request renders; ETags and 304s still work). */
  maxEntries?: number;
  /** Most bytes of page bodies kept; a page larger than this is answered but not kept. */
  maxBytes?: number;
  /** Where lookups, evictions, entries and bytes are counted; none: not counted. */
  registry?: Registry;
}

/** A rendered JSON usage page, with the version of the rows it was rendered after. */
export interface CachedPage {
  readonly version: string;
  readonly etag: string;
  readonly body: Uint8Array<ArrayBuffer>;
}

/** The page a request asks for, normalized: equal keys, equal pages for equal rows. */
export function usageCacheKey(sel: UsageSelection, limit: number, after: UsageKey | undefined): string {
  return JSON.stringify([
    sel.tenant,
    sel.space ?? null,
    sel.fromMs,
    sel.toMs,
    sel.granularity,
    limit,
    after?.hourMs ?? null,
    after?.space ?? null,
  ]);
}

/**
 * The ETag of a page: a hash of its key and the version of its rows (usageVersion), so it is known before
 * the page is read — a 304 costs only the version query, even for a page no longer kept — and every
 * process on the same database gives the same page the same tag. One tag, one body: with the version read
 * before the rows (see the route), a body is of the rows at or after its version, and a version that is
 * read again unchanged means no row changed in between.
 */
export function usageEtag(key: string, version: string): string {
  const hash = createHash('sha256').update(`${BODY_FORMAT}\n${key}\n${version}`).digest('base64url');
  return `"${hash.slice(0, 32)}"`;
}

/** If-None-Match against our (strong) tag: weak comparison per RFC 9110 §13.1.2; `*` matches any page. */
export function matchesIfNoneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((part) => {
    const tag = part.trim();
    return tag === '*' || (tag.startsWith('W/') ? tag.slice(2) : tag) === etag;
  });
}

// What an entry costs besides its body: the key twice (Map and entry strings are UTF-16) and object headers.
const entryBytes = (key: string, page: CachedPage): number =>
  page.body.byteLength + 2 * (key.length + page.version.length + page.etag.length) + 200;

/**
 * Rendered usage pages, least recently used first out, bounded by count and bytes. An entry is served only
 * for the version it was rendered at: the caller reads the version on every request (cheap, see
 * usageVersion), so a page here is never stale, only sometimes rebuilt.
 */
export class UsageCache {
  /** Map order is use order: the first key is the least recently used. */
  private readonly pages = new Map<string, CachedPage>();
  private bytes = 0;
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private readonly metrics: { lookups: Counter<'result'>; evictions: Counter<'reason'> } | undefined;

  constructor(opts: UsageCacheOptions = {}) {
    this.maxEntries = opts.maxEntries ?? DEFAULT_CACHE_ENTRIES;
    this.maxBytes = opts.maxBytes ?? DEFAULT_CACHE_BYTES;
    const registry = opts.registry;
    if (registry === undefined) return;
    const registers = [registry];
    const entries = () => this.pages.size;
    const bytes = () => this.bytes;
    this.metrics = {
      lookups: new Counter({
        name: 'overseer_billing_usage_cache_lookups_total',
        help: 'Usage page lookups: hit, miss (not kept), stale (kept for an older version of its rows).',
        labelNames: ['result'],
        registers,
      }),
      evictions: new Counter({
        name: 'overseer_billing_usage_cache_evictions_total',
        help: 'Usage pages dropped: stale (their rows changed) or bound (to stay within entries and bytes).',
        labelNames: ['reason'],
        registers,
      }),
    };
    new Gauge({
      name: 'overseer_billing_usage_cache_entries',
      help: 'Usage pages kept.',
      registers,
      collect() {
        this.set(entries());
      },
    });
    new Gauge({
      name: 'overseer_billing_usage_cache_bytes',
      help: 'Bytes the kept usage pages take (bodies, keys, overhead).',
      registers,
      collect() {
        this.set(bytes());
      },
    });
  }

  get size(): number {
    return this.pages.size;
  }

  get byteSize(): number {
    return this.bytes;
  }

  /** The page kept for `key` if it was rendered at `version`; an older one is dropped. */
  get(key: string, version: string): CachedPage | undefined {
    const page = this.pages.get(key);
    if (page === undefined) {
      this.metrics?.lookups.inc({ result: 'miss' });
      return undefined;
    }
    this.pages.delete(key);
    if (page.version !== version) {
      this.bytes -= entryBytes(key, page);
      this.metrics?.lookups.inc({ result: 'stale' });
      this.metrics?.evictions.inc({ reason: 'stale' });
      return undefined;
    }
    this.pages.set(key, page);
    this.metrics?.lookups.inc({ result: 'hit' });
    return page;
  }

  /** Keeps `page` as the most recently used, dropping the least recently used ones beyond the bounds. */
  set(key: string, page: CachedPage): void {
    const size = entryBytes(key, page);
    const old = this.pages.get(key);
    if (old !== undefined) {
      this.pages.delete(key);
      this.bytes -= entryBytes(key, old);
    }
    if (this.maxEntries <= 0 || size > this.maxBytes) return;
    this.pages.set(key, page);
    this.bytes += size;
    for (const [k, p] of this.pages) {
      if (this.pages.size <= this.maxEntries && this.bytes <= this.maxBytes) break;
      this.pages.delete(k);
      this.bytes -= entryBytes(k, p);
      this.metrics?.evictions.inc({ reason: 'bound' });
    }
  }
}
