import { describe, expect, it } from 'vitest';
import { parseExposition } from './exposition/parse.js';
import type { Sample } from './exposition/types.js';
import { SampleWindow, type Point } from './sample-window.js';

/** A sample as the parser would give it; `series` is built the same way (labels sorted by name). */
function sample(name: string, value: number, labels: string[] = []): Sample {
  const pairs: string[][] = [];
  for (let i = 0; i < labels.length; i += 2) pairs.push([labels[i]!, labels[i + 1]!]);
  pairs.sort(([a], [b]) => (a! < b! ? -1 : a! > b! ? 1 : 0));
  const series =
    pairs.length === 0 ? name : `${name}{${pairs.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;
  return { name, labels, value, timestampMs: undefined, exemplar: undefined, family: 0, series };
}

const T = 'target-a';
const U = 'target-b';
const INTERVAL = 15_000;
// windowMs 60 s at 15 s: ceil(60/15) + 1 = 5 slots.
const SLOTS = 5;

function window(
  opts: Partial<{ windowMs: number; intervalMs: number; maxSeries: number }> = {},
): SampleWindow {
  return new SampleWindow({ windowMs: 60_000, intervalMs: INTERVAL, maxSeries: 1_000_000, ...opts });
}

/** Appends scrapes 0..n-1 at t = k * INTERVAL, each built by `build(k)`. */
function scrapes(w: SampleWindow, target: string, n: number, build: (k: number) => Sample[]): void {
  for (let k = 0; k < n; k++) w.append(target, k * INTERVAL, build(k));
}

describe('SampleWindow.append and reads', () => {
  it('returns points oldest first, the latest value, the latest scrape and its time', () => {
    const w = window();
    const a = sample('up', 1, ['job', 'x']);
    const b = sample('requests_total', 10);
    expect(w.append(T, 1000, [a, b])).toEqual({ created: 2, dropped: 0 });
    expect(
      w.append(T, 16_000, [
        { ...a, value: 0 },
        { ...b, value: 25 },
      ]),
    ).toEqual({ created: 0, dropped: 0 });

    expect(w.points(T, b.series, 0)).toEqual<Point[]>([
      { t: 1000, v: 10 },
      { t: 16_000, v: 25 },
    ]);
    expect(w.points(T, b.series, 1001)).toEqual<Point[]>([{ t: 16_000, v: 25 }]);
    expect(w.points(T, b.series, 16_000)).toEqual<Point[]>([{ t: 16_000, v: 25 }]);
    expect(w.latest(T, a.series)).toBe(0);
    expect(w.latest(T, b.series)).toBe(25);
    expect(w.lastTime(T)).toBe(16_000);
    expect(w.seriesCount).toBe(2);
    expect(
      w
        .latestScrape(T)
        .map(({ row, value }) => [row.series, row.name, row.labels, value])
        .sort(),
    ).toEqual(
      [
        [a.series, 'up', ['job', 'x'], 0],
        [b.series, 'requests_total', [], 25],
      ].sort(),
    );
    expect(w.rows(T, 'up')).toEqual([{ series: a.series, name: 'up', labels: ['job', 'x'] }]);
  });

  it.each([
    ['points', (w: SampleWindow) => w.points(U, 'up', 0), []],
    ['latest', (w: SampleWindow) => w.latest(U, 'up'), undefined],
    ['latestScrape', (w: SampleWindow) => w.latestScrape(U), []],
    ['lastTime', (w: SampleWindow) => w.lastTime(U), undefined],
    ['rows', (w: SampleWindow) => w.rows(U, 'up'), []],
    ['points of an unknown series', (w: SampleWindow) => w.points(T, 'nope', 0), []],
    ['latest of an unknown series', (w: SampleWindow) => w.latest(T, 'nope'), undefined],
    ['rows of an unknown name', (w: SampleWindow) => w.rows(T, 'nope'), []],
  ])('%s of an unknown target or series is empty', (_, read, want) => {
    const w = window();
    w.append(T, 0, [sample('up', 1)]);
    expect(read(w)).toEqual(want);
  });

  it('keeps separate series per target under the same series key', () => {
    const w = window();
    w.append(T, 0, [sample('up', 1)]);
    w.append(U, 5, [sample('up', 0)]);
    expect(w.latest(T, 'up')).toBe(1);
    expect(w.latest(U, 'up')).toBe(0);
    expect(w.lastTime(U)).toBe(5);
    expect(w.seriesCount).toBe(2);
  });
});

describe('SampleWindow stale markers', () => {
  it('marks a series absent from a scrape stale: points skip it, latest is undefined', () => {
    const w = window();
    const a = sample('a', 1);
    const b = sample('b', 2);
    w.append(T, 0, [a, b]);
    w.append(T, 15_000, [{ ...a, value: 3 }]);
    expect(w.latest(T, 'b')).toBeUndefined();
    expect(w.latest(T, 'a')).toBe(3);
    expect(w.points(T, 'b', 0)).toEqual([{ t: 0, v: 2 }]);
    expect(w.latestScrape(T).map((r) => r.row.series)).toEqual(['a']);
    // Back again: the gap stays a gap.
    w.append(T, 30_000, [
      { ...a, value: 4 },
      { ...b, value: 5 },
    ]);
    expect(w.points(T, 'b', 0)).toEqual([
      { t: 0, v: 2 },
      { t: 30_000, v: 5 },
    ]);
    expect(w.latest(T, 'b')).toBe(5);
  });

  it('appendFailure makes every series of the target stale but keeps the scrape time', () => {
    const w = window();
    w.append(T, 0, [sample('a', 1), sample('b', 2)]);
    w.appendFailure(T, 15_000);
    expect(w.latest(T, 'a')).toBeUndefined();
    expect(w.latest(T, 'b')).toBeUndefined();
    expect(w.latestScrape(T)).toEqual([]);
    expect(w.lastTime(T)).toBe(15_000);
    expect(w.points(T, 'a', 0)).toEqual([{ t: 0, v: 1 }]);
    expect(w.seriesCount).toBe(2);
  });

  it('a series first seen mid-ring has no points from before it existed', () => {
    const w = window();
    scrapes(w, T, 3, (k) => (k < 2 ? [sample('a', k)] : [sample('a', k), sample('late', 7)]));
    expect(w.points(T, 'late', 0)).toEqual([{ t: 30_000, v: 7 }]);
  });

  it('keeps a real NaN value: it is a point and the latest value, not a stale marker', () => {
    const w = window();
    w.append(T, 0, [sample('g', NaN)]);
    w.append(T, 15_000, [sample('g', 1)]);
    w.append(T, 30_000, [sample('g', NaN)]);
    const points = w.points(T, 'g', 0);
    expect(points.map((p) => p.t)).toEqual([0, 15_000, 30_000]);
    expect(points.map((p) => p.v)).toEqual([NaN, 1, NaN]);
    expect(w.latest(T, 'g')).toBeNaN();
    expect(w.latestScrape(T)).toHaveLength(1);
    expect(w.latestScrape(T)[0]!.value).toBeNaN();
  });

  it.each([Infinity, -Infinity, 0, -0, Number.MAX_VALUE, Number.MIN_VALUE])(
    'keeps the special value %s',
    (v) => {
      const w = window();
      w.append(T, 0, [sample('g', v)]);
      expect(w.points(T, 'g', 0)).toEqual([{ t: 0, v }]);
      expect(w.latest(T, 'g')).toBe(v);
    },
  );
});

describe('SampleWindow freeing series', () => {
  it('frees a series absent for a whole window and drops seriesCount exactly then', () => {
    const w = window();
    const counts: number[] = [];
    const rows: number[] = [];
    // `gone` is only in scrape 0; `stay` is in every scrape.
    for (let k = 0; k < SLOTS + 2; k++) {
      w.append(T, k * INTERVAL, k === 0 ? [sample('stay', k), sample('gone', 1)] : [sample('stay', k)]);
      counts.push(w.seriesCount);
      rows.push(w.rows(T, 'gone').length);
    }
    // Scrapes 1..SLOTS-1 still hold scrape 0 in the ring; scrape SLOTS pushes it out.
    expect(counts).toEqual([2, 2, 2, 2, 2, 1, 1]);
    expect(rows).toEqual([1, 1, 1, 1, 1, 0, 0]);
    expect(w.seriesCount).toBe(1);
    expect(w.points(T, 'gone', 0)).toEqual([]);
    expect(w.latest(T, 'gone')).toBeUndefined();
  });

  it('a freed series that comes back starts fresh and is counted as created', () => {
    const w = window();
    scrapes(w, T, SLOTS + 1, (k) => (k === 0 ? [sample('a', 1), sample('x', 100)] : [sample('a', 1)]));
    expect(w.seriesCount).toBe(1);
    // `y` reuses the freed row of `x`: none of x's old values may show through.
    expect(w.append(T, 100 * INTERVAL, [sample('a', 1), sample('y', 9)])).toEqual({ created: 1, dropped: 0 });
    expect(w.points(T, 'y', 0)).toEqual([{ t: 100 * INTERVAL, v: 9 }]);
    expect(w.append(T, 101 * INTERVAL, [sample('a', 1), sample('y', 9), sample('x', 5)])).toEqual({
      created: 1,
      dropped: 0,
    });
    expect(w.points(T, 'x', 0)).toEqual([{ t: 101 * INTERVAL, v: 5 }]);
    expect(w.seriesCount).toBe(3);
    expect(w.rows(T, 'x')).toHaveLength(1);
  });
});

describe('SampleWindow maxSeries', () => {
  it('drops new series past the bound, counts them, and still updates existing ones', () => {
    const w = window({ maxSeries: 3 });
    expect(w.append(T, 0, [sample('a', 1), sample('b', 1)])).toEqual({ created: 2, dropped: 0 });
    expect(w.append(U, 0, [sample('c', 1), sample('d', 1), sample('e', 1)])).toEqual({
      created: 1,
      dropped: 2,
    });
    expect(w.seriesCount).toBe(3);
    expect(w.dropped).toBe(2);
    expect(w.append(T, 15_000, [sample('a', 2), sample('b', 3), sample('f', 1)])).toEqual({
      created: 0,
      dropped: 1,
    });
    expect(w.dropped).toBe(3);
    expect(w.latest(T, 'a')).toBe(2);
    expect(w.latest(T, 'b')).toBe(3);
    expect(w.latest(T, 'f')).toBeUndefined();
    expect(w.latest(U, 'd')).toBeUndefined();
    expect(w.points(T, 'b', 0)).toEqual([
      { t: 0, v: 1 },
      { t: 15_000, v: 3 },
    ]);
  });

  it('makes room again when a target is dropped', () => {
    const w = window({ maxSeries: 2 });
    w.append(T, 0, [sample('a', 1), sample('b', 1)]);
    expect(w.append(U, 0, [sample('c', 1)]).dropped).toBe(1);
    w.drop(T);
    expect(w.seriesCount).toBe(0);
    expect(w.append(U, 15_000, [sample('c', 1)])).toEqual({ created: 1, dropped: 0 });
  });
});

describe('SampleWindow ring', () => {
  it.each([
    { windowMs: 60_000, intervalMs: 15_000, slots: 5 },
    { windowMs: 10_000, intervalMs: 15_000, slots: 2 },
    { windowMs: 1, intervalMs: 1_000_000, slots: 2 },
    { windowMs: 600_000, intervalMs: 15_000, slots: 41 },
    { windowMs: 61_000, intervalMs: 15_000, slots: 6 },
  ])('$windowMs ms at $intervalMs ms keeps exactly the last $slots scrapes in order', (c) => {
    const w = new SampleWindow({ windowMs: c.windowMs, intervalMs: c.intervalMs, maxSeries: 100 });
    const n = c.slots * 3 + 2;
    for (let k = 0; k < n; k++) w.append(T, k * c.intervalMs, [sample('a', k)]);
    const want = Array.from({ length: c.slots }, (_, i) => {
      const k = n - c.slots + i;
      return { t: k * c.intervalMs, v: k };
    });
    expect(w.points(T, 'a', -Infinity)).toEqual(want);
    expect(w.latest(T, 'a')).toBe(n - 1);
    expect(w.lastTime(T)).toBe((n - 1) * c.intervalMs);
  });

  it('before the ring is full returns only the scrapes appended', () => {
    const w = window();
    scrapes(w, T, 3, (k) => [sample('a', k)]);
    expect(w.points(T, 'a', -Infinity)).toEqual([
      { t: 0, v: 0 },
      { t: 15_000, v: 1 },
      { t: 30_000, v: 2 },
    ]);
  });

  it('keeps stale gaps in place across the wrap', () => {
    const w = window();
    // Present in even scrapes only, over 2.4 turns of the ring.
    scrapes(w, T, 12, (k) => (k % 2 === 0 ? [sample('a', k), sample('keep', 0)] : [sample('keep', 0)]));
    expect(w.points(T, 'a', -Infinity)).toEqual([
      { t: 8 * INTERVAL, v: 8 },
      { t: 10 * INTERVAL, v: 10 },
    ]);
    expect(w.latest(T, 'a')).toBeUndefined();
  });
});

describe('SampleWindow.drop', () => {
  it('forgets the target, its series and its time; other targets stay', () => {
    const w = window();
    w.append(T, 0, [sample('a', 1), sample('b', 2)]);
    w.append(U, 0, [sample('a', 3)]);
    w.drop(T);
    expect(w.seriesCount).toBe(1);
    expect(w.points(T, 'a', 0)).toEqual([]);
    expect(w.latest(T, 'a')).toBeUndefined();
    expect(w.lastTime(T)).toBeUndefined();
    expect(w.rows(T, 'a')).toEqual([]);
    expect(w.latest(U, 'a')).toBe(3);
    w.drop(T);
    w.drop('never-seen');
    expect(w.seriesCount).toBe(1);
    // Re-adding the target starts from scratch.
    expect(w.append(T, 15_000, [sample('a', 9)])).toEqual({ created: 1, dropped: 0 });
    expect(w.points(T, 'a', 0)).toEqual([{ t: 15_000, v: 9 }]);
  });
});

describe('SampleWindow growth', () => {
  it.each([65, 200, 1000])('keeps old data of every row when growing to %i series', (n) => {
    const w = window();
    const names = Array.from({ length: n }, (_, i) => `m${i}`);
    // First scrape has 10 series; each later scrape adds more, forcing the row arrays to grow.
    w.append(
      T,
      0,
      names.slice(0, 10).map((m, i) => sample(m, i)),
    );
    w.append(
      T,
      15_000,
      names.slice(0, 63).map((m, i) => sample(m, 1000 + i)),
    );
    w.append(
      T,
      30_000,
      names.map((m, i) => sample(m, 2000 + i)),
    );
    expect(w.seriesCount).toBe(n);
    names.forEach((m, i) => {
      const want: Point[] = [];
      if (i < 10) want.push({ t: 0, v: i });
      if (i < 63) want.push({ t: 15_000, v: 1000 + i });
      want.push({ t: 30_000, v: 2000 + i });
      expect(w.points(T, m, 0)).toEqual(want);
      expect(w.latest(T, m)).toBe(2000 + i);
    });
    expect(w.latestScrape(T)).toHaveLength(n);
    expect(w.bytes).toBeGreaterThanOrEqual(n * SLOTS * 8);
  });
});

describe('SampleWindow keys of lean parses (labels not in name order)', () => {
  const lean = (text: string): Sample[] =>
    parseExposition(text, 'prometheus', { labels: false, checkDuplicates: false }).samples;

  it('one row for a series whatever label order it is written in, across scrapes', () => {
    const w = window();
    const r1 = w.append('t', 1000, lean('h_bucket{method="GET",le="1"} 1\n'));
    const r2 = w.append('t', 2000, lean('h_bucket{le="1",method="GET"} 2\n'));
    const r3 = w.append('t', 3000, lean('h_bucket{method="GET",le="1"} 3\n'));
    expect([r1.created, r2.created, r3.created]).toEqual([1, 0, 0]);
    expect(w.seriesCount).toBe(1);
    expect(w.points('t', 'h_bucket{le="1",method="GET"}', 0).map((p) => p.v)).toEqual([1, 2, 3]);
  });

  it('the same series twice in one scrape, in two label orders, is a duplicate', () => {
    const w = window();
    w.append('t', 1000, lean('h_bucket{method="GET",le="1"} 1\nh_bucket{le="1",method="GET"} 1\n'));
    const r = w.append('t', 2000, lean('h_bucket{method="GET",le="1"} 1\nh_bucket{le="1",method="GET"} 1\n'));
    expect(r.duplicate).toBeDefined();
  });

  it('a freed row takes its aliases with it', () => {
    const w = window({ windowMs: 2000, intervalMs: 1000 });
    w.append('t', 1000, lean('h_bucket{method="GET",le="1"} 1\n'));
    w.append('t', 2000, lean('h_bucket{le="1",method="GET"} 1\n'));
    for (let t = 3000; t < 9000; t += 1000) w.append('t', t, []);
    expect(w.seriesCount).toBe(0);
    expect(w.append('t', 9000, lean('h_bucket{le="1",method="GET"} 5\n')).created).toBe(1);
  });
});
