import { Counter, Gauge, type Registry } from 'prom-client';
import type { FileState } from './journal.js';
import { METRIC_STATES, shipState, type Backlog } from './ship-plan.js';

export interface ShipView {
  /** The journal's current states (empty before it is open). */
  states(): Iterable<FileState>;
  backlog(): Backlog;
  nowMs(): number;
}

/**
 * The shipper's metrics. Gauges are computed from the journal at scrape time, so they are never stale
 * and need no bookkeeping at each step; counters are bumped where things happen.
 */
export class ShipMetrics {
  readonly uploadFailures: Counter;
  readonly uploadedBytes: Counter;
  readonly deferred: Counter<'stage'>;

  constructor(registry: Registry, view: ShipView) {
    const registers = [registry];
    new Gauge({
      name: 'overseer_log_files',
      help: 'Log files in the ship journal by state (pending: not compressed; failed: last attempt failed, not uploaded).',
      labelNames: ['state'],
      registers,
      collect() {
        const n: Record<string, number> = Object.fromEntries(METRIC_STATES.map((s) => [s, 0]));
        for (const s of view.states()) {
          const st = shipState(s);
          if (st !== 'deleted') n[st] = (n[st] ?? 0) + 1;
        }
        for (const st of METRIC_STATES) this.set({ state: st }, n[st] ?? 0);
      },
    });
    new Gauge({
      name: 'overseer_log_bytes_pending',
      help: 'Bytes of log files on local disk not yet confirmed in the object store (.gz once compressed).',
      registers,
      collect() {
        this.set(view.backlog().bytes);
      },
    });
    new Gauge({
      name: 'overseer_log_backlog_limit_bytes',
      help: 'maxBacklogBytes: overseer_log_bytes_pending above it means the store has been unreachable too long.',
      registers,
      collect() {
        this.set(view.backlog().limitBytes);
      },
    });
    new Gauge({
      name: 'overseer_log_oldest_pending_seconds',
      help: 'Age of the oldest first line not yet confirmed in the object store; 0 when nothing is pending.',
      registers,
      collect() {
        const oldest = view.backlog().oldestStartMs;
        this.set(oldest === undefined ? 0 : Math.max(0, (view.nowMs() - oldest) / 1000));
      },
    });
    this.uploadFailures = new Counter({
      name: 'overseer_log_upload_failures_total',
      help: 'Upload attempts of log files that failed (each is retried with backoff).',
      registers,
    });
    this.uploadedBytes = new Counter({
      name: 'overseer_log_uploaded_bytes_total',
      help: 'Bytes of .gz log files uploaded and confirmed by a HEAD of size and sha256.',
      registers,
    });
    this.deferred = new Counter({
      name: 'overseer_log_ship_deferred_total',
      help: 'Files left for a later pass because a stage reached its per-pass bound (maxBatch / maxNewFilesPerPass).',
      labelNames: ['stage'],
      registers,
    });
  }
}
