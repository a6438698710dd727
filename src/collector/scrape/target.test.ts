import { describe, expect, it } from 'vitest';
import { DEFAULT_JOB, hostOf, makeTarget, scrapeOffsetMs, targetsOfGroup, type Target } from './target.js';

describe('makeTarget', () => {
  it.each<{ title: string; url: string; labels: Record<string, string>; want: Record<string, string> }>([
    {
      title: 'job and instance default',
      url: 'http://node1:9100/metrics',
      labels: {},
      want: { instance: 'node1:9100', job: DEFAULT_JOB },
    },
    {
      title: 'given job and instance are kept',
      url: 'http://node1:9100/metrics',
      labels: { job: 'node', instance: 'db-1' },
      want: { instance: 'db-1', job: 'node' },
    },
    {
      title: '__ labels are dropped, others kept',
      url: 'https://10.0.0.5:8443/m',
      labels: { __scheme__: 'https', __metrics_path__: '/m', __meta_x: 'y', env: 'prod', host: 'db-1' },
      want: { env: 'prod', host: 'db-1', instance: '10.0.0.5:8443', job: DEFAULT_JOB },
    },
    {
      title: 'IPv6 instance keeps its brackets',
      url: 'http://[::1]:9100/metrics',
      labels: {},
      want: { instance: '[::1]:9100', job: DEFAULT_JOB },
    },
    {
      title: 'a label with a single leading underscore is an ordinary label',
      url: 'http://a:1/metrics',
      labels: { _x: '1' },
      want: { _x: '1', instance: 'a:1', job: DEFAULT_JOB },
    },
  ])('$title', ({ url, labels, want }) => {
    const t = makeTarget(url, labels, 'static');
    expect(t.labels).toEqual(want);
    expect(Object.keys(t.labels)).toEqual(Object.keys(want).sort());
    expect(t.url).toBe(new URL(url).toString());
    expect(t.source).toBe('static');
    expect(t.id).toMatch(/^[0-9a-f]{16}$/);
  });

  it('gives the same id whatever the label order and source', () => {
    const a = makeTarget('http://n:9100/metrics', { env: 'prod', job: 'node', zone: 'a' }, 'static');
    const b = makeTarget('http://n:9100/metrics', { zone: 'a', job: 'node', env: 'prod' }, 'file.json');
    expect(b.id).toBe(a.id);
    expect(b.labels).toEqual(a.labels);
    // Dropped __ labels do not change the identity either.
    expect(
      makeTarget('http://n:9100/metrics', { zone: 'a', __meta: 'x', env: 'prod', job: 'node' }, 's').id,
    ).toBe(a.id);
  });

  it.each<[string, string, Record<string, string>]>([
    ['another label value', 'http://n:9100/metrics', { env: 'dev', job: 'node' }],
    ['an extra label', 'http://n:9100/metrics', { env: 'prod', job: 'node', zone: 'a' }],
    ['another job', 'http://n:9100/metrics', { env: 'prod', job: 'node2' }],
    ['another port', 'http://n:9101/metrics', { env: 'prod', job: 'node' }],
    ['another path', 'http://n:9100/other', { env: 'prod', job: 'node' }],
    ['another scheme', 'https://n:9100/metrics', { env: 'prod', job: 'node' }],
    [
      'the instance spelled out differently',
      'http://n:9100/metrics',
      { env: 'prod', job: 'node', instance: 'n' },
    ],
  ])('gives a different id for %s', (_, url, labels) => {
    const base = makeTarget('http://n:9100/metrics', { env: 'prod', job: 'node' }, 'static');
    expect(makeTarget(url, labels, 'static').id).not.toBe(base.id);
  });

  // Was a bug: Prometheus sets `instance` to __address__ exactly as given ("node1:80"), and the doc comment says
  // instance defaults to host:port, but `new URL(...).host` drops a scheme's default port, so a file_sd
  // entry "node1:80" (http) or "node1:443" (https) gets instance "node1".
  it.each([
    ['http://node1:80/metrics', 'node1:80'],
    ['https://node1:443/metrics', 'node1:443'],
  ])('instance of %s keeps the default port (%s)', (url, instance) => {
    expect(makeTarget(url, {}, 'static').labels.instance).toBe(instance);
  });
});

describe('targetsOfGroup', () => {
  it.each<{ title: string; labels: Record<string, string>; urls: string[] }>([
    {
      title: 'defaults to http and /metrics',
      labels: {},
      urls: ['http://a:9100/metrics', 'http://[::1]:9100/metrics'],
    },
    {
      title: '__scheme__ and __metrics_path__ build the URL',
      labels: { __scheme__: 'https', __metrics_path__: '/probe/metrics' },
      urls: ['https://a:9100/probe/metrics', 'https://[::1]:9100/probe/metrics'],
    },
    {
      title: 'a path without a leading slash gets one',
      labels: { __metrics_path__: 'stats' },
      urls: ['http://a:9100/stats', 'http://[::1]:9100/stats'],
    },
  ])('$title', ({ labels, urls }) => {
    const ts = targetsOfGroup(
      { targets: ['a:9100', '[::1]:9100'], labels: { job: 'node', ...labels } },
      'sd.json',
    );
    expect(ts.map((t) => t.url)).toEqual(urls);
    expect(ts.map((t) => t.labels)).toEqual([
      { instance: 'a:9100', job: 'node' },
      { instance: '[::1]:9100', job: 'node' },
    ]);
    expect(ts.map((t) => t.source)).toEqual(['sd.json', 'sd.json']);
    expect(new Set(ts.map((t) => t.id)).size).toBe(2);
  });

  // BUG (same cause as in makeTarget): a file_sd target "node1:80" becomes instance "node1", where
  // Prometheus reading the same file labels it instance="node1:80".
  it('a file_sd target on the default port keeps host:port as instance', () => {
    const [t] = targetsOfGroup({ targets: ['node1:80'], labels: {} }, 'sd.json');
    expect(t?.labels.instance).toBe('node1:80');
  });

  // BUG (minor): Prometheus treats an empty label as absent and sets instance to the address when it is
  // empty; `??=` keeps "", so every such target has hostOf() === "" and they merge into one host.
  it('an empty instance label defaults to host:port', () => {
    const ts = targetsOfGroup({ targets: ['a:1', 'b:2'], labels: { instance: '' } }, 'sd.json');
    expect(ts.map((t) => t.labels.instance)).toEqual(['a:1', 'b:2']);
    expect(ts.map(hostOf)).toEqual(['a', 'b']);
  });

  it('has no targets for an empty group', () => {
    expect(targetsOfGroup({ targets: [], labels: { job: 'x' } }, 'f')).toEqual([]);
  });
});

describe('hostOf', () => {
  const target = (labels: Record<string, string>): Target => ({
    id: 'x',
    url: 'http://x/',
    labels,
    source: 's',
  });
  it.each<[string, Record<string, string>, string]>([
    ['the host label', { host: 'db-1', instance: '10.0.0.1:9100' }, 'db-1'],
    ['instance without port', { instance: 'node1:9100' }, 'node1'],
    ['instance that has no port', { instance: 'node1' }, 'node1'],
    ['an IP instance', { instance: '10.0.0.1:9100' }, '10.0.0.1'],
    ['IPv6 loopback with port', { instance: '[::1]:9100' }, '::1'],
    ['IPv6 without port', { instance: '[fe80::1]' }, 'fe80::1'],
    ['an empty host label falls back to instance', { host: '', instance: 'node1:9100' }, 'node1'],
    ['no labels', {}, ''],
  ])('%s', (_, labels, want) => {
    expect(hostOf(target(labels))).toBe(want);
  });

  it('works on a made target', () => {
    expect(hostOf(makeTarget('http://[::1]:9100/metrics', {}, 's'))).toBe('::1');
    expect(hostOf(makeTarget('http://node7:9100/metrics', {}, 's'))).toBe('node7');
  });
});

describe('scrapeOffsetMs', () => {
  const fleet = Array.from({ length: 1000 }, (_, i) =>
    makeTarget(`http://node${i}.example:9100/metrics`, { job: 'node' }, 'static'),
  );

  it.each([
    { intervalMs: 15_000, nowMs: 1_700_000_000_000 },
    { intervalMs: 15_000, nowMs: 1_700_000_007_321 },
    { intervalMs: 60_000, nowMs: 0 },
    { intervalMs: 1_000, nowMs: 123_456_789 },
    { intervalMs: 7, nowMs: 1_000_003 },
  ])('is in [0, $intervalMs) at $nowMs', ({ intervalMs, nowMs }) => {
    for (const t of fleet) {
      const o = scrapeOffsetMs(t, intervalMs, nowMs);
      expect(o).toBeGreaterThanOrEqual(0);
      expect(o).toBeLessThan(intervalMs);
      expect(Number.isInteger(o)).toBe(true);
    }
  });

  it('gives a target the same phase on every call', () => {
    const interval = 15_000;
    for (const t of fleet.slice(0, 50)) {
      const phases = new Set<number>();
      for (const now of [0, 1, 14_999, 15_000, 1_700_000_000_000, 1_700_000_004_567, 1_700_000_014_999]) {
        phases.add((now + scrapeOffsetMs(t, interval, now)) % interval);
      }
      expect(phases.size).toBe(1);
    }
  });

  it('scrapes right now when now is exactly the phase', () => {
    const t = fleet[0]!;
    const interval = 15_000;
    const phase = scrapeOffsetMs(t, interval, 0);
    expect(scrapeOffsetMs(t, interval, 30_000 + phase)).toBe(0);
    expect(scrapeOffsetMs(t, interval, 30_000 + phase + 1)).toBe(interval - 1);
  });

  it('spreads 1,000 targets over a 15 s interval: no 1 s bucket holds more than 3× the mean', () => {
    const interval = 15_000;
    const buckets = new Array<number>(15).fill(0);
    for (const t of fleet) buckets[Math.floor(scrapeOffsetMs(t, interval, 1_700_000_000_000) / 1000)]!++;
    const mean = fleet.length / buckets.length;
    expect(buckets.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(Math.max(...buckets)).toBeLessThanOrEqual(3 * mean);
    // And no bucket is left empty, which a constant or clustered phase would do.
    expect(Math.min(...buckets)).toBeGreaterThan(0);
  });

  it('spreads targets that differ only in a label', () => {
    const ts = Array.from({ length: 100 }, (_, i) =>
      makeTarget('http://same:9100/metrics', { shard: String(i) }, 'static'),
    );
    const offsets = new Set(ts.map((t) => scrapeOffsetMs(t, 15_000, 0)));
    expect(offsets.size).toBeGreaterThan(90);
  });
});
