import type { Clock } from '../clock.js';

/**
 * Runs `tick` every `intervalMs` from the start of one run to the start of the next, never two at once:
 * a run longer than the interval is followed at once by the next (no burst of missed runs). The only
 * timer of the capacity loop; the loop's logic itself reads time from the Clock.
 */
export class Ticker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(
    private readonly intervalMs: number,
    private readonly clock: Clock,
    private readonly tick: () => Promise<void>,
  ) {}

  /** The first run starts one interval from now (the planner needs samples, not a run at startup). */
  start(): void {
    this.stopped = false;
    this.schedule(this.intervalMs);
  }

  /** No new run starts; resolves when the one going (if any) ended. Safe to call twice. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.run(), delayMs);
  }

  private async run(): Promise<void> {
    const t0 = this.clock.nowMs();
    // tick() handles its own errors; a rejection here must still not stop the loop.
    this.running = this.tick().catch(() => undefined);
    await this.running;
    this.running = undefined;
    const elapsed = this.clock.nowMs() - t0;
    this.schedule(Math.max(0, this.intervalMs - elapsed));
  }
}
