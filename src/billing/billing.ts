import cron, { type ScheduledTask } from 'node-cron';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Config } from '../config.js';
import { ErrorCodes, OverseerError } from '../errors/index.js';
import type { Component } from '../lifecycle.js';
import { applyRetention, closeHours, scanSpoolDirs, type ScanReport } from './jobs.js';
import { pruneDone } from './spool-retention.js';
import { cronLogger, Leader, leaderLockFor, type LeadingComponentDeps } from './leader.js';

export const BILLING_JOBS = ['scan', 'close', 'retention'] as const;
export type BillingJob = (typeof BILLING_JOBS)[number];

export interface JobResults {
  scan: ScanReport;
  close: { closed: number };
  retention: { dropped: string[]; doneDeleted: number };
}

export interface BillingDeps extends LeadingComponentDeps {
  /** spoolDirs already absolute (the caller resolves them against the config file). */
  config: Config['billing'];
}

interface Metrics {
  runs: Counter<'job' | 'result'>;
  duration: Histogram<'job'>;
  records: Counter<'result'>;
  files: Counter<'result'>;
}

/**
 * The billing jobs that must run once per fleet, not once per replica: spool scan, closing hours and raw
 * retention. Each runs on its node-cron schedule (UTC) only while this process leads, never overlaps
 * itself (a tick that finds the previous run still going is skipped and counted), and a failure is
 * logged, counted and retried by the next tick. Becoming leader scans at once, so files that waited for a
 * leader (at start, or during a failover) are not left for another minute.
 */
export class Billing implements Component {
  readonly name = 'billing';
  private readonly leader: Leader;
  private readonly metrics: Metrics;
  private readonly running = new Map<BillingJob, Promise<unknown>>();
  private tasks: ScheduledTask[] = [];
  private closing = false;
  private stopping: Promise<void> | undefined;

  constructor(private readonly deps: BillingDeps) {
    const registers = [deps.registry];
    const leader = new Leader({
      lock: deps.lock ?? leaderLockFor(deps),
      logger: deps.logger.child({ part: 'leader' }),
      role: 'billing jobs',
      ...(deps.leaderCheckSchedule ? { checkSchedule: deps.leaderCheckSchedule } : {}),
      ...(deps.countError ? { countError: deps.countError } : {}),
      onChange: (leads) => {
        if (leads) void this.scheduled('scan');
      },
    });
    this.leader = leader;
    this.metrics = {
      runs: new Counter({
        name: 'overseer_billing_job_runs_total',
        help: 'Billing job runs by job and result: ok, failed, or skipped (the previous run was still going).',
        labelNames: ['job', 'result'],
        registers,
      }),
      duration: new Histogram({
        name: 'overseer_billing_job_duration_seconds',
        help: 'How long billing job runs took.',
        labelNames: ['job'],
        buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
        registers,
      }),
      records: new Counter({
        name: 'overseer_billing_records_total',
        help: 'Billing records read from spool files: accepted, duplicate (seen before), rejected (invalid).',
        labelNames: ['result'],
        registers,
      }),
      files: new Counter({
        name: 'overseer_billing_files_total',
        help: 'Spool files handled: ingested, replay (the same bytes were ingested before), failed.',
        labelNames: ['result'],
        registers,
      }),
    };
    new Gauge({
      name: 'overseer_billing_leader',
      help: '1 while this process leads (runs the singleton billing jobs), else 0.',
      registers,
      collect() {
        this.set(leader.isLeader() ? 1 : 0);
      },
    });
  }

  isLeader(): boolean {
    return this.leader.isLeader();
  }

  async start(): Promise<void> {
    const { schedule } = this.deps.config;
    const invalid = BILLING_JOBS.filter((job) => !cron.validate(schedule[job]));
    if (invalid.length > 0) {
      throw new OverseerError(ErrorCodes.BILLING_SCHEDULE_INVALID, 'billing.schedule is not valid cron', {
        details: invalid.map((job) => `billing.schedule.${job}: ${JSON.stringify(schedule[job])}`),
        hint: 'use node-cron syntax: five fields (minute hour day month weekday), or six with seconds first',
      });
    }
    const logger = cronLogger(this.deps.logger);
    this.tasks = BILLING_JOBS.map((job) =>
      cron.createTask(schedule[job], () => this.scheduled(job), {
        name: `billing ${job}`,
        timezone: 'UTC',
        logger,
      }),
    );
    try {
      await this.leader.start();
      for (const t of this.tasks) await t.start();
    } catch (e) {
      // A component that fails to start cleans up after itself: no lock or schedule is left behind.
      await this.stop();
      throw e;
    }
  }

  /** Stops the schedules, waits for running jobs (a scan stops after its current file), then gives up leadership. */
  stop(): Promise<void> {
    this.stopping ??= this.stopAll();
    return this.stopping;
  }

  /**
   * Runs a job now, leader or not (tests, operators); after the run of it that is going, if any. Rejects
   * with the job's error, which is also logged and counted like a scheduled failure.
   */
  async runNow<J extends BillingJob>(job: J): Promise<JobResults[J]> {
    for (let p = this.running.get(job); p !== undefined; p = this.running.get(job))
      await p.catch(() => undefined);
    return this.run(job, () => !this.closing);
  }

  private async stopAll(): Promise<void> {
    this.closing = true;
    const tasks = this.tasks.splice(0);
    try {
      for (const t of tasks) await t.destroy();
    } finally {
      // Leadership goes only after the running jobs end, so a successor never starts one alongside ours.
      await Promise.allSettled([...this.running.values()]);
      await this.leader.stop();
    }
  }

  /** A tick of the schedule: only on the leader, and never while the previous run goes on. */
  private scheduled(job: BillingJob): Promise<void> {
    if (this.closing || !this.leader.isLeader()) return Promise.resolve();
    if (this.running.has(job)) {
      this.metrics.runs.inc({ job, result: 'skipped' });
      this.deps.logger.warn({ job }, 'billing job still running from the last tick; this tick skipped');
      return Promise.resolve();
    }
    // The failure is logged and counted in run(); the next tick tries again.
    return this.run(job, () => !this.closing && this.leader.isLeader()).then(
      () => undefined,
      () => undefined,
    );
  }

  private run<J extends BillingJob>(job: J, keepGoing: () => boolean): Promise<JobResults[J]> {
    const p = this.execute(job, keepGoing).finally(() => this.running.delete(job));
    this.running.set(job, p);
    return p;
  }

  private async execute<J extends BillingJob>(job: J, keepGoing: () => boolean): Promise<JobResults[J]> {
    const { clock } = this.deps;
    const t0 = clock.nowMs();
    try {
      const result = await this.body(job, keepGoing);
      this.metrics.runs.inc({ job, result: 'ok' });
      return result;
    } catch (cause) {
      this.metrics.runs.inc({ job, result: 'failed' });
      const err = new OverseerError(ErrorCodes.BILLING_JOB_FAILED, `billing job ${job} failed`, {
        details: [String((cause as Error).message || cause)],
        hint: 'it runs again on its next schedule; the log has the cause',
        cause,
      });
      this.deps.countError?.(err.code);
      this.deps.logger.error({ code: err.code, job, err: cause }, err.message);
      throw err;
    } finally {
      this.metrics.duration.observe({ job }, (clock.nowMs() - t0) / 1000);
    }
  }

  private async body<J extends BillingJob>(job: J, keepGoing: () => boolean): Promise<JobResults[J]> {
    const { db, clock, config } = this.deps;
    const logger = this.deps.logger;
    const results: { [K in BillingJob]: () => Promise<JobResults[K]> } = {
      scan: () =>
        scanSpoolDirs({
          db,
          dirs: config.spoolDirs,
          clock,
          logger,
          keepGoing,
          onFile: (r) => {
            this.metrics.files.inc({ result: r.replay ? 'replay' : 'ingested' });
            this.metrics.records.inc({ result: 'accepted' }, r.accepted);
            this.metrics.records.inc({ result: 'duplicate' }, r.duplicates);
            this.metrics.records.inc({ result: 'rejected' }, r.rejected);
          },
          onFailure: (_file, err) => {
            this.metrics.files.inc({ result: 'failed' });
            this.deps.countError?.(err.code);
          },
        }),
      close: async () => {
        const closed = await closeHours(db, clock.nowMs(), config.closeAfter);
        if (closed > 0) logger.info({ closed }, 'billing hours closed');
        return { closed };
      },
      retention: async () => {
        const dropped = await applyRetention(db, clock.nowMs(), config.rawRetention);
        if (dropped.length > 0) logger.info({ dropped }, 'raw billing partitions dropped');
        const doneDeleted = await pruneDone(config.spoolDirs, clock.nowMs() - config.doneRetention);
        if (doneDeleted > 0) logger.info({ doneDeleted }, 'ingested spool files deleted from done/');
        return { dropped, doneDeleted };
      },
    };
    return results[job]();
  }
}
