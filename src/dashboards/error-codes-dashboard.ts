import { INSTANCE, JOB, RATE_INTERVAL, m, rate, selector, sum } from './promql.js';
import type { DashboardSpec } from './spec.js';

/** The error-code alerts Overseer generates (ErrorCode<number>), as Prometheus's ALERTS series has them. */
const CODE_ALERTS = [m('alertname', '=~', 'ErrorCode[0-9]+')];

/**
 * Error codes across the fleet: how often each code is raised, which codes lead, and which of their alarms
 * fire. Built on the counter services export through `overseer/instrument`.
 */
export function errorCodesDashboard(metric = 'errors_total'): DashboardSpec {
  const errors = selector(metric, [JOB, INSTANCE]);
  return {
    uid: 'overseer-error-codes',
    title: 'Error codes',
    description: `Rate of ${metric} by code and job, the top codes, and firing error-code alarms.`,
    tags: ['overseer', 'generated', 'alarms'],
    variables: { job: 'multi', instance: 'multi' },
    rows: [
      {
        title: 'Errors',
        panels: [
          {
            kind: 'timeseries',
            title: 'Errors per second by code',
            description: 'Every code is defined once and raised at one place: a code names the failing line.',
            unit: 'ops',
            width: 16,
            queries: [{ expr: sum(rate(errors), ['code']), legend: '{{code}}' }],
          },
          {
            kind: 'bargauge',
            title: 'Top codes in the range',
            unit: 'short',
            width: 8,
            queries: [
              {
                expr: `topk(10, ${sum(`increase(${errors}[$__range])`, ['code'])})`,
                legend: '{{code}}',
                instant: true,
              },
            ],
          },
          {
            kind: 'timeseries',
            title: 'Errors per second by job',
            unit: 'ops',
            width: 12,
            queries: [{ expr: sum(rate(errors, RATE_INTERVAL), ['job']), legend: '{{job}}' }],
          },
          {
            kind: 'stat',
            title: 'Codes raised in the range',
            unit: 'short',
            width: 12,
            queries: [
              { expr: `count(${sum(`increase(${errors}[$__range])`, ['code'])} > 0)`, instant: true },
            ],
          },
        ],
      },
      {
        title: 'Alarms',
        panels: [
          {
            kind: 'table',
            title: 'Firing error-code alarms',
            description: 'From Prometheus evaluating the generated rules/error-codes.yml.',
            width: 16,
            queries: [
              {
                expr: selector('ALERTS', [...CODE_ALERTS, m('alertstate', '=', 'firing'), JOB]),
                instant: true,
              },
            ],
          },
          {
            kind: 'stat',
            title: 'Firing by class',
            unit: 'short',
            width: 8,
            queries: [
              {
                expr: sum(selector('ALERTS', [...CODE_ALERTS, m('alertstate', '=', 'firing'), JOB]), [
                  'class',
                ]),
                legend: '{{class}}',
                instant: true,
              },
            ],
          },
        ],
      },
    ],
  };
}
