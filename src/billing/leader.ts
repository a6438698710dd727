import cron, { type Logger as CronLogger, type ScheduledTask } from 'node-cron';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import { ErrorCodes, OverseerError } from '../errors/index.js';
import type { LeaderLock } from './leader-locks.js';

export {
  AdvisoryLock,
  FileLock,
  LEADER_LOCK_FILE,
  LEADER_LOCK_KEY,
  leaderLockFor,
  type LeaderLock,
} from './leader-locks.js';

/** node-cron's own messages (missed runs, failures) into our logger instead of the console. */
export function cronLogger(logger: Logger): CronLogger {
  return {
    info: (m) => logger.debug(m),
    warn: (m) => logger.warn(m),
    error: (m, err) => logger.error({ err: err ?? m }, String(m)),
    debug: (m) => logger.debug(String(m)),
  };
}

/** What a component that leads (billing jobs, the capacity loop) is built from, besides its own parts. */
export interface LeadingComponentDeps {
  db: Kysely<Database>;
  dbKind: 'postgres' | 'pglite';
  dataDir: string;
  clock: Clock;
  logger: Logger;
  registry: Registry;
  countError?: (code: number) => void;
  /** Tests: another lock, or a faster leader check than every 5 s. */
  lock?: LeaderLock;
  leaderCheckSchedule?: string;
}

export interface LeaderDeps {
  lock: LeaderLock;
  logger: Logger;
  /** What leads, for messages: `billing jobs`, `the capacity loop`. */
  role: string;
  /**
   * node-cron pattern (a seconds field allowed) of the follower's attempts and of the leader's check that
   * the lock is still its own. A failover takes about this long.
   */
  checkSchedule?: string;
  /** Told of every change: true on becoming leader, false on losing or giving up leadership. */
  onChange?: (leader: boolean) => void;
  countError?: (code: number) => void;
}

export const DEFAULT_LEADER_CHECK = '*/5 * * * * *';

/**
 * Leadership for singleton jobs: this process leads while it holds `lock`. A follower tries again on every
 * check; a leader verifies on every check that the lock is still its own, and the lock reports a loss it
 * notices in between (a broken connection) at once. After a loss `isLeader()` is false until the lock is
 * taken again, so jobs that ask before each run stop running.
 */
export class Leader {
  private leader = false;
  private task: ScheduledTask | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;
  private failing = false;

  constructor(private readonly deps: LeaderDeps) {}

  isLeader(): boolean {
    return this.leader;
  }

  /** Tries once before returning: a process that can lead leads as soon as start() resolves. */
  async start(): Promise<void> {
    this.stopped = false;
    // Created first: a bad pattern throws before any lock is taken.
    this.task = cron.createTask(this.deps.checkSchedule ?? DEFAULT_LEADER_CHECK, () => this.onTick(), {
      name: `leader ${this.deps.lock.describe}`,
      timezone: 'UTC',
      logger: cronLogger(this.deps.logger),
    });
    await this.tick();
    await this.task.start();
  }

  /** Gives leadership up (another process takes over on its next check). Safe to call twice. */
  async stop(): Promise<void> {
    this.stopped = true;
    const task = this.task;
    this.task = undefined;
    await task?.destroy();
    await this.ticking;
    const was = this.leader;
    this.leader = false;
    await this.deps.lock.release();
    if (was) {
      this.deps.logger.info({ lock: this.deps.lock.describe }, 'leadership released');
      this.deps.onChange?.(false);
    }
  }

  private onTick(): Promise<void> {
    // A check slower than the interval (a slow database) must not run twice at once.
    return this.ticking !== undefined || this.stopped ? Promise.resolve() : this.tick();
  }

  private async tick(): Promise<void> {
    const run = this.leader ? this.verify() : this.acquire();
    this.ticking = run;
    try {
      await run;
    } finally {
      this.ticking = undefined;
    }
  }

  private async acquire(): Promise<void> {
    let got: boolean;
    try {
      got = await this.deps.lock.tryAcquire((reason) => void this.lose(reason));
    } catch (cause) {
      // One error per failing streak: a database down for an hour must not log it 720 times.
      if (!this.failing) {
        const err = new OverseerError(
          ErrorCodes.LEADER_LOCK_FAILED,
          `cannot try the leader lock of ${this.deps.role}`,
          {
            details: [this.deps.lock.describe, String((cause as Error).message || cause)],
            hint: `${this.deps.role} do not run in this process until it can; another replica may lead`,
            cause,
          },
        );
        this.deps.countError?.(err.code);
        this.deps.logger.error({ code: err.code, lock: this.deps.lock.describe, err: cause }, err.message);
      }
      this.failing = true;
      return;
    }
    if (this.failing) this.deps.logger.info({ lock: this.deps.lock.describe }, 'leader lock reachable again');
    this.failing = false;
    if (!got) return;
    if (this.stopped) {
      // stop() ran while this attempt was in flight: give the lock straight back.
      await this.deps.lock.release();
      return;
    }
    this.leader = true;
    this.deps.logger.info({ lock: this.deps.lock.describe }, 'leadership acquired');
    this.deps.onChange?.(true);
  }

  private async verify(): Promise<void> {
    let reason = 'the lock is not ours any more';
    const held = await this.deps.lock.stillHeld().catch((e: unknown) => {
      reason = String((e as Error).message || e);
      return false;
    });
    if (!held) await this.lose(reason);
  }

  private async lose(reason: string): Promise<void> {
    if (!this.leader) return;
    this.leader = false;
    const err = new OverseerError(ErrorCodes.LEADERSHIP_LOST, `leadership of ${this.deps.role} lost`, {
      details: [this.deps.lock.describe, reason],
      hint: `${this.deps.role} stop here until the lock is taken again, here or by another replica`,
    });
    this.deps.countError?.(err.code);
    this.deps.logger.error({ code: err.code, lock: this.deps.lock.describe, reason }, err.message);
    this.deps.onChange?.(false);
    // What is left of the old hold (a broken connection) goes, so the next attempt starts clean.
    await this.deps.lock.release().catch(() => undefined);
  }
}
