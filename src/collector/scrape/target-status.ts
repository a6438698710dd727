import type { ScrapeFailure } from './fetch-body.js';
import type { Target } from './target.js';

export type TargetHealth = 'unknown' | 'up' | 'down';

/** What `GET /api/v1/targets` and the per-target metrics report. */
export interface TargetStatus {
  target: Target;
  health: TargetHealth;
  /** Start of the last scrape (ms since the epoch). */
  lastScrape: number | undefined;
  lastSuccess: number | undefined;
  lastDurationMs: number | undefined;
  /** Samples in the last successful scrape. */
  samples: number;
  lastError: string | undefined;
  lastErrorReason: ScrapeFailure | undefined;
  /** Set once the target left discovery; it is evicted `evictAfter` after its last success. */
  goneSince: number | undefined;
  format: 'prometheus' | 'openmetrics' | undefined;
  bytes: number;
}

export function newStatus(target: Target): TargetStatus {
  return {
    target,
    health: 'unknown',
    lastScrape: undefined,
    lastSuccess: undefined,
    lastDurationMs: undefined,
    samples: 0,
    lastError: undefined,
    lastErrorReason: undefined,
    goneSince: undefined,
    format: undefined,
    bytes: 0,
  };
}
