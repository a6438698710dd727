import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Clock } from '../../clock.js';
import type { Component } from '../../lifecycle.js';
import type { StoredAlarm } from '../evaluator/alarm-store.js';
import type { Transition } from '../evaluator/alert-state.js';
import type { Silences } from '../silences.js';
import { DeliveryQueue, type DeliveryOptions } from './delivery-queue.js';
import type { Notifier, OutAlert } from './types.js';

type Alarm = Omit<StoredAlarm, 'id'> & { id: string | undefined };

export interface DispatcherDeps {
  /** Alertmanager targets get every firing alert re-sent each resend interval; webhooks only repeat. */
  targets: ReadonlyArray<{ notifier: Notifier; kind: 'alertmanager' | 'webhook' }>;
  silences: Silences;
  alarms: () => Alarm[];
  resendIntervalMs: number;
  repeatIntervalMs: number;
  externalUrl: () => string;
  delivery: Omit<DeliveryOptions, 'now'>;
  registry: Registry;
  logger: Logger;
  clock: Clock;
  /** Counts a failed delivery's error code in errors_total. */
  countError?: (code: number) => void;
}

/**
 * The notify pipeline, Alertmanager's shape: transitions and periodic re-sends → silence (silenced alerts
 * are not sent) → acknowledgement (an acked alarm is not repeated to webhooks; its resolution still is)
 * → every target → that target's bounded retrying queue.
 */
export class NotificationDispatcher implements Component {
  readonly name = 'notifications';
  private readonly queues: Array<{ queue: DeliveryQueue; kind: 'alertmanager' | 'webhook' }>;
  private readonly lastSent = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: DispatcherDeps) {
    const registers = [deps.registry];
    const metrics = {
      sent: new Counter({
        name: 'overseer_notifications_sent_total',
        help: 'Alerts delivered, by notifier.',
        labelNames: ['notifier'],
        registers,
      }),
      failed: new Counter({
        name: 'overseer_notification_failures_total',
        help: 'Failed delivery attempts, by notifier.',
        labelNames: ['notifier'],
        registers,
      }),
      dropped: new Counter({
        name: 'overseer_notifications_dropped_total',
        help: 'Alerts dropped because the notifier queue was full, by notifier.',
        labelNames: ['notifier'],
        registers,
      }),
      depth: new Gauge({
        name: 'overseer_notification_queue_depth',
        help: 'Alerts waiting per notifier.',
        labelNames: ['notifier'],
        registers,
      }),
    };
    this.queues = deps.targets.map((t) => ({
      kind: t.kind,
      queue: new DeliveryQueue(
        t.notifier,
        { ...deps.delivery, now: () => deps.clock.nowMs() },
        metrics,
        deps.logger.child({ notifier: t.notifier.name }),
        deps.countError,
      ),
    }));
    const queues = this.queues;
    new Gauge({
      name: 'overseer_notifier_failing',
      help: '1 while delivery to the notifier keeps failing (the OverseerNotificationsFailing self-alarm).',
      labelNames: ['notifier'],
      registers,
      collect() {
        for (const q of queues) this.set({ notifier: q.queue.notifier.name }, q.queue.failing ? 1 : 0);
      },
    });
  }

  start(): Promise<void> {
    if (this.queues.length > 0) {
      this.timer = setInterval(() => this.resend(), this.deps.resendIntervalMs);
      this.timer.unref();
    }
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.queues.map((q) => q.queue.stop()));
  }

  /** Self-alarms: one firing alert per notifier whose delivery keeps failing. */
  selfAlarms(): Array<{ alertname: string; labels: Record<string, string>; error: string | undefined }> {
    return this.queues
      .filter((q) => q.queue.failing)
      .map((q) => ({
        alertname: 'OverseerNotificationsFailing',
        labels: { notifier: q.queue.notifier.name, severity: 'page' },
        error: q.queue.lastError,
      }));
  }

  queue(name: string): DeliveryQueue | undefined {
    return this.queues.find((q) => q.queue.notifier.name === name)?.queue;
  }

  /** Evaluator changes: a new firing alert or a resolution goes out at once. */
  onChanges(changes: ReadonlyArray<{ alarm: Alarm; transition: Transition }>): void {
    const out = changes
      .filter(
        (c) =>
          c.transition.to === 'firing' || (c.transition.to === 'resolved' && c.transition.from === 'firing'),
      )
      .map((c) => c.alarm);
    this.dispatch(out, 'change');
  }

  private resend(): void {
    this.dispatch(
      this.deps.alarms().filter((a) => a.state === 'firing'),
      'resend',
    );
  }

  private dispatch(alarms: readonly Alarm[], why: 'change' | 'resend'): void {
    const now = this.deps.clock.nowMs();
    for (const { queue, kind } of this.queues) {
      const batch: OutAlert[] = [];
      for (const a of alarms) {
        const labels = { alertname: a.alertname, ...a.labels };
        if (this.deps.silences.silenced(labels)) continue;
        const key = `${queue.notifier.name}\u0000${a.alertname}\u0000${a.fingerprint}`;
        if (why === 'resend' && kind === 'webhook') {
          if (a.ackedAt !== null) continue;
          if (now - (this.lastSent.get(key) ?? 0) < this.deps.repeatIntervalMs) continue;
        }
        // Only firing alarms repeat: forget a resolved one, so the map stays as small as the active set.
        if (a.state === 'firing') this.lastSent.set(key, now);
        else this.lastSent.delete(key);
        batch.push(this.toOut(a, labels, now));
      }
      if (batch.length > 0) queue.enqueue(batch);
    }
  }

  private toOut(a: Alarm, labels: Record<string, string>, now: number): OutAlert {
    const firing = a.state === 'firing';
    return {
      fingerprint: `${a.alertname}\u0000${a.fingerprint}`,
      status: firing ? 'firing' : 'resolved',
      labels,
      annotations: a.annotations,
      startsAt: new Date(a.activeAt).toISOString(),
      // Firing: valid for four re-send intervals, so Alertmanager resolves it if Overseer goes away.
      endsAt: new Date(firing ? now + 4 * this.deps.resendIntervalMs : (a.resolvedAt ?? now)).toISOString(),
      generatorURL: `${this.deps.externalUrl()}/api/v1/alarms?state=${firing ? 'firing' : 'resolved'}`,
    };
  }
}
