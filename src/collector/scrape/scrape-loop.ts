import type { Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import type { Clock } from '../../clock.js';
import {
  decodeExposition,
  ExpositionSyntaxError,
  formatFromContentType,
  parseExposition,
} from '../exposition/parse.js';
import type { Exposition } from '../exposition/types.js';
import { fetchBody, ScrapeError } from './fetch-body.js';
import type { Limiter } from './limiter.js';
import { scrapeOffsetMs, type Target } from './target.js';
import type { TargetStatus } from './target-status.js';

export interface ScrapeSettings {
  intervalMs: number;
  timeoutMs: number;
  bodySizeLimit: number;
  sampleLimit: number;
}

export interface ScrapeLoopDeps {
  settings: ScrapeSettings;
  agent: { http: HttpAgent; https: HttpsAgent };
  limiter: Limiter;
  clock: Clock;
  /** A scrape parsed and within limits; returns a series found twice (then nothing was recorded). */
  ingest(target: Target, tMs: number, exposition: Exposition): string | undefined;
  /** A failed scrape (its error is in the status). */
  failed(target: Target, tMs: number): void;
  /** Every scrape, successful or not, after the status was updated. */
  observed(status: TargetStatus): void;
  /** A tick that found the previous scrape still running or no slot before the next one was due. */
  skipped(): void;
}

/**
 * Scrapes one target at a fixed phase of the interval until stopped. One scrape at a time per target;
 * a scrape that is still running when the next is due makes that tick a skip, not a pile-up.
 */
export class ScrapeLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly abort = new AbortController();
  private stopped = false;
  private nextDue = 0;

  constructor(
    readonly status: TargetStatus,
    private readonly deps: ScrapeLoopDeps,
  ) {}

  get target(): Target {
    return this.status.target;
  }

  start(): void {
    const { intervalMs } = this.deps.settings;
    const now = this.deps.clock.nowMs();
    this.nextDue = now + scrapeOffsetMs(this.target, intervalMs, now);
    this.arm();
  }

  /** Stops scheduling; lets a scrape in flight finish (the manager bounds how long it waits). */
  async stop(cancelInFlight = false): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (cancelInFlight) this.abort.abort();
    await this.running;
  }

  /** Runs one scrape now (tests and the first round use it). */
  scrapeNow(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.deps.limiter
      .run(() => this.scrape())
      .catch(() => this.deps.skipped())
      .finally(() => (this.running = undefined));
    return this.running;
  }

  /** Timer for `nextDue`. The phase is kept: each tick is due one interval after the previous was due. */
  private arm(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.tick(), Math.max(0, this.nextDue - this.deps.clock.nowMs()));
    this.timer.unref();
  }

  private tick(): void {
    const { intervalMs } = this.deps.settings;
    const now = this.deps.clock.nowMs();
    this.nextDue += intervalMs;
    // The process was stalled (or the host suspended): skip the missed ticks instead of bursting.
    while (this.nextDue <= now) {
      this.nextDue += intervalMs;
      this.deps.skipped();
    }
    this.arm();
    if (this.running) this.deps.skipped();
    else void this.scrapeNow();
  }

  private async scrape(): Promise<void> {
    if (this.stopped) return;
    const { settings, clock } = this.deps;
    const status = this.status;
    const started = clock.nowMs();
    const t0 = performance.now();
    status.lastScrape = started;
    try {
      const fetched = await fetchBody(this.target.url, {
        timeoutMs: Math.min(settings.timeoutMs, settings.intervalMs),
        bodySizeLimit: settings.bodySizeLimit,
        agent: this.deps.agent,
        signal: this.abort.signal,
      });
      const format = formatFromContentType(fetched.contentType);
      let exposition: Exposition;
      try {
        // Duplicates are found by the window's lookup (ingest), not hashed twice; labels are read back from
        // the series key only for series the window has not seen.
        exposition = parseExposition(decodeExposition(fetched.body), format, {
          checkDuplicates: false,
          labels: false,
        });
      } catch (e) {
        if (e instanceof ExpositionSyntaxError) {
          throw new ScrapeError('invalid', `invalid ${format} exposition at ${e.message}`);
        }
        throw e;
      }
      if (settings.sampleLimit > 0 && exposition.samples.length > settings.sampleLimit) {
        throw new ScrapeError(
          'sample_limit',
          `${exposition.samples.length} samples exceed the sample limit of ${settings.sampleLimit}`,
        );
      }
      const duplicate = this.deps.ingest(this.target, started, exposition);
      if (duplicate !== undefined) {
        throw new ScrapeError('invalid', `invalid ${format} exposition: duplicate series ${duplicate}`);
      }
      status.format = format;
      status.bytes = fetched.body.length;
      status.samples = exposition.samples.length;
      status.health = 'up';
      status.lastError = undefined;
      status.lastErrorReason = undefined;
      status.lastSuccess = started;
      status.lastDurationMs = performance.now() - t0;
    } catch (e) {
      status.health = 'down';
      status.lastDurationMs = performance.now() - t0;
      if (e instanceof ScrapeError) {
        status.lastError = e.message;
        status.lastErrorReason = e.reason;
      } else {
        status.lastError = `unexpected: ${(e as Error).message}`;
        status.lastErrorReason = 'connection';
      }
      this.deps.failed(this.target, started);
    }
    this.deps.observed(status);
  }
}
