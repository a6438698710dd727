import { stringify } from 'yaml';
import { promDuration } from './error-code-rules.js';
import { m, rate, selector, type Matcher } from './promql.js';

export interface NodeRuleOptions {
  /** Jobs that scrape node_exporter. Empty: no job matcher, so HostDown watches every target's `up`. */
  nodeJobs: string[];
}

export const NODE_RULES_GROUP = 'node.rules';
export const NODE_ALERTS_GROUP = 'node.alerts';

/** The range behind every `…:rate5m` name: fixed by the names dashboards and alerts select, not by config. */
export const RATE_WINDOW = '5m';

/**
 * Block devices worth a disk-busy series, as in the node-mixin: real disks and their mappers, not loop,
 * ram or zram devices, whose io time says nothing about a host's storage.
 */
export const DISK_DEVICES = '(/dev/)?(mmcblk.p.+|nvme.+|rbd.+|sd.+|vd.+|xvd.+|dm-.+|md.+|dasd.+)';

/** Record names in Prometheus's `level:metric:operation` convention, as the node-mixin spells them. */
export const NODE_RECORDS = {
  numCpu: 'instance:node_num_cpu:sum',
  cpuUtilisation: 'instance:node_cpu_utilisation:rate5m',
  load1PerCpu: 'instance:node_load1_per_cpu:ratio',
  memoryUtilisation: 'instance:node_memory_utilisation:ratio',
  networkReceive: 'instance:node_network_receive_bytes_excluding_lo:rate5m',
  networkTransmit: 'instance:node_network_transmit_bytes_excluding_lo:rate5m',
  diskIoTime: 'instance_device:node_disk_io_time_seconds:rate5m',
} as const;

export interface NodeAlert {
  severity: string;
  forMs: number;
  /** Utilisation ratio above which it fires; absent for HostDown. */
  threshold?: number;
}

/** A host that stops answering pages at once; a busy host is a ticket: it may be fine, it may need room. */
export const NODE_ALERTS = {
  HostDown: { severity: 'page', forMs: 2 * 60_000 },
  HostCpuHigh: { severity: 'ticket', forMs: 15 * 60_000, threshold: 0.9 },
  HostMemoryHigh: { severity: 'ticket', forMs: 15 * 60_000, threshold: 0.9 },
} as const satisfies Record<string, NodeAlert>;

/** RE2 metacharacters: a job `a.b` must select itself, not `axb`. */
export function escapeRegex(s: string): string {
  return s.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');
}

/**
 * `job=~"a\\.b|node"` for the node jobs (sorted and deduplicated so the file does not change with config
 * order); none for an empty list. Prometheus anchors the regex, so alternatives cannot match a prefix.
 */
export function nodeJobMatchers(nodeJobs: readonly string[]): Matcher[] {
  const jobs = [...new Set(nodeJobs)].sort();
  return jobs.length === 0 ? [] : [m('job', '=~', jobs.map(escapeRegex).join('|'))];
}

const percent = (ratio: number): string => `${Math.round(ratio * 100)}%`;
const duration = (ms: number): string =>
  ms % 60_000 === 0 ? `${ms / 60_000} minutes` : `${Math.ceil(ms / 1000)} seconds`;

export function nodeAlertAnnotations(alert: keyof typeof NODE_ALERTS): Record<string, string> {
  switch (alert) {
    case 'HostDown':
      return {
        summary: 'Host {{ $labels.instance }} is down',
        description: `{{ $labels.instance }} (job {{ $labels.job }}) has failed every scrape for more than ${duration(NODE_ALERTS.HostDown.forMs)}.`,
      };
    case 'HostCpuHigh': {
      const a = NODE_ALERTS.HostCpuHigh;
      return {
        summary: `CPU of host {{ $labels.instance }} is over ${percent(a.threshold)} busy`,
        description: `{{ $labels.instance }} has used {{ $value | humanizePercentage }} of its CPUs (not idle, iowait or steal) for more than ${duration(a.forMs)}.`,
      };
    }
    case 'HostMemoryHigh': {
      const a = NODE_ALERTS.HostMemoryHigh;
      return {
        summary: `Memory of host {{ $labels.instance }} is over ${percent(a.threshold)} used`,
        description: `{{ $labels.instance }} has had {{ $value | humanizePercentage }} of its memory in use (not available) for more than ${duration(a.forMs)}.`,
      };
    }
  }
}

function recordingRules(job: Matcher[]): Array<{ record: string; expr: string }> {
  const cpu = (mode: Matcher): string => selector('node_cpu_seconds_total', [...job, mode]);
  const net = (dir: 'receive' | 'transmit'): string =>
    `sum without (device) (${rate(selector(`node_network_${dir}_bytes_total`, [...job, m('device', '!=', 'lo')]), RATE_WINDOW)})`;
  return [
    { record: NODE_RECORDS.numCpu, expr: `count without (cpu, mode) (${cpu(m('mode', '=', 'idle'))})` },
    {
      // iowait and steal are time the CPU could have run something: not busy, as in the node-mixin.
      record: NODE_RECORDS.cpuUtilisation,
      expr: `1 - avg without (cpu) (sum without (mode) (${rate(cpu(m('mode', '=~', 'idle|iowait|steal')), RATE_WINDOW)}))`,
    },
    {
      // Reads the CPU count recorded just above: rules of a group run in order within one evaluation.
      record: NODE_RECORDS.load1PerCpu,
      expr: `${selector('node_load1', job)} / ${selector(NODE_RECORDS.numCpu, job)}`,
    },
    {
      record: NODE_RECORDS.memoryUtilisation,
      expr: `1 - (${selector('node_memory_MemAvailable_bytes', job)} / ${selector('node_memory_MemTotal_bytes', job)})`,
    },
    { record: NODE_RECORDS.networkReceive, expr: net('receive') },
    { record: NODE_RECORDS.networkTransmit, expr: net('transmit') },
    {
      record: NODE_RECORDS.diskIoTime,
      expr: rate(
        selector('node_disk_io_time_seconds_total', [...job, m('device', '=~', DISK_DEVICES)]),
        RATE_WINDOW,
      ),
    },
  ];
}

function alertingRules(job: Matcher[]): Array<Record<string, unknown>> {
  const rule = (alert: keyof typeof NODE_ALERTS, expr: string): Record<string, unknown> => ({
    alert,
    expr,
    for: promDuration(NODE_ALERTS[alert].forMs),
    labels: { severity: NODE_ALERTS[alert].severity },
    annotations: nodeAlertAnnotations(alert),
  });
  return [
    rule('HostDown', `${selector('up', job)} == 0`),
    // The recorded series exist only for node jobs, so these need no job matcher of their own.
    rule('HostCpuHigh', `${NODE_RECORDS.cpuUtilisation} > ${NODE_ALERTS.HostCpuHigh.threshold}`),
    rule('HostMemoryHigh', `${NODE_RECORDS.memoryUtilisation} > ${NODE_ALERTS.HostMemoryHigh.threshold}`),
  ];
}

/**
 * `rules/node.yml`: node_exporter recording rules (the node-mixin's names, so its dashboards and ours read
 * the same series) and the host alerts. Pure: the same jobs give the same bytes.
 */
export function nodeRules(opts: NodeRuleOptions): string {
  const job = nodeJobMatchers(opts.nodeJobs);
  const groups = [
    { name: NODE_RULES_GROUP, rules: recordingRules(job) },
    { name: NODE_ALERTS_GROUP, rules: alertingRules(job) },
  ];
  return `# Generated by overseer generate for the node_exporter jobs. Do not edit.\n${stringify({ groups }, { lineWidth: 0 })}`;
}
