// The catalogue behind each target's body: node_exporter-like host metrics plus app metrics (a summary,
// labelled counters and gauges, two labelled histograms) — 744 series before padding.
import {
  combos,
  family,
  histogram,
  seriesText,
  simple,
  type Family,
  type Labels,
  type Line,
} from './body-shapes.js';

const cpus = ['0', '1', '2', '3', '4', '5', '6', '7'];
const modes = ['idle', 'iowait', 'irq', 'nice', 'softirq', 'steal', 'system', 'user'];
const netDevs = ['eth0', 'eth1', 'lo', 'docker0'];
const disks = ['nvme0n1', 'nvme1n1', 'sda', 'dm-0'];
const routes = [
  '/',
  '/login',
  '/logout',
  '/api/v1/users',
  '/api/v1/users/:id',
  '/api/v1/orders',
  '/api/v1/orders/:id',
  '/api/v1/invoices',
  '/api/v1/search',
  '/healthz',
  '/static/*',
  '/ws',
];
const mounts: Labels[] = [
  { device: '/dev/nvme0n1p1', fstype: 'ext4', mountpoint: '/' },
  { device: '/dev/nvme0n1p2', fstype: 'vfat', mountpoint: '/boot/efi' },
  { device: '/dev/nvme1n1', fstype: 'xfs', mountpoint: '/var/lib/data' },
  { device: 'tmpfs', fstype: 'tmpfs', mountpoint: '/run' },
  { device: 'tmpfs', fstype: 'tmpfs', mountpoint: '/dev/shm' },
  { device: '/dev/mapper/vg0-logs', fstype: 'ext4', mountpoint: '/var/log' },
];

export function buildFamilies(): Family[] {
  const one = [{}];
  const fams: Family[] = [];
  const gc: Line[] = [0, 0.25, 0.5, 0.75, 1].map((q) => ({
    prefix: seriesText('go_gc_duration_seconds', { quantile: String(q) }),
    kind: 'gauge',
    a: 1e-4 * (1 + q * 10),
    b: 0,
    f: 0,
  }));
  gc.push({ prefix: 'go_gc_duration_seconds_sum ', kind: 'counter', a: 3.2, b: 0.002, f: 0 });
  gc.push({ prefix: 'go_gc_duration_seconds_count ', kind: 'icounter', a: 9000, b: 3, f: 0 });
  fams.push(
    family(
      'go_gc_duration_seconds',
      'summary',
      'A summary of the pause duration of garbage collection cycles.',
      gc,
    ),
  );
  fams.push(
    simple('go_goroutines', 'gauge', 'igauge', 'Number of goroutines that currently exist.', one, 80),
  );
  fams.push(simple('go_threads', 'gauge', 'igauge', 'Number of OS threads created.', one, 20));
  fams.push(
    simple(
      'go_memstats_alloc_bytes',
      'gauge',
      'igauge',
      'Number of bytes allocated and still in use.',
      one,
      3e7,
    ),
  );
  fams.push(
    simple(
      'go_memstats_heap_inuse_bytes',
      'gauge',
      'igauge',
      'Number of heap bytes that are in use.',
      one,
      4e7,
    ),
  );
  fams.push(
    simple(
      'process_cpu_seconds_total',
      'counter',
      'counter',
      'Total user and system CPU time spent in seconds.',
      one,
      5e3,
    ),
  );
  fams.push(
    simple('process_resident_memory_bytes', 'gauge', 'igauge', 'Resident memory size in bytes.', one, 6e7),
  );
  fams.push(simple('process_open_fds', 'gauge', 'igauge', 'Number of open file descriptors.', one, 40));
  fams.push(
    simple(
      'process_start_time_seconds',
      'gauge',
      'const',
      'Start time of the process since unix epoch in seconds.',
      one,
      1.7e9,
    ),
  );
  fams.push(
    simple(
      'node_cpu_seconds_total',
      'counter',
      'counter',
      'Seconds the CPUs spent in each mode.',
      combos({ cpu: cpus, mode: modes }),
      1e5,
    ),
  );
  for (const m of ['1', '5', '15'])
    fams.push(simple(`node_load${m}`, 'gauge', 'gauge', `${m}m load average.`, one, 4));
  for (const m of [
    'MemTotal',
    'MemFree',
    'MemAvailable',
    'Buffers',
    'Cached',
    'Active',
    'Inactive',
    'SwapTotal',
    'SwapFree',
    'Dirty',
  ])
    fams.push(
      simple(
        `node_memory_${m}_bytes`,
        'gauge',
        m.endsWith('Total') ? 'const' : 'igauge',
        `Memory information field ${m}_bytes.`,
        one,
        3.2e10,
      ),
    );
  for (const m of ['avail_bytes', 'free_bytes', 'size_bytes', 'files', 'files_free', 'readonly'])
    fams.push(
      simple(
        `node_filesystem_${m}`,
        'gauge',
        m === 'readonly' ? 'const' : 'igauge',
        `Filesystem ${m.replace('_', ' ')}.`,
        mounts,
        m === 'readonly' ? 0 : 5e11,
      ),
    );
  for (const dir of ['receive', 'transmit'])
    for (const what of ['bytes', 'packets', 'errs', 'drop'])
      fams.push(
        simple(
          `node_network_${dir}_${what}_total`,
          'counter',
          'icounter',
          `Network device statistic ${dir}_${what}.`,
          combos({ device: netDevs }),
          what === 'bytes' ? 1e12 : 1e9,
        ),
      );
  for (const m of ['reads_completed', 'writes_completed', 'read_bytes', 'written_bytes', 'io_time_seconds'])
    fams.push(
      simple(
        `node_disk_${m}_total`,
        'counter',
        m.endsWith('seconds') ? 'counter' : 'icounter',
        `Disk statistic ${m}.`,
        combos({ device: disks }),
        1e10,
      ),
    );
  fams.push(
    simple(
      'node_softnet_processed_total',
      'counter',
      'icounter',
      'Number of processed packets.',
      combos({ cpu: cpus }),
      1e9,
    ),
  );
  fams.push(
    simple(
      'node_softnet_dropped_total',
      'counter',
      'icounter',
      'Number of dropped packets.',
      combos({ cpu: cpus }),
      1e3,
    ),
  );
  fams.push(
    simple(
      'http_requests_total',
      'counter',
      'icounter',
      'HTTP requests handled, by method, route and status.',
      combos({ method: ['GET', 'POST', 'PUT', 'DELETE'], route: routes, status: ['200', '404', '500'] }),
      1e6,
    ),
  );
  fams.push(
    histogram(
      'http_request_duration_seconds',
      'HTTP request latency.',
      combos({ method: ['GET', 'POST'], route: routes }),
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      30,
    ),
  );
  fams.push(
    histogram(
      'db_query_duration_seconds',
      'Database query latency.',
      combos({ operation: ['select', 'insert', 'update', 'delete'] }),
      [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      100,
    ),
  );
  fams.push(
    simple(
      'app_queue_depth',
      'gauge',
      'igauge',
      'Jobs waiting per queue.',
      combos({ queue: cpus.map((c) => `q${c}`) }),
      500,
    ),
  );
  fams.push(
    simple(
      'app_jobs_processed_total',
      'counter',
      'icounter',
      'Jobs processed per queue and result.',
      combos({ queue: cpus.map((c) => `q${c}`), result: ['ok', 'error'] }),
      1e6,
    ),
  );
  return fams;
}
