import { INSTANCE, JOB, rate, selector, sum } from './promql.js';
import type { DashboardSpec, PanelSpec, RowSpec } from './spec.js';

const own = (name: string): string => selector(name, [JOB, INSTANCE]);
const perSecond = (name: string, labels: string[] = []): string => sum(rate(own(name)), labels);
const quantiles = (histogram: string, labels: string[] = []): PanelSpec['queries'] =>
  [0.5, 0.9, 0.99].map((q) => ({
    expr: `histogram_quantile(${q}, ${sum(rate(own(`${histogram}_bucket`)), ['le', ...labels])})`,
    legend: labels.length > 0 ? `p${q * 100} ${labels.map((l) => `{{${l}}}`).join(' ')}` : `p${q * 100}`,
  }));

function ts(title: string, unit: string, queries: PanelSpec['queries'], description?: string): PanelSpec {
  return { kind: 'timeseries', title, unit, queries, ...(description ? { description } : {}) };
}

const scrapes: RowSpec = {
  title: 'Scrapes',
  panels: [
    ts('Scrapes per second by result', 'ops', [
      { expr: perSecond('overseer_scrapes_total', ['result']), legend: '{{result}}' },
    ]),
    ts('Scrape failures per second by reason', 'ops', [
      { expr: perSecond('overseer_scrape_failures_total', ['reason']), legend: '{{reason}}' },
    ]),
    ts('Scrape duration', 's', quantiles('overseer_scrape_duration_seconds')),
    ts('Targets by state', 'short', [
      { expr: sum(own('overseer_scrape_targets'), ['state']), legend: '{{state}}' },
    ]),
    ts(
      'Scrape slots: queue and rejections',
      'short',
      [
        { expr: sum(own('overseer_scrape_queue_depth')), legend: 'waiting' },
        { expr: sum(own('overseer_scrape_queue_rejected')), legend: 'rejected since start' },
        { expr: perSecond('overseer_scrapes_skipped_total'), legend: 'skipped ticks/s' },
      ],
      'Scrapes wait for a slot (maxConcurrentScrapes); a full queue rejects (error 100906).',
    ),
    ts('Sample window', 'short', [
      { expr: sum(own('overseer_window_series')), legend: 'series' },
      { expr: sum(own('overseer_window_series_dropped')), legend: 'dropped since start (maxSeries)' },
    ]),
  ],
};

const alarms: RowSpec = {
  title: 'Alarms',
  panels: [
    ts('Evaluation cycle duration', 's', quantiles('overseer_alarm_evaluation_duration_seconds')),
    ts('Alarms by state', 'short', [{ expr: sum(own('overseer_alarms'), ['state']), legend: '{{state}}' }]),
    ts('Notifications per second', 'ops', [
      { expr: perSecond('overseer_notifications_sent_total', ['notifier']), legend: 'sent {{notifier}}' },
      {
        expr: perSecond('overseer_notification_failures_total', ['notifier']),
        legend: 'failed {{notifier}}',
      },
      {
        expr: perSecond('overseer_notifications_dropped_total', ['notifier']),
        legend: 'dropped {{notifier}}',
      },
    ]),
    ts('Notification queues', 'short', [
      { expr: sum(own('overseer_notification_queue_depth'), ['notifier']), legend: 'waiting {{notifier}}' },
      { expr: sum(own('overseer_notifier_failing'), ['notifier']), legend: 'failing {{notifier}}' },
    ]),
    ts('Error counter series read per cycle', 'short', [{ expr: sum(own('overseer_alarm_series')) }]),
    ts('Evaluation cycles per second by result', 'ops', [
      { expr: perSecond('overseer_alarm_evaluations_total', ['result']), legend: '{{result}}' },
    ]),
  ],
};

const billing: RowSpec = {
  title: 'Billing',
  panels: [
    ts('Billing records per second by result', 'ops', [
      { expr: perSecond('overseer_billing_records_total', ['result']), legend: '{{result}}' },
    ]),
    ts('Billing files per second by result', 'ops', [
      { expr: perSecond('overseer_billing_files_total', ['result']), legend: '{{result}}' },
    ]),
    ts('Billing job runs per second', 'ops', [
      { expr: perSecond('overseer_billing_job_runs_total', ['job', 'result']), legend: '{{job}} {{result}}' },
    ]),
    ts('Billing job duration (p90)', 's', [
      {
        expr: `histogram_quantile(0.9, ${sum(rate(own('overseer_billing_job_duration_seconds_bucket')), ['le', 'job'])})`,
        legend: '{{job}}',
      },
    ]),
    ts(
      'Billing leader',
      'short',
      [{ expr: own('overseer_billing_leader'), legend: '{{instance}}' }],
      'Exactly one replica should lead (1): it alone scans spools, closes hours and applies retention.',
    ),
    ts(
      'Usage page cache: lookups per second',
      'ops',
      [
        { expr: perSecond('overseer_billing_usage_cache_lookups_total', ['result']), legend: '{{result}}' },
        {
          expr: perSecond('overseer_billing_usage_cache_evictions_total', ['reason']),
          legend: 'evicted {{reason}}',
        },
        { expr: perSecond('overseer_billing_usage_cache_refused_total'), legend: 'refused' },
      ],
      '"off": billing_hourly change notifications are not heard, so every request reads the rows.',
    ),
    ts('Usage page cache: size', 'bytes', [
      { expr: own('overseer_billing_usage_cache_bytes'), legend: '{{instance}}' },
    ]),
    ts(
      'Usage page cache: listening',
      'short',
      [{ expr: own('overseer_billing_usage_cache_listening'), legend: '{{instance}}' }],
      '1 while billing_hourly change notifications are heard; 0: the cache is off and every request reads rows.',
    ),
  ],
};

const capacity: RowSpec = {
  title: 'Capacity',
  panels: [
    ts('Capacity cycles per second by result', 'ops', [
      { expr: perSecond('overseer_capacity_cycles_total', ['result']), legend: '{{result}}' },
    ]),
    ts('Capacity cycle and plan duration (p90)', 's', [
      {
        expr: `histogram_quantile(0.9, ${sum(rate(own('overseer_capacity_cycle_duration_seconds_bucket')), ['le'])})`,
        legend: 'cycle',
      },
      {
        expr: `histogram_quantile(0.9, ${sum(rate(own('overseer_capacity_plan_duration_seconds_bucket')), ['le'])})`,
        legend: 'planner',
      },
    ]),
    ts(
      'Moves per second by reason',
      'ops',
      [
        {
          expr: perSecond('overseer_capacity_moves_proposed_total', ['reason']),
          legend: 'proposed {{reason}}',
        },
        {
          expr: perSecond('overseer_capacity_moves_applied_total', ['reason']),
          legend: 'applied {{reason}}',
        },
      ],
      'Proposed moves are counted once per cycle; in plan mode none is applied unless an admin applies it.',
    ),
    ts('Hosts by state', 'short', [
      { expr: `max(${own('overseer_capacity_hosts')}) by (state)`, legend: '{{state}}' },
    ]),
    ts(
      'Routing table version and leader',
      'short',
      [
        { expr: `max(${own('overseer_capacity_routing_version')})`, legend: 'version' },
        { expr: own('overseer_capacity_leader'), legend: 'leader {{instance}}' },
      ],
      'The version only grows; exactly one replica should lead the capacity loop.',
    ),
  ],
};

const logs: RowSpec = {
  title: 'Log shipping',
  panels: [
    ts(
      'Bytes not yet in the object store',
      'bytes',
      [
        { expr: own('overseer_log_bytes_pending'), legend: 'pending {{instance}}' },
        { expr: own('overseer_log_backlog_limit_bytes'), legend: 'limit {{instance}}' },
      ],
      'From 80 % of the limit (logs.maxBacklogBytes) error 101710 is counted, above it 101711: the store has been unreachable too long; nothing is deleted.',
    ),
    ts('Oldest line not yet shipped', 's', [
      { expr: own('overseer_log_oldest_pending_seconds'), legend: '{{instance}}' },
    ]),
    ts('Uploaded bytes per second', 'Bps', [
      { expr: perSecond('overseer_log_uploaded_bytes_total'), legend: 'uploaded' },
    ]),
    ts('Upload failures and deferred files per second', 'ops', [
      { expr: perSecond('overseer_log_upload_failures_total'), legend: 'upload failures' },
      { expr: perSecond('overseer_log_ship_deferred_total', ['stage']), legend: 'deferred {{stage}}' },
    ]),
    ts('Log files by state', 'short', [
      { expr: sum(own('overseer_log_files'), ['state']), legend: '{{state}}' },
    ]),
  ],
};

const http: RowSpec = {
  title: 'HTTP API',
  panels: [
    ts('Requests per second by route and status', 'reqps', [
      {
        expr: perSecond('overseer_http_requests_total', ['route', 'status']),
        legend: '{{route}} {{status}}',
      },
    ]),
    ts('p90 latency by route', 's', [
      {
        expr: `histogram_quantile(0.9, ${sum(rate(own('overseer_http_request_duration_seconds_bucket')), ['le', 'route'])})`,
        legend: '{{route}}',
      },
    ]),
  ],
};

const process: RowSpec = {
  title: 'Process',
  panels: [
    ts('Resident memory', 'bytes', [
      { expr: own('process_resident_memory_bytes'), legend: '{{instance}}' },
      { expr: own('nodejs_heap_size_used_bytes'), legend: 'heap used {{instance}}' },
    ]),
    ts('CPU', 'percentunit', [{ expr: rate(own('process_cpu_seconds_total')), legend: '{{instance}}' }]),
    ts('Event loop lag p99', 's', [
      { expr: own('nodejs_eventloop_lag_p99_seconds'), legend: '{{instance}}' },
    ]),
    ts('Restarts in the last hour', 'short', [
      { expr: `changes(${own('process_start_time_seconds')}[1h])`, legend: '{{instance}}' },
    ]),
  ],
};

/**
 * Overseer watching itself: scrapes and window, alarm evaluation and delivery, billing jobs and usage cache,
 * the capacity loop, log shipping, API, process.
 */
export function overseerDashboard(): DashboardSpec {
  return {
    uid: 'overseer-self',
    title: 'Overseer',
    description:
      "Overseer's own metrics (GET /metrics): scrapes, sample window, alarms, notifications, billing, capacity, log shipping, API.",
    tags: ['overseer', 'generated', 'self'],
    variables: { job: 'multi', instance: 'multi' },
    rows: [scrapes, alarms, billing, capacity, logs, http, process],
  };
}
