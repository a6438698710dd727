import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Clock } from '../../clock.js';
import type { SampleWindow } from '../../collector/sample-window.js';
import type { Target } from '../../collector/scrape/target.js';
import type { TargetStatus } from '../../collector/scrape/target-status.js';
import type { Component } from '../../lifecycle.js';
import type { AlarmStore, StoredAlarm } from './alarm-store.js';
import { evaluateAlerts, type AlertInstance, type RuleTiming, type Transition } from './alert-state.js';
import { CodeSums, type SummedTarget } from './code-sums.js';
import type { CompiledCodeRule } from './compile.js';
import { ruleResults } from './rule-eval.js';

export interface EvaluatorDeps {
  store: AlarmStore;
  window: SampleWindow;
  /** The scrape targets (only id, labels and whether discovery dropped them are read). */
  statuses: () => Iterable<Pick<TargetStatus, 'goneSince'> & { target: Pick<Target, 'id' | 'labels'> }>;
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

/** Rules that left the catalog: their alerts resolve at once. */
const RESOLVE_NOW: RuleTiming = { forMs: 0, keepFiringForMs: 0 };

interface Changed {
  alertname: string;
  fingerprint: string;
  live: Live;
  transition: Transition | undefined;
  clearAck: boolean;
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
  private readonly sums: CodeSums;
  private seriesRead = 0;

  constructor(private readonly deps: EvaluatorDeps) {
    this.sums = new CodeSums(deps.metric ?? 'errors_total');
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
    const read = () => this.seriesRead;
    new Gauge({
      name: 'overseer_alarm_series',
      help: 'Series of the error counter read by the last evaluation cycle.',
      registers,
      collect() {
        this.set(read());
      },
    });
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

  /** The targets whose counters are summed, with the job their series are summed under. */
  private *summedTargets(): Iterable<SummedTarget> {
    // Target labels win, as with honor_labels: false (an exporter's own job would be exported_job).
    for (const s of this.deps.statuses())
      if (s.goneSince === undefined) yield { id: s.target.id, job: s.target.labels.job ?? '' };
  }

  /** One rule's evaluation applied to its alert instances; what changed is appended to `changed`/`gone`. */
  private apply(
    alertname: string,
    results: ReturnType<typeof ruleResults>,
    now: number,
    timing: RuleTiming,
    annotations: Record<string, string> | undefined,
    changed: Changed[],
    gone: Array<{ alertname: string; fingerprint: string }>,
  ): void {
    let m = this.state.get(alertname);
    // Most rules, most cycles: nothing returned, nothing active — nothing to do.
    if (results.size === 0 && (m === undefined || m.size === 0)) return;
    if (m === undefined) this.state.set(alertname, (m = new Map<string, Live>()));
    const before = new Map([...m].map(([k, a]) => [k, { state: a.state, keep: a.keepFiringSince }]));
    const transitions = evaluateAlerts(m, results, now, timing);
    // The last transition of a key is what happened (with `for: 0` a returning alert goes resolved →
    // pending → firing in one evaluation); any step through pending starts a new episode without the ack.
    const byKey = new Map(transitions.map((t) => [t.key, t]));
    const restarted = new Set(transitions.filter((t) => t.to === 'pending').map((t) => t.key));
    for (const [key, live] of m) {
      live.annotations ??= annotations ?? {};
      live.ackedAt ??= null;
      live.ackedBy ??= null;
      const prev = before.get(key);
      const t = byKey.get(key);
      if (t !== undefined || prev === undefined || prev.keep !== live.keepFiringSince) {
        changed.push({ alertname, fingerprint: key, live, transition: t, clearAck: restarted.has(key) });
        if (restarted.has(key)) {
          live.ackedAt = null;
          live.ackedBy = null;
        }
      }
    }
    for (const key of before.keys()) if (!m.has(key)) gone.push({ alertname, fingerprint: key });
    if (m.size === 0) this.state.delete(alertname);
  }

  async evaluateOnce(now: number): Promise<void> {
    const t0 = performance.now();
    const rules = this.deps.rules();
    const byRange = new Map<number, Array<(typeof rules)[number]>>();
    for (const r of rules) {
      const list = byRange.get(r.rangeMs);
      if (list === undefined) byRange.set(r.rangeMs, [r]);
      else list.push(r);
    }
    // Without rules the counter is still read (overseer_alarm_series), over the range rules would use.
    if (byRange.size === 0) byRange.set(4 * this.deps.intervalMs, []);
    const changed: Changed[] = [];
    const gone: Array<{ alertname: string; fingerprint: string }> = [];
    let series = 0;
    for (const [rangeMs, list] of byRange) {
      this.sums.compute(this.deps.window, this.summedTargets(), now, rangeMs);
      series = Math.max(series, this.sums.series); // the same series, once per distinct range
      for (const rule of list) {
        this.apply(
          rule.alert,
          ruleResults(rule, this.sums.byJob(rule.code)),
          now,
          rule.timing,
          rule.annotations,
          changed,
          gone,
        );
      }
    }
    this.seriesRead = series;
    // A rule that left the catalog (code removed, or classed ignore) resolves its alerts, as a removed
    // Prometheus rule does, instead of leaving them firing forever.
    const current = new Set(rules.map((r) => r.alert));
    for (const alertname of this.state.keys()) {
      if (!current.has(alertname))
        this.apply(alertname, new Map(), now, RESOLVE_NOW, undefined, changed, gone);
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
