/** How many invalidations are remembered; a ticket older than that is treated as invalidated. */
export const INVALIDATION_LOG_SIZE = 4_096;

/**
 * The last invalidations of the usage cache, each with a sequence number, in a fixed ring: enough to
 * tell whether a tenant changed while one of its pages was being rendered (a few milliseconds), and
 * bounded whatever the write rate. Past the ring, the answer is "changed" (never a stale page kept).
 */
export class InvalidationLog {
  private readonly seqs: Float64Array;
  private readonly tenants: string[];
  private head = 0;
  private count = 0;
  /** Sequence number of the newest invalidation; 0 before any. */
  seq = 0;

  constructor(private readonly capacity = INVALIDATION_LOG_SIZE) {
    this.seqs = new Float64Array(capacity);
    this.tenants = new Array<string>(capacity);
  }

  /** A tenant, or `*` for all. */
  add(tenant: string): void {
    this.seq++;
    this.seqs[this.head] = this.seq;
    this.tenants[this.head] = tenant;
    this.head = (this.head + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
  }

  /** Whether `tenant` (or everything) was invalidated after the `ticket` (a past `seq`) was taken. */
  changedSince(ticket: number, tenant: string): boolean {
    if (ticket === this.seq) return false;
    const oldest = this.seq - this.count + 1;
    // Invalidations between the ticket and the oldest remembered one were forgotten.
    if (ticket + 1 < oldest) return true;
    for (let i = 1; i <= this.count; i++) {
      const at = (this.head - i + this.capacity) % this.capacity;
      if (this.seqs[at]! <= ticket) break;
      const t = this.tenants[at];
      if (t === '*' || t === tenant) return true;
    }
    return false;
  }
}
