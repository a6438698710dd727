import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Clock } from '../../clock.js';
import { seriesLabels } from '../../collector/exposition/lexer.js';
import type { SampleWindow } from '../../collector/sample-window.js';
import type { TargetStatus } from '../../collector/scrape/target-status.js';
import type { Component } from '../../lifecycle.js';
import type { AlarmStore, StoredAlarm } from './alarm-store.js';
import { evaluateAlerts, type AlertInstance, type Transition } from './alert-state.js';
import type { CompiledCodeRule } from './compile.js';
import { ruleResults, type CounterSeries } from './rule-eval.js';

export interface EvaluatorDeps {
  store: AlarmStore;
  window: SampleWindow;
  statuses: () => Iterable<TargetStatus>;
  /** The current rules and their annotations (they change when the catalog reloads). */
  rules: () => ReadonlyArray<CompiledCodeRule & { annotations: Record<string, string> }>;
  intervalMs: number;
  metric?: string;
  clock: Clock;
  logger: Logger;
  registry: Registry;
  /** Called after each cycle's changes are stored, e.g. to notify. */
  onChanges?: (changes: ReadonlyArray<{ alarm: StoredAlarm; transition: Transition }>) => void;
}

type Live = AlertInstance & {
  id: string | undefined;
  annotations: Record<string, string>;
  ackedAt: Date | null;
  ackedBy: string | null;
};

/**
 * Evaluates the error-code rules on the collector's samples every interval, like Prometheus's rule
 * manager, and keeps the alert states in the database: loaded at start, saved after every cycle that
 * changed them, so a restart neither loses a firing alarm nor announces it again.
 */
export class AlarmEvaluator implements Component {
  readonly name = 'alarm-evaluator';
  private readonly state = new Map<string, Map<string, Live>>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly cycles: Counter;
  private readonly duration: Histogram;

  constructor(private readonly deps: EvaluatorDeps) {
    const registers = [deps.registry];
    this.cycles = new Counter({
      name: 'overseer_alarm_evaluations_total',
      help: 'Evaluation cycles, by result.',
      labelNames: ['result'],
      registers,
    });
    this.duration = new Histogram({
      name: 'overseer_alarm_evaluation_duration_seconds',
      help: 'Time one evaluation cycle of every error-code rule takes.',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.2, 0.5, 1, 2],
      registers,
    });
    const state = this.state;
    new Gauge({
      name: 'overseer_alarms',
      help: 'Alert instances of the built-in evaluator by state.',
      labelNames: ['state'],
      registers,
      collect() {
        const n: Record<string, number> = { pending: 0, firing: 0, resolved: 0 };
        for (const m of state.values()) for (const a of m.values()) n[a.state]!++;
        for (const [state, v] of Object.entries(n)) this.set({ state }, v);
      },
    });
  }

  async start(): Promise<void> {
    for (const a of await this.deps.store.loadActive()) {
      let m = this.state.get(a.alertname);
      if (m === undefined) this.state.set(a.alertname, (m = new Map<string, Live>()));
      m.set(a.fingerprint, { ...a });
    }
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Every alert instance with its state, for the API. */
  alarms(): Array<Live & { alertname: string; fingerprint: string }> {
    const out: Array<Live & { alertname: string; fingerprint: string }> = [];
    for (const [alertname, m] of this.state)
      for (const [fingerprint, a] of m) out.push({ ...a, alertname, fingerprint });
    return out;
  }

  /** Marks an alarm acknowledged (until it resolves); false when there is no such active alarm. */
  async ack(id: string, by: string): Promise<boolean> {
    const now = new Date(this.deps.clock.nowMs());
    if (!(await this.deps.store.ack(id, by, now))) return false;
    for (const m of this.state.values()) {
      for (const a of m.values()) {
        if (a.id === id) {
          a.ackedAt = now;
          a.ackedBy = by;
        }
      }
    }
    return true;
  }

  private schedule(): void {
    if (this.stopped) return;
    const now = this.deps.clock.nowMs();
    // Aligned to the interval, as Prometheus aligns rule groups.
    const delay = this.deps.intervalMs - (now % this.deps.intervalMs);
    this.timer = setTimeout(() => {
      this.running = this.evaluateOnce(this.deps.clock.nowMs())
        .catch((err: unknown) => {
          this.cycles.inc({ result: 'failure' });
          this.deps.logger.error({ err }, 'alarm evaluation failed; retrying next interval');
        })
        .finally(() => {
          this.running = undefined;
          this.schedule();
        });
    }, delay);
    this.timer.unref();
  }

  /** The counter's series of every target, by code, with target labels (job, instance) added. */
  private collectSeries(now: number, rangeMs: number): Map<string, CounterSeries[]> {
    const byCode = new Map<string, CounterSeries[]>();
    const metric = this.deps.metric ?? 'errors_total';
    for (const s of this.deps.statuses()) {
      if (s.goneSince !== undefined) continue;
      for (const row of this.deps.window.rows(s.target.id, metric)) {
        const labels: Record<string, string> = {};
        const pairs = seriesLabels(row.series);
        for (let i = 0; i < pairs.length; i += 2) labels[pairs[i]!] = pairs[i + 1]!;
        // Target labels win, as with honor_labels: false (the exporter's job would be exported_job).
        Object.assign(labels, { job: s.target.labels.job, instance: s.target.labels.instance });
        const code = labels.code;
        if (code === undefined) continue;
        const points = this.deps.window
          .points(s.target.id, row.series, now - rangeMs)
          .filter((p) => p.t <= now);
        let list = byCode.get(code);
        if (list === undefined) byCode.set(code, (list = []));
        list.push({ labels, points });
      }
    }
    return byCode;
  }

  async evaluateOnce(now: number): Promise<void> {
    const t0 = performance.now();
    const rules = this.deps.rules();
    const range = Math.max(0, ...rules.map((r) => r.rangeMs));
    const series = this.collectSeries(now, range);
    const changed: Array<{
      alertname: string;
      fingerprint: string;
      live: Live;
      transition: Transition | undefined;
      clearAck: boolean;
    }> = [];
    const gone: Array<{ alertname: string; fingerprint: string }> = [];
    for (const rule of rules) {
      let m = this.state.get(rule.alert);
      if (m === undefined) this.state.set(rule.alert, (m = new Map<string, Live>()));
      const before = new Map([...m].map(([k, a]) => [k, { state: a.state, keep: a.keepFiringSince }]));
      const transitions = evaluateAlerts(
        m,
        ruleResults(rule, series.get(rule.code) ?? [], now),
        now,
        rule.timing,
      );
      const byKey = new Map(transitions.map((t) => [t.key, t]));
      for (const [key, a] of m) {
        const live = a;
        live.annotations ??= rule.annotations;
        live.ackedAt ??= null;
        live.ackedBy ??= null;
        const prev = before.get(key);
        const t = byKey.get(key);
        if (t !== undefined || prev === undefined || prev.keep !== live.keepFiringSince) {
          changed.push({
            alertname: rule.alert,
            fingerprint: key,
            live,
            transition: t,
            clearAck: t?.to === 'pending',
          });
          if (t?.to === 'pending') {
            live.ackedAt = null;
            live.ackedBy = null;
          }
        }
      }
      for (const key of before.keys())
        if (!m.has(key)) gone.push({ alertname: rule.alert, fingerprint: key });
    }
    const ids = await this.deps.store.save(
      changed.map((c) => ({
        ...c.live,
        alertname: c.alertname,
        fingerprint: c.fingerprint,
        clearAck: c.clearAck,
      })),
      gone,
    );
    for (const c of changed) c.live.id = ids.get(`${c.alertname}\u0000${c.fingerprint}`) ?? c.live.id;
    this.duration.observe((performance.now() - t0) / 1000);
    this.cycles.inc({ result: 'success' });
    const notes = changed
      .filter((c) => c.transition !== undefined)
      .map((c) => ({
        alarm: { ...c.live, id: c.live.id ?? '', alertname: c.alertname, fingerprint: c.fingerprint },
        transition: c.transition!,
      }));
    if (notes.length > 0) {
      for (const n of notes)
        this.deps.logger.info(
          { alert: n.alarm.alertname, labels: n.alarm.labels, to: n.transition.to },
          'alarm state changed',
        );
      this.deps.onChanges?.(notes);
    }
  }
}
