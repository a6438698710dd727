import { createHash } from 'node:crypto';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { UsageSelection } from './queries.js';
import type { UsageKey } from './usage-cursor.js';
import { InvalidationLog } from './invalidation-log.js';

export const DEFAULT_CACHE_ENTRIES = 10_000;
export const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;

// Part of every ETag: bump it when the bytes of a usage page change for the same rows (a new field, another
// number format), so a tag a client kept from the old renderer never matches a page of the new one.
const BODY_FORMAT = 'usage-json/2';

export interface UsageCacheOptions {
  /** Most pages kept; 0 keeps none (every request renders; ETags and 304s still work). */
  maxEntries?: number;
  /** Most bytes of (gzipped) page bodies kept; a page larger than this is answered but not kept. */
  maxBytes?: number;
  /** Where lookups, evictions, entries and bytes are counted; none: not counted. */
  registry?: Registry;
}

/** A rendered JSON usage page, kept gzipped (a month of hourly rows shrinks about tenfold). */
export interface CachedPage {
  readonly etag: string;
  readonly gzip: Uint8Array<ArrayBuffer>;
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
 * The ETag of a page: a hash of its JSON bytes, so every process on the same rows gives the same page the
 * same tag. Weak (W/): the gzip and identity representations of the page share it, which only a weak tag
 * may do (RFC 9110 §8.8.1); If-None-Match compares weakly anyway.
 */
export function usageEtag(body: Uint8Array): string {
  const hash = createHash('sha256').update(BODY_FORMAT).update('\n').update(body).digest('base64url');
  return `W/"${hash.slice(0, 32)}"`;
}

const opaque = (tag: string): string => (tag.startsWith('W/') ? tag.slice(2) : tag);

/** If-None-Match against our tag: weak comparison per RFC 9110 §13.1.2; `*` matches any page. */
export function matchesIfNoneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const ours = opaque(etag);
  return header.split(',').some((part) => {
    const tag = part.trim();
    return tag === '*' || opaque(tag) === ours;
  });
}

// What an entry costs besides its body: the key twice (Map and entry strings are UTF-16) and object headers.
const entryBytes = (key: string, page: CachedPage): number =>
  page.gzip.byteLength + 2 * (key.length + page.etag.length) + 300;

interface Entry {
  page: CachedPage;
  tenant: string;
}

/**
 * Rendered usage pages, least recently used first out, bounded by count and bytes, kept only while the
 * database's change notifications are heard (see UsageChangeFeed): every statement that changes a tenant's
 * hourly rows notifies on commit, and the tenant's pages are dropped. Not listening (starting up, or the
 * connection lost) means pages could be stale: nothing is served from or kept in the cache then.
 *
 * A page rendered while its tenant changed could hold rows from before the change: a render takes a
 * ticket before reading, and `set` refuses a page whose tenant was invalidated after its ticket.
 */
export class UsageCache {
  /** Map order is use order: the first key is the least recently used. */
  private readonly pages = new Map<string, Entry>();
  private readonly byTenant = new Map<string, Set<string>>();
  private readonly invalidations = new InvalidationLog();
  private bytes = 0;
  private on = false;
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private readonly metrics:
    { lookups: Counter<'result'>; evictions: Counter<'reason'>; refused: Counter } | undefined;

  constructor(opts: UsageCacheOptions = {}) {
    this.maxEntries = opts.maxEntries ?? DEFAULT_CACHE_ENTRIES;
    this.maxBytes = opts.maxBytes ?? DEFAULT_CACHE_BYTES;
    const registry = opts.registry;
    if (registry === undefined) return;
    const registers = [registry];
    const entries = () => this.pages.size;
    const bytes = () => this.bytes;
    const listening = () => (this.on ? 1 : 0);
    this.metrics = {
      lookups: new Counter({
        name: 'overseer_billing_usage_cache_lookups_total',
        help: 'Usage page lookups: hit, miss, or off (change notifications not heard: cache bypassed).',
        labelNames: ['result'],
        registers,
      }),
      evictions: new Counter({
        name: 'overseer_billing_usage_cache_evictions_total',
        help: 'Usage pages dropped: changed (their tenant rows changed), bound (to stay within entries and bytes), reset (notifications lost).',
        labelNames: ['reason'],
        registers,
      }),
      refused: new Counter({
        name: 'overseer_billing_usage_cache_refused_total',
        help: 'Rendered usage pages not kept because their tenant changed while they were rendered.',
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
      help: 'Bytes the kept usage pages take (gzipped bodies, keys, overhead).',
      registers,
      collect() {
        this.set(bytes());
      },
    });
    new Gauge({
      name: 'overseer_billing_usage_cache_listening',
      help: '1 while billing_hourly change notifications are heard and the usage cache is in use.',
      registers,
      collect() {
        this.set(listening());
      },
    });
  }

  get size(): number {
    return this.pages.size;
  }

  get byteSize(): number {
    return this.bytes;
  }

  get listening(): boolean {
    return this.on;
  }

  /** Notifications heard (true) or lost (false); either way every kept page goes, as some may be stale. */
  setListening(on: boolean): void {
    this.clear('reset');
    this.invalidations.add('*');
    this.on = on;
  }

  /** The tenants whose hourly rows changed, or `*` for all. */
  invalidate(tenants: readonly string[] | '*'): void {
    if (tenants === '*') {
      this.invalidations.add('*');
      this.clear('changed');
      return;
    }
    for (const tenant of tenants) {
      this.invalidations.add(tenant);
      const keys = this.byTenant.get(tenant);
      if (keys === undefined) continue;
      for (const key of keys) this.drop(key, 'changed');
    }
  }

  /** Take before reading the rows of a page; hand to `set`. */
  ticket(): number {
    return this.invalidations.seq;
  }

  /** The page kept for `key`, now the most recently used. */
  get(key: string): CachedPage | undefined {
    if (!this.on) {
      this.metrics?.lookups.inc({ result: 'off' });
      return undefined;
    }
    const entry = this.pages.get(key);
    if (entry === undefined) {
      this.metrics?.lookups.inc({ result: 'miss' });
      return undefined;
    }
    this.pages.delete(key);
    this.pages.set(key, entry);
    this.metrics?.lookups.inc({ result: 'hit' });
    return entry.page;
  }

  /**
   * Keeps `page` (of `tenant`'s rows read after `ticket` was taken) as the most recently used, dropping the
   * least recently used beyond the bounds. Refused when not listening or the tenant changed since the ticket.
   */
  set(key: string, tenant: string, ticket: number, page: CachedPage): boolean {
    if (!this.on || this.maxEntries <= 0) return false;
    if (this.invalidations.changedSince(ticket, tenant)) {
      this.metrics?.refused.inc();
      return false;
    }
    const size = entryBytes(key, page);
    if (this.pages.has(key)) this.drop(key);
    if (size > this.maxBytes) return false;
    this.pages.set(key, { page, tenant });
    let keys = this.byTenant.get(tenant);
    if (keys === undefined) this.byTenant.set(tenant, (keys = new Set()));
    keys.add(key);
    this.bytes += size;
    for (const k of this.pages.keys()) {
      if (this.pages.size <= this.maxEntries && this.bytes <= this.maxBytes) break;
      this.drop(k, 'bound');
    }
    return true;
  }

  private drop(key: string, reason?: 'changed' | 'bound'): void {
    const entry = this.pages.get(key);
    if (entry === undefined) return;
    this.pages.delete(key);
    this.bytes -= entryBytes(key, entry.page);
    const keys = this.byTenant.get(entry.tenant);
    keys?.delete(key);
    if (keys?.size === 0) this.byTenant.delete(entry.tenant);
    if (reason !== undefined) this.metrics?.evictions.inc({ reason });
  }

  private clear(reason: 'changed' | 'reset'): void {
    if (this.pages.size > 0) this.metrics?.evictions.inc({ reason }, this.pages.size);
    this.pages.clear();
    this.byTenant.clear();
    this.bytes = 0;
  }
}
