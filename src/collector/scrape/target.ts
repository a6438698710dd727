import { createHash } from 'node:crypto';

/** One endpoint to scrape, with the labels every series from it gets. */
export interface Target {
  /** Stable identity: the URL and the labels. */
  id: string;
  url: string;
  /** Includes `job`, `instance` and, when given, `host`; never a `__`-prefixed label. */
  labels: Record<string, string>;
  /** `static` or the file_sd file the target came from. */
  source: string;
}

export const DEFAULT_JOB = 'overseer';

/** A target group as Prometheus's file_sd writes it: `host:port` targets and their labels. */
export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

/**
 * A Target from a URL and labels, as Prometheus relabels: `instance` defaults to host:port, `job` to
 * "overseer", and labels starting with `__` are consumed (they only shape the URL).
 */
export function makeTarget(url: string, labels: Record<string, string>, source: string): Target {
  const u = new URL(url);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) if (!k.startsWith('__')) out[k] = v;
  // Empty counts as absent, as in Prometheus; the default port stays in the instance (URL.host drops it).
  if (!out.job) out.job = DEFAULT_JOB;
  if (!out.instance) out.instance = `${u.hostname}:${u.port || (u.protocol === 'https:' ? '443' : '80')}`;
  const sorted = Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const id = createHash('sha256')
    .update(JSON.stringify([u.toString(), sorted]))
    .digest('hex')
    .slice(0, 16);
  return { id, url: u.toString(), labels: sorted, source };
}

/** Targets of a file_sd group: `__scheme__` and `__metrics_path__` build the URL, as in Prometheus. */
export function targetsOfGroup(group: TargetGroup, source: string): Target[] {
  const scheme = group.labels.__scheme__ ?? 'http';
  const path = group.labels.__metrics_path__ ?? '/metrics';
  return group.targets.map((hostPort) =>
    makeTarget(`${scheme}://${hostPort}${path.startsWith('/') ? path : `/${path}`}`, group.labels, source),
  );
}

/** The host a target measures: its `host` label, else the instance without the port. */
export function hostOf(target: Target): string {
  return hostFromLabels(target.labels);
}

/** The host named by target labels (also of series read back from Prometheus). */
export function hostFromLabels(labels: Readonly<Record<string, string>>): string {
  const host = labels.host;
  if (host !== undefined && host !== '') return host;
  const instance = labels.instance ?? '';
  const m = /^\[(.*)\](?::\d+)?$/.exec(instance) ?? /^([^:]*)(?::\d+)?$/.exec(instance);
  return m?.[1] ?? instance;
}

/**
 * Scrape offset within the interval, from the target's identity: the same target always scrapes at the
 * same phase, and a fleet spreads evenly instead of all at once (Prometheus does the same).
 */
export function scrapeOffsetMs(target: Target, intervalMs: number, nowMs: number): number {
  const hash = Number.parseInt(target.id.slice(0, 12), 16);
  const phase = hash % intervalMs;
  const base = nowMs - (nowMs % intervalMs);
  let next = base + phase;
  if (next < nowMs) next += intervalMs;
  return next - nowMs;
}
