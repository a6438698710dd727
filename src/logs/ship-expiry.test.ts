import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalObjectStore } from './local-store.js';
import { DEFAULT_KEY_TEMPLATE } from './object-keys.js';
import { expireRemote, keyAgeParser, type KeyAgeParser } from './ship-expiry.js';

const H = 3_600_000;
const DAY = 24 * H;

function parser(template: string, prefix = 'logs/'): KeyAgeParser {
  const p = keyAgeParser(template, prefix);
  if (typeof p === 'string') throw new Error(p);
  return p;
}

describe('keyAgeParser', () => {
  const def = parser(DEFAULT_KEY_TEMPLATE);

  it.each<[string, number | undefined]>([
    ['logs/api/web-1/2025/01/02/13/api.x.log.gz', Date.UTC(2025, 0, 2, 14)],
    ['logs/api/web-1/2024/02/29/23/f.gz', Date.UTC(2024, 2, 1, 0)],
    ['logs/api/web-1/2025/02/30/13/f.gz', undefined], // no such day
    ['logs/api/web-1/2025/13/01/00/f.gz', undefined],
    ['logs/api/web-1/2025/01/02/24/f.gz', undefined],
    ['logs/api/web-1/2025/01/02/13/f', undefined], // not `.gz`: not from this template
    ['logs/api/2025/01/02/13/f.gz', undefined], // a segment short
    ['other/api/web-1/2025/01/02/13/f.gz', undefined],
    ['logs/a/b/c/2025/01/02/13/f.gz', undefined],
  ])('%s ends at %s', (key, want) => {
    expect(def.periodEnd(key)).toBe(want);
  });

  it('lists under the literal start of the template', () => {
    expect(def.listPrefix).toBe('logs/');
    expect(parser('archive/{prefix}{host}/{YYYY}-{MM}-{DD}/{service}/{file}.gz').listPrefix).toBe(
      'archive/logs/',
    );
    expect(parser('{service}/{host}/YYYY/MM/DD/{file}', 'x/').listPrefix).toBe('');
  });

  it('uses the day as the period when the template has no hour', () => {
    const p = parser('{prefix}{YYYY}-{MM}-{DD}/{service}.{host}.{file}.gz');
    expect(p.periodEnd('logs/2025-01-02/api.h.f.gz')).toBe(Date.UTC(2025, 0, 3));
  });

  it('escapes literal regex characters of the template and the prefix', () => {
    const p = parser('{prefix}{service}+{host}/YYYY/MM/DD/{file}.gz', 'a.b/');
    expect(p.periodEnd('a.b/api+h/2025/01/02/f.gz')).toBe(Date.UTC(2025, 0, 3));
    expect(p.periodEnd('aXb/api+h/2025/01/02/f.gz')).toBeUndefined();
  });

  it.each([
    ['{prefix}{service}/{host}/{file}.gz', 'lacks YYYY, MM, DD'],
    ['{prefix}{service}/{host}/YYYY/MM/{file}.gz', 'lacks DD'],
  ])('refuses %s', (template, problem) => {
    expect(keyAgeParser(template, '')).toContain(problem);
  });
});

describe('expireRemote', () => {
  let dir: string;
  let store: LocalObjectStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'overseer-expiry-'));
    store = new LocalObjectStore(join(dir, 'archive'));
    await writeFile(join(dir, 'f.gz'), 'x');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const put = (key: string) =>
    store.put(key, join(dir, 'f.gz'), { sha256: createHash('sha256').update('x').digest('hex'), size: 1 });

  it('deletes the keys whose whole hour lies before the horizon and nothing else', async () => {
    const old = 'logs/api/h/2025/01/01/10/api.a.log.gz';
    const edge = 'logs/api/h/2025/01/01/11/api.b.log.gz';
    const young = 'logs/api/h/2025/01/10/00/api.c.log.gz';
    const foreign = 'logs/readme.txt';
    for (const k of [old, edge, young, foreign]) await put(k);
    const deleted: string[] = [];
    // The horizon is the end of hour 11: that hour ends exactly at it, so it goes too.
    const r = await expireRemote(
      store,
      parser(DEFAULT_KEY_TEMPLATE),
      Date.UTC(2025, 0, 1, 12),
      () => true,
      (k) => deleted.push(k),
    );
    expect(r).toEqual({ scanned: 4, deleted: 2 });
    expect(deleted.sort()).toEqual([old, edge]);
    const left: string[] = [];
    for await (const o of store.list('')) left.push(o.key);
    expect(left.sort()).toEqual([young, foreign].sort());
  });

  it('stops between objects when told to', async () => {
    await put('logs/api/h/2020/01/01/10/a.gz');
    await put('logs/api/h/2020/01/01/11/b.gz');
    let n = 0;
    const r = await expireRemote(store, parser(DEFAULT_KEY_TEMPLATE), Date.now() - 30 * DAY, () => n++ < 1);
    expect(r).toEqual({ scanned: 1, deleted: 1 });
  });
});
