/** Where one alert instance (one label set of one rule) stands, as Prometheus tracks it. */
export type AlertState = 'pending' | 'firing' | 'resolved';

export interface AlertInstance {
  /** Labels of the instance: the expression's labels plus the rule's. */
  labels: Record<string, string>;
  state: AlertState;
  value: number;
  activeAt: number;
  firedAt: number | undefined;
  resolvedAt: number | undefined;
  /** When the expression stopped returning this instance while it was firing (keep_firing_for). */
  keepFiringSince: number | undefined;
}

export interface RuleTiming {
  forMs: number;
  keepFiringForMs: number;
}

export interface Transition {
  key: string;
  from: AlertState | undefined;
  to: AlertState;
}

/** Resolved alerts are remembered this long, so a quick return is the same alert (Prometheus: 15m). */
export const RESOLVED_RETENTION_MS = 15 * 60_000;

/**
 * One evaluation of one rule, with Prometheus's semantics: a new result is pending, firing once it has
 * been active `for`; a firing alert the expression no longer returns keeps firing for `keep_firing_for`,
 * then resolves; a pending one that disappears is dropped. Mutates `alerts`; returns what changed.
 */
export function evaluateAlerts(
  alerts: Map<string, AlertInstance>,
  results: ReadonlyMap<string, { labels: Record<string, string>; value: number }>,
  now: number,
  timing: RuleTiming,
): Transition[] {
  const changes: Transition[] = [];
  for (const [key, r] of results) {
    let a = alerts.get(key);
    if (a === undefined || a.state === 'resolved') {
      a = {
        labels: r.labels,
        state: 'pending',
        value: r.value,
        activeAt: now,
        firedAt: undefined,
        resolvedAt: undefined,
        keepFiringSince: undefined,
      };
      const from = alerts.get(key)?.state;
      alerts.set(key, a);
      changes.push({ key, from, to: 'pending' });
    }
    a.value = r.value;
    a.keepFiringSince = undefined;
    if (a.state === 'pending' && now - a.activeAt >= timing.forMs) {
      a.state = 'firing';
      a.firedAt = now;
      changes.push({ key, from: 'pending', to: 'firing' });
    }
  }
  for (const [key, a] of alerts) {
    if (results.has(key)) continue;
    if (a.state === 'firing' && timing.keepFiringForMs > 0) {
      a.keepFiringSince ??= now;
      if (now - a.keepFiringSince < timing.keepFiringForMs) continue;
    }
    if (a.state === 'pending') {
      alerts.delete(key);
      changes.push({ key, from: 'pending', to: 'resolved' });
    } else if (a.state === 'firing') {
      a.state = 'resolved';
      a.resolvedAt = now;
      changes.push({ key, from: 'firing', to: 'resolved' });
    } else if (a.resolvedAt !== undefined && now - a.resolvedAt > RESOLVED_RETENTION_MS) {
      alerts.delete(key);
    }
  }
  return changes;
}
