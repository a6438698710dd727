import { createHash } from 'node:crypto';
import type { CatalogEntry } from '../collector/catalog.js';
import { groupCandidates, histogramQuantile, panelsForFamily, shapeOf, type Shape } from './family-panels.js';
import { INSTANCE, m, selector, sum, type Matcher } from './promql.js';
import type { DashboardSpec, PanelSpec, RowSpec } from './spec.js';
import { unitFor } from './units.js';

const UID_PREFIX = 'overseer-job-';
/** Grafana refuses a dashboard uid longer than 40 characters ("uid too long"). */
const UID_MAX = 40;
const HASH_CHARS = 8;
/** Labels that name an endpoint: a histogram with one of them gets an "endpoint timings" highlight. */
const ENDPOINT_LABELS = ['route', 'handler', 'endpoint', 'path'];
const ACTIVE_USERS = ['active_users', 'users_active', 'sessions_active', 'active_sessions'];
const START_TIME = 'process_start_time_seconds';

export interface JobDashboard {
  spec: DashboardSpec;
  warnings: string[];
}

/**
 * The job's part of a dashboard uid: the name itself when it already is lowercase [a-z0-9-] (single
 * dashes) and short enough, else a cleaned, shortened name plus a hash of the real one, so two jobs that
 * clean to the same text (`API`, `api`) still get different uids, and a job keeps its uid across runs.
 */
export function jobSlug(job: string): string {
  const room = UID_MAX - UID_PREFIX.length;
  const clean = job
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
  if (clean === job && clean !== '' && clean.length <= room) return clean;
  const hash = createHash('sha256').update(job).digest('hex').slice(0, HASH_CHARS);
  const head = clean.slice(0, room - HASH_CHARS - 1).replace(/-$/, '');
  return head === '' ? hash : `${head}-${hash}`;
}

export const jobUid = (job: string): string => `${UID_PREFIX}${jobSlug(job)}`;

/**
 * Selects the job by its literal name. Grafana expands `$name`, `${name}` and `[[name]]` anywhere in a
 * query before Prometheus sees it, PromQL quoting cannot hide them, so a job name with `$` or `[` is
 * matched by an escaped regex in which `$` sits in a character class, out of Grafana's reach.
 */
export function jobMatcher(job: string): Matcher {
  if (!/[$[]/.test(job)) return m('job', '=', job);
  return m(
    'job',
    '=~',
    job.replace(/[\\.+*?()|[\]{}^$]/g, (c) => (c === '$' ? '[$]' : `\\${c}`)),
  );
}

/** The row a family goes in: its name's first `_` token (`http`, `process`, `go`). */
const rowOf = (name: string): string => name.split('_')[0] || 'other';

const byName = (a: { name: string }, b: { name: string }): number =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

/** Scrape bookkeeping Prometheus adds to every target; the fleet dashboard covers it. */
const isScrapeMeta = (name: string): boolean => name === 'up' || name.startsWith('scrape_');

const helpOf = (e: CatalogEntry): Pick<PanelSpec, 'description'> =>
  e.help !== undefined && e.help !== '' ? { description: e.help } : {};

/**
 * What on-call looks at first, each only when the job has the metric: endpoint p90 by route (or handler,
 * endpoint, path), active users or sessions summed over instances, and process restarts per instance.
 * The families are also drawn in their own rows.
 */
function highlights(families: readonly CatalogEntry[], base: Matcher[]): PanelSpec[] {
  // shapeOf also refuses families no panel may use (clashing types, invalid names).
  const shaped = (s: Shape): CatalogEntry[] => families.filter((e) => shapeOf(e).shape === s);
  const timings = shaped('histogram').flatMap((e): PanelSpec[] => {
    const label = groupCandidates(e).labels.find((l) => ENDPOINT_LABELS.includes(l));
    if (label === undefined || !e.sampleNames.includes(`${e.name}_bucket`)) return [];
    const expr = histogramQuantile(0.9, selector(`${e.name}_bucket`, base), [label]);
    return [
      {
        kind: 'timeseries',
        title: `Endpoint timings: ${e.name} p90 by ${label}`,
        ...helpOf(e),
        unit: unitFor(e, 'value'),
        queries: [{ expr, legend: `{{${label}}}` }],
      },
    ];
  });
  const users = shaped('gauge')
    .filter((e) => ACTIVE_USERS.some((s) => e.name.includes(s)))
    .map((e): PanelSpec => ({
      kind: 'stat',
      title: `Active: ${e.name}`,
      ...helpOf(e),
      unit: 'short',
      queries: [{ expr: sum(selector(e.name, base)), legend: 'all instances' }],
    }));
  const restarts = shaped('gauge')
    .filter((e) => e.name === START_TIME)
    .map((): PanelSpec => ({
      kind: 'timeseries',
      title: 'Process restarts in the last hour',
      description: `Changes of ${START_TIME}: each is a process (re)start.`,
      unit: 'short',
      queries: [
        { expr: sum(`changes(${selector(START_TIME, base)}[1h])`, ['instance']), legend: '{{instance}}' },
      ],
    }));
  return [...timings, ...users, ...restarts];
}

/**
 * The dashboard of one job: every family it exposes (but `up` and `scrape_*`), in rows by name prefix,
 * after a "Highlights" row when it has any. Input order does not matter: rows and panels are sorted by
 * name, so the same catalog gives the same bytes.
 */
export function jobDashboard(job: string, families: readonly CatalogEntry[]): JobDashboard {
  const base = [jobMatcher(job), INSTANCE];
  const mine = families.filter((e) => e.jobs.includes(job) && !isScrapeMeta(e.name)).sort(byName);
  const warnings: string[] = [];
  const rows = new Map<string, PanelSpec[]>();
  for (const e of mine) {
    const drawn = panelsForFamily(e, base);
    warnings.push(...drawn.warnings);
    if (drawn.panels.length === 0) continue;
    const row = rowOf(e.name);
    rows.set(row, [...(rows.get(row) ?? []), ...drawn.panels]);
  }
  const top = highlights(mine, base);
  const out: RowSpec[] = [
    ...(top.length > 0 ? [{ title: 'Highlights', panels: top }] : []),
    ...[...rows.keys()].sort().map((title) => ({ title, panels: rows.get(title)! })),
  ];
  return {
    spec: {
      uid: jobUid(job),
      title: `Job: ${job}`,
      description: `Every metric family job ${job} exposes, generated from Overseer's metric catalog.`,
      tags: ['overseer', 'generated', 'job'],
      variables: { job: { fixed: job }, instance: 'multi' },
      rows: out,
    },
    warnings,
  };
}
