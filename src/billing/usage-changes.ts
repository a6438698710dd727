import type { Logger } from 'pino';
import type { Listen, Subscription } from '../db/listen.js';
import type { Component } from '../lifecycle.js';
import type { UsageCache } from './usage-cache.js';

/** Where billing_hourly changes are notified (migration 0005's trigger). */
export const BILLING_HOURLY_CHANNEL = 'overseer_billing_hourly';

/** The tenants a notification names: a JSON array of names, or `*` (all; also for anything unreadable). */
export function parseChangePayload(payload: string): readonly string[] | '*' {
  if (payload === '*') return '*';
  try {
    const v: unknown = JSON.parse(payload);
    if (Array.isArray(v) && v.every((t) => typeof t === 'string')) return v;
  } catch {
    // fall through: a payload we cannot read must not leave a page stale
  }
  return '*';
}

export interface UsageChangeFeedDeps {
  listen: Listen;
  cache: UsageCache;
  logger: Logger;
}

/** Keeps the usage page cache in step with billing_hourly by LISTENing to its change notifications. */
export class UsageChangeFeed implements Component {
  readonly name = 'billing usage change feed';
  private sub: Subscription | undefined;

  constructor(private readonly deps: UsageChangeFeedDeps) {}

  async start(): Promise<void> {
    const { cache, logger } = this.deps;
    this.sub = await this.deps.listen(BILLING_HOURLY_CHANNEL, {
      onMessage: (payload) => cache.invalidate(parseChangePayload(payload)),
      onState: (listening) => {
        if (listening !== cache.listening)
          logger.info(
            { listening },
            listening ? 'usage cache on' : 'usage cache off until notifications return',
          );
        cache.setListening(listening);
      },
    });
  }

  async stop(): Promise<void> {
    const sub = this.sub;
    this.sub = undefined;
    await sub?.close();
  }
}
