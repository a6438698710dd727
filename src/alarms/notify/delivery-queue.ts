import type { Logger } from 'pino';
import type { Counter, Gauge } from 'prom-client';
import { isOverseerError } from '../../errors/index.js';
import type { Notifier, OutAlert } from './types.js';

export interface DeliveryOptions {
  /** Distinct alerts waiting at most; beyond, the oldest waiting one is dropped (and counted). */
  maxQueue: number;
  maxBatch: number;
  /** Backoff after a failed send: base × 2^attempt, capped, with full jitter. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Failing this long without a success raises the notifier's self-alarm. */
  failingAlarmAfterMs: number;
  random?: () => number;
  now?: () => number;
}

export interface DeliveryMetrics {
  sent: Counter<'notifier'>;
  failed: Counter<'notifier'>;
  dropped: Counter<'notifier'>;
  depth: Gauge<'notifier'>;
}

/**
 * The queue in front of one notifier. Holds the latest state of each alert (a newer state of the same
 * alert replaces the waiting one: a receiver that was down gets where things stand, in order, not every
 * step), sends in batches, retries with exponential backoff and jitter, and is bounded.
 */
export class DeliveryQueue {
  private readonly waiting = new Map<string, OutAlert>();
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  private failingSince: number | undefined;
  private stopped = false;
  lastError: string | undefined;

  constructor(
    readonly notifier: Notifier,
    private readonly opts: DeliveryOptions,
    private readonly metrics: DeliveryMetrics,
    private readonly logger: Logger,
    private readonly countError?: (code: number) => void,
  ) {}

  get depth(): number {
    return this.waiting.size;
  }

  /** True once sends have failed for longer than `failingAlarmAfterMs`. */
  get failing(): boolean {
    const now = (this.opts.now ?? Date.now)();
    return this.failingSince !== undefined && now - this.failingSince >= this.opts.failingAlarmAfterMs;
  }

  enqueue(alerts: readonly OutAlert[]): void {
    if (this.stopped) return;
    for (const a of alerts) {
      this.waiting.delete(a.fingerprint); // re-inserted at the end: order of the latest change
      this.waiting.set(a.fingerprint, a);
      if (this.waiting.size > this.opts.maxQueue) {
        const oldest = this.waiting.keys().next().value!;
        this.waiting.delete(oldest);
        this.metrics.dropped.inc({ notifier: this.notifier.name });
      }
    }
    this.metrics.depth.set({ notifier: this.notifier.name }, this.waiting.size);
    if (this.timer === undefined && this.sending === undefined) this.kick(0);
  }

  /** Stops retrying; a send in flight is awaited. What is still waiting is left undelivered. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.sending;
  }

  /** Resolves once nothing waits (or stop); for tests and shutdown. */
  async drain(deadlineMs: number): Promise<boolean> {
    const end = Date.now() + deadlineMs;
    while (this.waiting.size > 0 && Date.now() < end && !this.stopped)
      await new Promise((r) => setTimeout(r, 20));
    return this.waiting.size === 0;
  }

  private kick(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.sending = this.sendBatch().finally(() => (this.sending = undefined));
    }, delayMs);
    this.timer.unref();
  }

  private async sendBatch(): Promise<void> {
    if (this.stopped || this.waiting.size === 0) return;
    const batch = [...this.waiting.values()].slice(0, this.opts.maxBatch);
    try {
      await this.notifier.send(batch);
      // Only what was sent leaves: a newer state that arrived meanwhile stays queued.
      for (const a of batch) if (this.waiting.get(a.fingerprint) === a) this.waiting.delete(a.fingerprint);
      this.metrics.sent.inc({ notifier: this.notifier.name }, batch.length);
      if (this.failingSince !== undefined)
        this.logger.info({ notifier: this.notifier.name }, 'delivery recovered');
      this.attempt = 0;
      this.failingSince = undefined;
      this.lastError = undefined;
    } catch (e) {
      this.metrics.failed.inc({ notifier: this.notifier.name });
      this.lastError = isOverseerError(e) ? `error ${e.code}: ${e.message}` : String((e as Error).message);
      if (isOverseerError(e)) this.countError?.(e.code);
      this.failingSince ??= (this.opts.now ?? Date.now)();
      this.attempt++;
      this.logger.warn(
        {
          notifier: this.notifier.name,
          attempt: this.attempt,
          error: this.lastError,
          hint: isOverseerError(e) ? e.hint : undefined,
        },
        'delivery failed; retrying',
      );
    }
    this.metrics.depth.set({ notifier: this.notifier.name }, this.waiting.size);
    if (this.stopped || this.waiting.size === 0) return;
    const ceiling = Math.min(
      this.opts.backoffMaxMs,
      this.opts.backoffBaseMs * 2 ** Math.min(this.attempt, 20),
    );
    this.kick(this.attempt === 0 ? 0 : (this.opts.random ?? Math.random)() * ceiling);
  }
}
