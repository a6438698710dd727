import type { CatalogEntry } from '../collector/catalog.js';
import { presentRows, type PanelCandidate } from './fleet-dashboard.js';
import { DISK_DEVICES } from './node-rules.js';
import { m, rate, selector, sum, type Matcher } from './promql.js';
import type { DashboardSpec, PanelSpec } from './spec.js';

/** One host at a time: the instance variable is single-valued, so an exact match, not a regex. */
const HOST = m('instance', '=', '$instance');
const on = (name: string, ...extra: Matcher[]): string => selector(name, [HOST, ...extra]);

/**
 * Filesystems that are not the host's storage: memory-backed, container layers, read-only images and
 * kernel pseudo-filesystems would show as full or empty without meaning either.
 */
export const EXCLUDED_FSTYPES = 'tmpfs|devtmpfs|ramfs|overlay|squashfs|nsfs|autofs|iso9660|fuse\\.lxcfs';

const CPU = 'node_cpu_seconds_total';
const MEMORY = ['node_memory_MemAvailable_bytes', 'node_memory_MemTotal_bytes'];
const LOADS = ['node_load1', 'node_load5', 'node_load15'];

const ratio = { unit: 'percentunit', min: 0, max: 1 } as const;
const cpuCount = `count(${on(CPU, m('mode', '=', 'idle'))})`;
const memAvailable = on('node_memory_MemAvailable_bytes');
const memTotal = on('node_memory_MemTotal_bytes');
const fs = (name: string): string => on(name, m('fstype', '!~', EXCLUDED_FSTYPES), m('mountpoint', '!=', ''));
const fsUsed = `1 - (${fs('node_filesystem_avail_bytes')} / ${fs('node_filesystem_size_bytes')})`;

const panel = (needs: string[], p: PanelSpec): PanelCandidate => ({ needs, panel: p });

const availability = [
  panel([], {
    kind: 'statushistory',
    title: 'Up',
    description: 'Whether the last scrape of each job on this host succeeded (1) or failed (0).',
    min: 0,
    max: 1,
    width: 24,
    height: 4,
    queries: [{ expr: on('up'), legend: '{{job}}' }],
  }),
];

const cpu = [
  panel([CPU], {
    kind: 'timeseries',
    title: 'CPU by mode',
    description:
      'Seconds per second in each non-idle mode, as a share of all CPUs: the stack is the busy share.',
    ...ratio,
    stack: true,
    width: 18,
    // scalar(): divide every mode by one CPU count, not by a series that would need matching labels.
    queries: [
      {
        expr: `${sum(rate(on(CPU, m('mode', '!=', 'idle'))), ['mode'])} / scalar(${cpuCount})`,
        legend: '{{mode}}',
      },
    ],
  }),
  panel([CPU], {
    kind: 'stat',
    title: 'CPUs',
    unit: 'short',
    width: 6,
    queries: [{ expr: cpuCount, instant: true }],
  }),
];

const memory = [
  panel(MEMORY, {
    kind: 'timeseries',
    title: 'Memory',
    description: 'Used is what is not available to new work without swapping (MemTotal − MemAvailable).',
    unit: 'bytes',
    min: 0,
    width: 18,
    queries: [
      { expr: `${memTotal} - ${memAvailable}`, legend: 'used' },
      { expr: memAvailable, legend: 'available' },
      { expr: memTotal, legend: 'total' },
    ],
  }),
  panel(MEMORY, {
    kind: 'stat',
    title: 'Memory used',
    ...ratio,
    width: 6,
    queries: [{ expr: `1 - (${memAvailable} / ${memTotal})`, instant: true }],
  }),
];

const loadQueries = (perCpu: boolean) =>
  LOADS.map((name) => ({
    expr: perCpu ? `${on(name)} / scalar(${cpuCount})` : on(name),
    legend: name.replace('node_load', '') + 'm',
  }));

const load = [
  panel(LOADS, {
    kind: 'timeseries',
    title: 'Load average',
    unit: 'short',
    min: 0,
    queries: loadQueries(false),
  }),
  panel([...LOADS, CPU], {
    kind: 'timeseries',
    title: 'Load per CPU',
    description: 'Load average divided by the CPU count: above 1, work waits for a CPU.',
    unit: 'short',
    min: 0,
    queries: loadQueries(true),
  }),
];

const disk = [
  panel(['node_disk_read_bytes_total', 'node_disk_written_bytes_total'], {
    kind: 'timeseries',
    title: 'Disk throughput',
    unit: 'Bps',
    min: 0,
    queries: [
      {
        expr: rate(on('node_disk_read_bytes_total', m('device', '=~', DISK_DEVICES))),
        legend: '{{device}} read',
      },
      {
        expr: rate(on('node_disk_written_bytes_total', m('device', '=~', DISK_DEVICES))),
        legend: '{{device}} write',
      },
    ],
  }),
  panel(['node_disk_io_time_seconds_total'], {
    kind: 'timeseries',
    title: 'Disk busy',
    description: 'Share of time each disk had I/O in flight; near 100% the disk is saturated.',
    ...ratio,
    queries: [
      {
        expr: rate(on('node_disk_io_time_seconds_total', m('device', '=~', DISK_DEVICES))),
        legend: '{{device}}',
      },
    ],
  }),
];

const network = [
  panel(['node_network_receive_bytes_total', 'node_network_transmit_bytes_total'], {
    kind: 'timeseries',
    title: 'Network traffic',
    description: 'Bytes per second per interface, loopback excluded.',
    unit: 'Bps',
    min: 0,
    width: 24,
    queries: (['receive', 'transmit'] as const).map((dir) => ({
      expr: rate(on(`node_network_${dir}_bytes_total`, m('device', '!=', 'lo'))),
      legend: `{{device}} ${dir}`,
    })),
  }),
];

const FILESYSTEM = ['node_filesystem_avail_bytes', 'node_filesystem_size_bytes'];
const filesystem = [
  panel(FILESYSTEM, {
    kind: 'timeseries',
    title: 'Filesystem used',
    description: 'Share of each filesystem not available to non-root users.',
    ...ratio,
    queries: [{ expr: fsUsed, legend: '{{mountpoint}}' }],
  }),
  panel(FILESYSTEM, {
    kind: 'bargauge',
    title: 'Filesystem used now',
    ...ratio,
    queries: [{ expr: fsUsed, legend: '{{mountpoint}}', instant: true }],
  }),
];

/**
 * One host in detail from its node_exporter families: a row appears only when the host's exporter has the
 * families it reads (a disk row on a VM without disk stats would be a wall of "No data").
 */
export function hostDashboard(families: CatalogEntry[]): DashboardSpec {
  return {
    uid: 'overseer-host',
    title: 'Host',
    description: 'CPU, memory, load, disk, network and filesystems of one host (node_exporter).',
    tags: ['overseer', 'host', 'node'],
    variables: { job: 'multi', instance: 'single' },
    rows: presentRows(
      [
        ['Availability', availability],
        ['CPU', cpu],
        ['Memory', memory],
        ['Load', load],
        ['Disk', disk],
        ['Network', network],
        ['Filesystem', filesystem],
      ],
      families,
    ),
  };
}
