import { describe, expect, it } from 'vitest';
import type { LabelPairs } from './exposition/types.js';
import { hostLoad, increase, type HostLoadValues, type NodeSeriesReader } from './host-load.js';
import type { Point } from './sample-window.js';

const pts = (...pairs: Array<[number, number]>): Point[] => pairs.map(([t, v]) => ({ t, v }));

describe('increase', () => {
  it.each<[string, Point[], number]>([
    ['no points', [], 0],
    ['one point', pts([0, 5]), 0],
    ['monotonic', pts([0, 1], [1, 4], [2, 10]), 9],
    ['flat', pts([0, 7], [1, 7], [2, 7]), 0],
    // After a reset the counter counted up from 0 to its new value.
    ['one reset', pts([0, 10], [1, 20], [2, 5], [3, 8]), 10 + 5 + 3],
    ['reset to zero', pts([0, 10], [1, 0], [2, 4]), 4],
    ['two resets', pts([0, 100], [1, 3], [2, 50], [3, 1]), 3 + 47 + 1],
    ['reset on the last point', pts([0, 1], [1, 9], [2, 2]), 8 + 2],
    ['fractional seconds', pts([0, 0.25], [1, 0.75]), 0.5],
  ])('%s', (_, points, want) => {
    expect(increase(points)).toBeCloseTo(want, 12);
  });
});

interface FakeSeries {
  name: string;
  labels: LabelPairs;
  points: Point[];
  /** Value in the latest scrape; defaults to the last point's value. */
  latest?: number | undefined;
}

/** A NodeSeriesReader over fixed series; `points` honours `since` as the sample window does. */
function reader(series: FakeSeries[]): NodeSeriesReader & { sinces: number[] } {
  const key = (s: FakeSeries, i: number): string => `${s.name}#${i}`;
  const sinces: number[] = [];
  return {
    sinces,
    rows: (name) =>
      series.flatMap((s, i) => (s.name === name ? [{ series: key(s, i), labels: s.labels }] : [])),
    points: (id, since) => {
      sinces.push(since);
      const i = series.findIndex((s, j) => key(s, j) === id);
      return (series[i]?.points ?? []).filter((p) => p.t >= since);
    },
    latest: (id) => {
      const i = series.findIndex((s, j) => key(s, j) === id);
      const s = series[i];
      if (s === undefined) return undefined;
      return 'latest' in s ? s.latest : s.points.at(-1)?.v;
    },
  };
}

const cpu = (n: string, mode: string, points: Point[]): FakeSeries => ({
  name: 'node_cpu_seconds_total',
  labels: ['cpu', n, 'mode', mode],
  points,
});
const gauge = (name: string, v: number | undefined): FakeSeries => ({
  name,
  labels: [],
  points: v === undefined ? [] : [{ t: 60_000, v }],
  latest: v,
});

const NOW = 60_000;
const WINDOW = 60_000;

describe('hostLoad cpu', () => {
  it.each<{ title: string; series: FakeSeries[]; cpu: number | undefined; from?: number; to?: number }>([
    {
      title: 'one CPU, half idle',
      series: [cpu('0', 'idle', pts([0, 0], [60_000, 30])), cpu('0', 'user', pts([0, 0], [60_000, 30]))],
      cpu: 0.5,
      from: 0,
      to: 60_000,
    },
    {
      title: 'all idle',
      series: [cpu('0', 'idle', pts([0, 100], [60_000, 160])), cpu('0', 'user', pts([0, 5], [60_000, 5]))],
      cpu: 0,
      from: 0,
      to: 60_000,
    },
    {
      title: 'never idle',
      series: [cpu('0', 'idle', pts([0, 100], [60_000, 100])), cpu('0', 'system', pts([0, 5], [60_000, 65]))],
      cpu: 1,
      from: 0,
      to: 60_000,
    },
    {
      title: 'two CPUs and several modes: idle share of all seconds (iowait counts as busy)',
      series: [
        // cpu0: idle 40, user 10, system 5, iowait 5 → 60 s
        cpu('0', 'idle', pts([0, 1000], [30_000, 1020], [60_000, 1040])),
        cpu('0', 'user', pts([0, 50], [30_000, 55], [60_000, 60])),
        cpu('0', 'system', pts([0, 7], [60_000, 12])),
        cpu('0', 'iowait', pts([0, 1], [60_000, 6])),
        // cpu1: idle 20, user 30, steal 10 → 60 s
        cpu('1', 'idle', pts([0, 500], [60_000, 520])),
        cpu('1', 'user', pts([0, 80], [60_000, 110])),
        cpu('1', 'steal', pts([0, 0], [60_000, 10])),
      ],
      cpu: 1 - 60 / 120,
      from: 0,
      to: 60_000,
    },
    {
      title: 'a counter reset counts what came after it',
      series: [
        // idle: 10 then reset to 0 and up to 20 → 10 + 20 = 30
        cpu('0', 'idle', pts([0, 90], [30_000, 100], [60_000, 20])),
        cpu('0', 'user', pts([0, 0], [30_000, 15], [60_000, 30])),
      ],
      cpu: 0.5,
      from: 0,
      to: 60_000,
    },
    {
      title: 'points before now − window are ignored',
      series: [
        // Before the window the host was busy; inside it, fully idle.
        cpu('0', 'idle', pts([-30_000, 0], [-1, 0], [0, 0], [60_000, 60])),
        cpu('0', 'user', pts([-30_000, 0], [-1, 500], [0, 500], [60_000, 500])),
      ],
      cpu: 0,
      from: 0,
      to: 60_000,
    },
    {
      title: 'the window range comes from the earliest first and latest last point used',
      series: [
        cpu('0', 'idle', pts([15_000, 0], [45_000, 15])),
        cpu('0', 'user', pts([5_000, 0], [30_000, 5], [50_000, 15])),
      ],
      cpu: 0.5,
      from: 5_000,
      to: 50_000,
    },
    {
      title: 'a series with one point in the window is skipped, the others count',
      series: [
        cpu('0', 'idle', pts([0, 0], [60_000, 30])),
        cpu('0', 'user', pts([0, 0], [60_000, 10])),
        cpu('1', 'user', pts([-60_000, 0], [60_000, 1000])),
      ],
      cpu: 0.25,
      from: 0,
      to: 60_000,
    },
    { title: 'no cpu series', series: [], cpu: undefined },
    {
      title: 'fewer than two points in the window',
      series: [cpu('0', 'idle', pts([60_000, 30])), cpu('0', 'user', pts([-1, 0], [60_000, 30]))],
      cpu: undefined,
    },
    {
      title: 'no seconds passed at all',
      series: [cpu('0', 'idle', pts([0, 5], [60_000, 5])), cpu('0', 'user', pts([0, 5], [60_000, 5]))],
      cpu: undefined,
    },
    {
      title: 'clamped to 1 when idle goes backwards below zero',
      series: [cpu('0', 'idle', pts([0, 5], [60_000, -1])), cpu('0', 'user', pts([0, 0], [60_000, 10]))],
      cpu: 1,
      from: 0,
      to: 60_000,
    },
  ])('$title', (c) => {
    const r = reader(c.series);
    const got = hostLoad(r, NOW, WINDOW);
    if (c.cpu === undefined) {
      expect(got.cpu).toBeUndefined();
      expect(got.cpuWindow).toBeUndefined();
    } else {
      expect(got.cpu).toBeCloseTo(c.cpu, 12);
      expect(got.cpuWindow).toEqual({ from: c.from, to: c.to });
    }
    for (const since of r.sinces) expect(since).toBe(NOW - WINDOW);
  });
});

describe('hostLoad memory and load1', () => {
  const GiB = 1024 ** 3;
  it.each<{ title: string; series: FakeSeries[]; want: Pick<HostLoadValues, 'memory' | 'memorySource'> }>([
    {
      title: 'MemAvailable',
      series: [
        gauge('node_memory_MemTotal_bytes', 16 * GiB),
        gauge('node_memory_MemAvailable_bytes', 4 * GiB),
      ],
      want: { memory: 0.75, memorySource: 'MemAvailable' },
    },
    {
      title: 'MemAvailable wins over MemFree+Buffers+Cached',
      series: [
        gauge('node_memory_MemTotal_bytes', 10),
        gauge('node_memory_MemAvailable_bytes', 8),
        gauge('node_memory_MemFree_bytes', 1),
        gauge('node_memory_Buffers_bytes', 1),
        gauge('node_memory_Cached_bytes', 1),
      ],
      want: { memory: 0.2, memorySource: 'MemAvailable' },
    },
    {
      title: 'MemFree+Buffers+Cached without MemAvailable',
      series: [
        gauge('node_memory_MemTotal_bytes', 100),
        gauge('node_memory_MemFree_bytes', 10),
        gauge('node_memory_Buffers_bytes', 5),
        gauge('node_memory_Cached_bytes', 25),
      ],
      want: { memory: 0.6, memorySource: 'MemFree+Buffers+Cached' },
    },
    {
      title: 'MemFree alone (no Buffers/Cached series)',
      series: [gauge('node_memory_MemTotal_bytes', 100), gauge('node_memory_MemFree_bytes', 30)],
      want: { memory: 0.7, memorySource: 'MemFree+Buffers+Cached' },
    },
    {
      title: 'MemAvailable absent from the latest scrape falls back',
      series: [
        gauge('node_memory_MemTotal_bytes', 100),
        { name: 'node_memory_MemAvailable_bytes', labels: [], points: pts([0, 50]), latest: undefined },
        gauge('node_memory_MemFree_bytes', 40),
      ],
      want: { memory: 0.6, memorySource: 'MemFree+Buffers+Cached' },
    },
    {
      title: 'neither MemAvailable nor MemFree',
      series: [gauge('node_memory_MemTotal_bytes', 100), gauge('node_memory_Cached_bytes', 25)],
      want: { memory: undefined, memorySource: undefined },
    },
    {
      title: 'no MemTotal',
      series: [gauge('node_memory_MemAvailable_bytes', 4)],
      want: { memory: undefined, memorySource: undefined },
    },
    {
      title: 'MemTotal absent from the latest scrape',
      series: [
        { name: 'node_memory_MemTotal_bytes', labels: [], points: pts([0, 100]), latest: undefined },
        gauge('node_memory_MemAvailable_bytes', 4),
      ],
      want: { memory: undefined, memorySource: undefined },
    },
    {
      title: 'MemTotal zero',
      series: [gauge('node_memory_MemTotal_bytes', 0), gauge('node_memory_MemAvailable_bytes', 0)],
      want: { memory: undefined, memorySource: undefined },
    },
    {
      title: 'clamped to 0 when more is available than there is',
      series: [gauge('node_memory_MemTotal_bytes', 100), gauge('node_memory_MemAvailable_bytes', 150)],
      want: { memory: 0, memorySource: 'MemAvailable' },
    },
    {
      title: 'fallback clamped to 0 (Cached counts shared memory twice)',
      series: [
        gauge('node_memory_MemTotal_bytes', 100),
        gauge('node_memory_MemFree_bytes', 50),
        gauge('node_memory_Cached_bytes', 80),
      ],
      want: { memory: 0, memorySource: 'MemFree+Buffers+Cached' },
    },
    {
      title: 'clamped to 1 with a negative MemAvailable',
      series: [gauge('node_memory_MemTotal_bytes', 100), gauge('node_memory_MemAvailable_bytes', -5)],
      want: { memory: 1, memorySource: 'MemAvailable' },
    },
    {
      title: 'nothing available',
      series: [gauge('node_memory_MemTotal_bytes', 100), gauge('node_memory_MemAvailable_bytes', 0)],
      want: { memory: 1, memorySource: 'MemAvailable' },
    },
  ])('$title', (c) => {
    const got = hostLoad(reader(c.series), NOW, WINDOW);
    expect(got.memorySource).toBe(c.want.memorySource);
    if (c.want.memory === undefined) expect(got.memory).toBeUndefined();
    else expect(got.memory).toBeCloseTo(c.want.memory, 12);
  });

  it.each<[string, FakeSeries[], number | undefined]>([
    ['present', [gauge('node_load1', 2.5)], 2.5],
    ['zero', [gauge('node_load1', 0)], 0],
    ['above the CPU count (not clamped)', [gauge('node_load1', 37.25)], 37.25],
    ['absent', [], undefined],
    [
      'absent from the latest scrape',
      [{ name: 'node_load1', labels: [], points: pts([0, 1]), latest: undefined }],
      undefined,
    ],
  ])('load1 %s', (_, series, want) => {
    expect(hostLoad(reader(series), NOW, WINDOW).load1).toBe(want);
  });

  it('computes everything together from one reader', () => {
    const got = hostLoad(
      reader([
        cpu('0', 'idle', pts([0, 0], [60_000, 45])),
        cpu('0', 'user', pts([0, 0], [60_000, 15])),
        gauge('node_memory_MemTotal_bytes', 200),
        gauge('node_memory_MemAvailable_bytes', 50),
        gauge('node_load1', 0.5),
      ]),
      NOW,
      WINDOW,
    );
    expect(got).toEqual<HostLoadValues>({
      cpu: 0.25,
      memory: 0.75,
      load1: 0.5,
      cpuWindow: { from: 0, to: 60_000 },
      memorySource: 'MemAvailable',
      cpuCores: 1,
      memoryBytes: 200,
    });
  });
});

describe('hostLoad size of the host', () => {
  it.each<{
    title: string;
    series: FakeSeries[];
    cpuCores: number | undefined;
    memoryBytes: number | undefined;
  }>([
    {
      title: 'cores = idle series, whatever other modes exist',
      series: [
        cpu('0', 'idle', pts([0, 0], [60_000, 1])),
        cpu('0', 'user', pts([0, 0], [60_000, 1])),
        cpu('1', 'idle', pts([0, 0], [60_000, 1])),
        cpu('1', 'system', pts([0, 0], [60_000, 1])),
        cpu('2', 'idle', pts([60_000, 1])),
        gauge('node_memory_MemTotal_bytes', 8e9),
      ],
      cpuCores: 3,
      memoryBytes: 8e9,
    },
    { title: 'no cpu series, no MemTotal', series: [], cpuCores: undefined, memoryBytes: undefined },
    {
      title: 'no idle series (a non-Linux exporter)',
      series: [cpu('0', 'user', pts([0, 0], [60_000, 1]))],
      cpuCores: undefined,
      memoryBytes: undefined,
    },
    {
      title: 'MemTotal zero is unknown',
      series: [gauge('node_memory_MemTotal_bytes', 0)],
      cpuCores: undefined,
      memoryBytes: undefined,
    },
  ])('$title', (c) => {
    const got = hostLoad(reader(c.series), NOW, WINDOW);
    expect(got.cpuCores).toBe(c.cpuCores);
    expect(got.memoryBytes).toBe(c.memoryBytes);
  });
});
