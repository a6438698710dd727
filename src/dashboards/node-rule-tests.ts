import { stringify } from 'yaml';
import { promDuration } from './error-code-rules.js';
import { NODE_ALERTS, NODE_RECORDS, nodeAlertAnnotations, type NodeRuleOptions } from './node-rules.js';
import { quote } from './promql.js';

/** One scrape a minute: counters below climb by whole multiples of 1/16 s per second, so rates are exact. */
const INTERVAL_MS = 60_000;
/** Past every `for` (15m) plus the 5m rate window, and the point where the expression tests look. */
const POINTS = 30;
const LATE = promDuration(20 * 60_000);
const EARLY = promDuration(10 * 60_000);

type Labels = Record<string, string>;

const series = (name: string, labels: Labels): string =>
  `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}=${quote(v)}`)
    .join(',')}}`;

/** A counter rising by `perMinute` every scrape, or a gauge held at `value`. */
const rising = (perMinute: number): string => `0+${perMinute}x${POINTS}`;
const flat = (value: number): string => `${value}x${POINTS}`;

/** What promtool expects after it expands the annotation templates for one alert. */
function expanded(alert: keyof typeof NODE_ALERTS, labels: Labels, value: string): Labels {
  return Object.fromEntries(
    Object.entries(nodeAlertAnnotations(alert)).map(([k, t]) => [
      k,
      t
        .replaceAll('{{ $labels.instance }}', labels.instance ?? '')
        .replaceAll('{{ $labels.job }}', labels.job ?? '')
        .replaceAll('{{ $value | humanizePercentage }}', value),
    ]),
  );
}

/** Seconds per minute each CPU spends in each mode; each host's CPUs add up to 60. */
function cpuSeries(job: string, instance: string, perMode: Record<string, number>) {
  return ['0', '1'].flatMap((cpu) =>
    Object.entries(perMode).map(([mode, perMinute]) => ({
      series: series('node_cpu_seconds_total', { job, instance, cpu, mode }),
      values: perMinute === 0 ? flat(0) : rising(perMinute),
    })),
  );
}

/**
 * A job that must not count as a node job: the first job with its regex metacharacters replaced (`a.b` →
 * `axb`, catching a missing escape) or with a suffix (`node` → `nodex`, catching a missing anchor).
 */
function lookalike(jobs: readonly string[]): string | undefined {
  const first = jobs[0];
  if (first === undefined) return undefined;
  const swapped = first.replace(/[\\^$.|?*+()[\]{}]/g, 'x');
  const candidate = swapped !== first ? swapped : `${first}x`;
  return jobs.includes(candidate) ? undefined : candidate;
}

function hostDownTest(job: string, other: string | undefined) {
  const down = { job, instance: 'down:9100' };
  const a = NODE_ALERTS.HostDown;
  return {
    name: 'HostDown fires once a host has failed scrapes for longer than `for`, not for hosts that answer',
    interval: promDuration(INTERVAL_MS),
    input_series: [
      // Up for two scrapes, then down for good.
      { series: series('up', down), values: `1 1 0x${POINTS}` },
      { series: series('up', { job, instance: 'up:9100' }), values: flat(1) },
      ...(other === undefined
        ? []
        : [{ series: series('up', { job: other, instance: 'app:8080' }), values: flat(0) }]),
    ],
    alert_rule_test: [
      // Down for a minute only: pending, which promtool does not list.
      { eval_time: promDuration(2 * 60_000 + a.forMs / 2), alertname: 'HostDown', exp_alerts: [] },
      {
        eval_time: promDuration(2 * 60_000 + a.forMs + INTERVAL_MS),
        alertname: 'HostDown',
        exp_alerts: [
          { exp_labels: { severity: a.severity, ...down }, exp_annotations: expanded('HostDown', down, '') },
        ],
      },
    ],
  };
}

function cpuTest(job: string) {
  const busy = { job, instance: 'busy:9100' };
  const calm = { job, instance: 'calm:9100' };
  const a = NODE_ALERTS.HostCpuHigh;
  return {
    name: 'HostCpuHigh fires on a busy host, not on one that waits on its disk (iowait is not busy)',
    interval: promDuration(INTERVAL_MS),
    input_series: [
      // 1/16 idle: 15/16 = 93.75% busy.
      ...cpuSeries(job, busy.instance, { idle: 3.75, iowait: 0, steal: 0, user: 52.5, system: 3.75 }),
      // Idle half the time and in iowait 3/8: 1/8 = 12.5% busy.
      ...cpuSeries(job, calm.instance, { idle: 30, iowait: 22.5, steal: 0, user: 7.5, system: 0 }),
    ],
    alert_rule_test: [
      { eval_time: EARLY, alertname: 'HostCpuHigh', exp_alerts: [] },
      {
        eval_time: LATE,
        alertname: 'HostCpuHigh',
        exp_alerts: [
          {
            exp_labels: { severity: a.severity, ...busy },
            exp_annotations: expanded('HostCpuHigh', busy, '93.75%'),
          },
        ],
      },
    ],
    promql_expr_test: [
      {
        expr: NODE_RECORDS.cpuUtilisation,
        eval_time: EARLY,
        exp_samples: [
          { labels: series(NODE_RECORDS.cpuUtilisation, busy), value: 0.9375 },
          { labels: series(NODE_RECORDS.cpuUtilisation, calm), value: 0.125 },
        ],
      },
      {
        expr: NODE_RECORDS.numCpu,
        eval_time: EARLY,
        exp_samples: [
          { labels: series(NODE_RECORDS.numCpu, busy), value: 2 },
          { labels: series(NODE_RECORDS.numCpu, calm), value: 2 },
        ],
      },
    ],
  };
}

const GIB = 2 ** 30;

function memoryTest(job: string) {
  const full = { job, instance: 'full:9100' };
  const roomy = { job, instance: 'roomy:9100' };
  const a = NODE_ALERTS.HostMemoryHigh;
  const host = (labels: Labels, availableGib: number) => [
    { series: series('node_memory_MemTotal_bytes', labels), values: flat(16 * GIB) },
    { series: series('node_memory_MemAvailable_bytes', labels), values: flat(availableGib * GIB) },
  ];
  return {
    name: 'HostMemoryHigh fires when little memory is available, not when half is',
    interval: promDuration(INTERVAL_MS),
    input_series: [...host(full, 1), ...host(roomy, 8)],
    alert_rule_test: [
      { eval_time: EARLY, alertname: 'HostMemoryHigh', exp_alerts: [] },
      {
        eval_time: LATE,
        alertname: 'HostMemoryHigh',
        exp_alerts: [
          {
            exp_labels: { severity: a.severity, ...full },
            exp_annotations: expanded('HostMemoryHigh', full, '93.75%'),
          },
        ],
      },
    ],
    promql_expr_test: [
      {
        expr: NODE_RECORDS.memoryUtilisation,
        eval_time: EARLY,
        exp_samples: [
          { labels: series(NODE_RECORDS.memoryUtilisation, full), value: 0.9375 },
          { labels: series(NODE_RECORDS.memoryUtilisation, roomy), value: 0.5 },
        ],
      },
    ],
  };
}

function loadNetworkDiskTest(job: string) {
  const h = { job, instance: 'host:9100' };
  const dev = (name: string, device: string, perMinute: number) => ({
    series: series(name, { ...h, device }),
    values: rising(perMinute),
  });
  return {
    name: 'load per CPU, network without loopback and disk busy time of real disks are recorded',
    interval: promDuration(INTERVAL_MS),
    input_series: [
      ...cpuSeries(job, h.instance, { idle: 60 }),
      { series: series('node_load1', h), values: flat(3) },
      dev('node_network_receive_bytes_total', 'eth0', 60 * 1024),
      dev('node_network_receive_bytes_total', 'lo', 60 * 1e6),
      dev('node_network_transmit_bytes_total', 'eth0', 60 * 512),
      dev('node_network_transmit_bytes_total', 'lo', 60 * 1e6),
      dev('node_disk_io_time_seconds_total', 'vda', 30),
      dev('node_disk_io_time_seconds_total', 'zram0', 60),
    ],
    promql_expr_test: (
      [
        // Load 3 on 2 CPUs; 1 KiB/s and 512 B/s on eth0; vda busy half the time, zram0 not a disk.
        [NODE_RECORDS.load1PerCpu, h, 1.5],
        [NODE_RECORDS.networkReceive, h, 1024],
        [NODE_RECORDS.networkTransmit, h, 512],
        [NODE_RECORDS.diskIoTime, { ...h, device: 'vda' }, 0.5],
      ] satisfies Array<[string, Labels, number]>
    ).map(([record, labels, value]) => ({
      expr: record,
      eval_time: EARLY,
      exp_samples: [{ labels: series(record, labels), value }],
    })),
  };
}

/**
 * `rules/node.test.yml`: promtool unit tests for nodeRules — each alert fires on a bad host and stays
 * silent on a healthy one, and the recording rules compute the values the dashboards show. Pass the same
 * options as to nodeRules: the input series carry one of its node jobs.
 */
export function nodeRuleTests(rulesFileName: string, opts: NodeRuleOptions = { nodeJobs: [] }): string {
  const jobs = [...new Set(opts.nodeJobs)].sort();
  const job = jobs[0] ?? 'node';
  const tests = [hostDownTest(job, lookalike(jobs)), cpuTest(job), memoryTest(job), loadNetworkDiskTest(job)];
  return `# Generated by overseer generate. Run: promtool test rules ${rulesFileName.replace(/\.yml$/, '.test.yml')}\n${stringify(
    { rule_files: [rulesFileName], evaluation_interval: promDuration(INTERVAL_MS), tests },
    { lineWidth: 0 },
  )}`;
}
