import type { Logger } from 'pino';
import { ErrorCodes, OverseerError } from '../errors/index.js';
import type { Backlog } from './ship-plan.js';

/**
 * The shipper's self-alarms on its backlog: `OverseerLogBacklogHigh` from alarmRatio of the limit (well
 * before it), `OverseerLogBacklogFull` above it. Each pass that finds them holding counts their error
 * code again, so the generated `increase(errors_total{code=…})` alerts keep firing meanwhile.
 */

export interface ShipperAlarm {
  alertname: 'OverseerLogBacklogHigh' | 'OverseerLogBacklogFull';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Backlog bytes / maxBacklogBytes when last evaluated. */
  value: number;
  activeAt: number;
}

interface Raised {
  since: number;
  err: OverseerError;
  ratio: number;
}

export interface BacklogAlarmDeps {
  logger: Logger;
  countError: (code: number) => void;
  /** Called on each crossing of the limit, either way: the writers are the only ones who can shed load. */
  onOverLimit?: (overLimit: boolean) => void;
}

const mib = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`;
const HINT =
  'the object store is unreachable or too slow (see overseer_log_upload_failures_total); nothing is deleted before it is uploaded';

export class BacklogAlarms {
  private high: Raised | undefined;
  private over: Raised | undefined;

  constructor(private readonly deps: BacklogAlarmDeps) {}

  /** Re-evaluates both alarms from a pass's backlog. */
  update(b: Backlog, nowMs: number): void {
    const size = `${mib(b.bytes)} in ${b.files} files, limit ${mib(b.limitBytes)}`;
    const wasOver = this.over !== undefined;
    if (b.high) {
      const err = new OverseerError(
        ErrorCodes.LOG_SHIP_BACKLOG_HIGH,
        `unshipped logs reach ${Math.round(b.ratio * 100)}% of the backlog limit (${size})`,
        { hint: HINT },
      );
      this.high = { since: this.high?.since ?? nowMs, err, ratio: b.ratio };
      this.deps.countError(err.code);
      this.deps.logger.warn({ code: err.code, bytes: b.bytes, files: b.files, ratio: b.ratio }, err.message);
    } else this.high = undefined;
    if (b.overLimit) {
      const err = new OverseerError(
        ErrorCodes.LOG_SHIP_BACKLOG_OVER_LIMIT,
        `unshipped logs exceed the backlog limit (${size}); nothing is deleted`,
        { hint: HINT },
      );
      this.over = { since: this.over?.since ?? nowMs, err, ratio: b.ratio };
      this.deps.countError(err.code);
      this.deps.logger.error({ code: err.code, bytes: b.bytes, files: b.files }, err.message);
    } else this.over = undefined;
    if (wasOver !== b.overLimit) this.deps.onOverLimit?.(b.overLimit);
  }

  list(): ShipperAlarm[] {
    const out: ShipperAlarm[] = [];
    const alarm = (alertname: ShipperAlarm['alertname'], severity: string, r: Raised): ShipperAlarm => ({
      alertname,
      labels: { alertname, severity, component: 'log-shipper', code: String(r.err.code) },
      annotations: { summary: r.err.message, description: r.err.hint ?? '' },
      value: r.ratio,
      activeAt: r.since,
    });
    if (this.high) out.push(alarm('OverseerLogBacklogHigh', 'warning', this.high));
    if (this.over) out.push(alarm('OverseerLogBacklogFull', 'critical', this.over));
    return out;
  }
}
