import { ErrorCodes, OverseerError } from '../../errors/index.js';

/**
 * At most `limit` scrapes in flight; the rest wait in a FIFO queue bounded by `maxQueue` (one place per
 * target is enough: a loop never queues twice). A full queue rejects at once instead of growing.
 */
export class Limiter {
  private active = 0;
  private readonly queue: Array<() => void> = [];
  rejected = 0;

  constructor(
    private readonly limit: number,
    public maxQueue: number,
  ) {}

  get depth(): number {
    return this.queue.length;
  }

  get inFlight(): number {
    return this.active;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) {
      if (this.queue.length >= this.maxQueue) {
        this.rejected++;
        throw new OverseerError(ErrorCodes.SCRAPE_SLOT_QUEUE_FULL, 'too many scrapes waiting for a slot', {
          hint: 'raise collector.maxConcurrentScrapes, or lengthen the scrape interval',
          status: 503,
        });
      }
      await new Promise<void>((resolve) => this.queue.push(resolve));
    } else {
      this.active++;
    }
    try {
      return await fn();
    } finally {
      const next = this.queue.shift();
      // The slot passes straight to the next waiter; `active` only drops when nobody waits.
      if (next) next();
      else this.active--;
    }
  }
}
