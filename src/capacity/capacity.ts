import { Leader, leaderLockFor, type LeadingComponentDeps } from '../billing/leader.js';
import type { MetricsSource } from '../collector/metrics-source.js';
import type { Config } from '../config.js';
import { ErrorCodes, OverseerError } from '../errors/index.js';
import type { Component } from '../lifecycle.js';
import { readLiveModel, type LiveModel } from './live-model.js';
import { CapacityMetrics } from './metrics.js';
import { emptyPlannerState, plan, type PlannerState } from './planner.js';
import { loadPlannerMemory, savePlannerMemory } from './planner-memory.js';
import { advanceState } from './planner-state.js';
import { inputsOf, loadPlan, planIdOf, savePlan, type PublishedPlan } from './plan-store.js';
import type { CapacityPolicy } from './policy.js';
import { tryApplyChange } from './routing-table.js';
import { Ticker } from './ticker.js';

/** Distinct from billing's leader lock (…002) and the partition DDL lock (…001). */
export const CAPACITY_LOCK_KEY = 7_302_110_003n;
export const CAPACITY_LOCK_FILE = 'capacity.leader.lock';
/** Who the audit log names for changes the loop makes itself (auto mode). */
export const LOOP_ACTOR = 'overseer:capacity-loop';

export interface CapacityDeps extends LeadingComponentDeps {
  config: Config['capacity'];
  policy: CapacityPolicy;
  source: MetricsSource;
}

export interface CycleReport {
  /** False when another replica leads: nothing was read or written. */
  led: boolean;
  plan?: PublishedPlan;
  /** Auto mode: the version the moves became; undefined when nothing was applied. */
  appliedVersion?: number;
}

/**
 * The capacity loop: every `capacity.interval`, on the one replica holding the capacity leader lock, it
 * reads the live model, runs the planner, and publishes the plan (capacity_plan, so every replica serves
 * it); in `auto` mode it also applies the moves as a new routing table version. The planner's memory
 * (samples, cooldowns, settling moves) is saved after every cycle and read back by the next leader, so a
 * failover or restart neither moves a tenant again inside its cooldown nor forgets load still settling.
 */
export class Capacity implements Component {
  readonly name = 'capacity';
  readonly metrics: CapacityMetrics;
  private readonly leader: Leader;
  private readonly ticker: Ticker;
  private state: PlannerState = emptyPlannerState();
  private lastPlanId: string | undefined;
  /** The planner's state had its last plan been applied: adopted once an operator applies that plan. */
  private pending: { planId: string; state: PlannerState } | undefined;
  /** Leadership was (re)gained: the next cycle first reads the memory the last leader saved. */
  private restore = false;
  private cycling: Promise<CycleReport> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly deps: CapacityDeps) {
    this.leader = new Leader({
      lock: deps.lock ?? leaderLockFor(deps, { key: CAPACITY_LOCK_KEY, file: CAPACITY_LOCK_FILE }),
      logger: deps.logger.child({ part: 'leader' }),
      role: 'capacity loops',
      ...(deps.leaderCheckSchedule ? { checkSchedule: deps.leaderCheckSchedule } : {}),
      ...(deps.countError ? { countError: deps.countError } : {}),
      onChange: (leads) => {
        // A leader that lost the lock forgets its history: the next one may have moved things meanwhile.
        if (!leads) {
          this.state = emptyPlannerState();
          this.pending = undefined;
        } else {
          this.restore = true;
        }
      },
    });
    this.metrics = new CapacityMetrics(deps.registry, () => this.leader.isLeader());
    this.ticker = new Ticker(deps.config.interval, deps.clock, async () => {
      await this.runCycle().catch(() => undefined);
    });
  }

  get mode(): 'plan' | 'auto' {
    return this.deps.config.mode;
  }

  isLeader(): boolean {
    return this.leader.isLeader();
  }

  async start(): Promise<void> {
    await this.leader.start();
    this.ticker.start();
  }

  /** Lets the cycle going finish, then gives up leadership. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      try {
        await this.ticker.stop();
      } finally {
        await this.leader.stop();
      }
    })();
    return this.stopping;
  }

  liveModel(): Promise<LiveModel> {
    return readLiveModel({
      db: this.deps.db,
      source: this.deps.source,
      nowMs: this.deps.clock.nowMs(),
      demandWindowMs: this.deps.config.demandWindow,
    });
  }

  /**
   * One cycle now (the ticker's, or a test's); after the cycle going, if any. Rejects with
   * CAPACITY_CYCLE_FAILED, which is also logged and counted.
   */
  async runCycle(): Promise<CycleReport> {
    while (this.cycling !== undefined) await this.cycling.catch(() => undefined);
    const p = this.cycle().finally(() => (this.cycling = undefined));
    this.cycling = p;
    return p;
  }

  private async cycle(): Promise<CycleReport> {
    if (!this.leader.isLeader() || this.stopping !== undefined) return { led: false };
    const { clock, db, logger } = this.deps;
    const t0 = performance.now();
    try {
      if (this.restore) {
        const memory = await loadPlannerMemory(
          db,
          clock.nowMs(),
          this.deps.config.interval * this.deps.policy.windowSamples,
        );
        this.state = memory.state;
        this.pending = memory.pending;
        this.restore = false;
      }
      await this.adoptAppliedPlan();
      const live = await this.liveModel();
      const nowMs = clock.nowMs();
      this.metrics.observeModel(live.model);
      this.metrics.seenVersion(live.version);
      const p0 = performance.now();
      const out = plan({ model: live.model, policy: this.deps.policy, state: this.state, nowMs });
      this.metrics.planDuration.observe((performance.now() - p0) / 1000);
      const before = this.state;
      const published: PublishedPlan = {
        planId: planIdOf(live.version, out.moves),
        basedOn: live.version,
        computedAt: new Date(nowMs).toISOString(),
        mode: this.mode,
        appliedVersion: null,
        moves: out.moves,
        inputs: inputsOf(live.model, out.moves),
        notes: out.notes.slice(0, 100),
      };
      // The same plan cycle after cycle (plan mode waits for an operator) is proposed once.
      if (published.planId !== this.lastPlanId)
        for (const m of out.moves) this.metrics.proposed.inc({ reason: m.reason });
      this.lastPlanId = published.planId;
      const report: CycleReport = { led: true, plan: published };
      if (this.mode === 'auto' && out.moves.length > 0) {
        const applied = await this.autoApply(published);
        if (applied !== undefined) {
          published.appliedVersion = applied;
          report.appliedVersion = applied;
        }
      }
      // Moves not applied must not count as made (their cooldowns, their load on the target): the next
      // cycle starts from this one's samples alone, unless an operator applies the plan meanwhile.
      if (published.appliedVersion !== null || out.moves.length === 0) {
        this.state = out.state;
        this.pending = undefined;
      } else {
        this.state = advanceState(before, live.model, this.deps.policy, nowMs);
        this.pending = { planId: published.planId, state: out.state };
      }
      await savePlan(db, published);
      await savePlannerMemory(db, { state: this.state, pending: this.pending }, nowMs);
      this.metrics.cycles.inc({ result: report.appliedVersion !== undefined ? 'applied' : 'planned' });
      if (out.moves.length > 0)
        logger.info(
          { planId: published.planId, moves: out.moves.length, appliedVersion: published.appliedVersion },
          this.mode === 'auto'
            ? 'capacity moves applied'
            : 'capacity plan has moves (plan mode: not applied)',
        );
      return report;
    } catch (cause) {
      this.metrics.cycles.inc({ result: 'failed' });
      const err = new OverseerError(ErrorCodes.CAPACITY_CYCLE_FAILED, 'capacity cycle failed', {
        details: [String((cause as Error).message || cause)],
        hint: 'the loop runs again next interval; the log has the cause (database, collector or planner)',
        cause,
      });
      this.deps.countError?.(err.code);
      logger.error({ code: err.code, err: cause }, err.message);
      throw err;
    } finally {
      this.metrics.cycleDuration.observe((performance.now() - t0) / 1000);
    }
  }

  /** The published plan was applied (whole) by an operator since the last cycle: its moves were made. */
  private async adoptAppliedPlan(): Promise<void> {
    const pending = this.pending;
    if (pending === undefined) return;
    const stored = await loadPlan(this.deps.db);
    if (stored?.planId === pending.planId && stored.appliedVersion !== null) this.state = pending.state;
    this.pending = undefined;
  }

  /** The new version, or undefined when an operator changed the table since the model was read. */
  private async autoApply(p: PublishedPlan): Promise<number | undefined> {
    const r = await tryApplyChange(this.deps.db, {
      actor: LOOP_ACTOR,
      reason: 'auto',
      tenants: p.moves.map((m) => m.tenant),
      moves: () => p.moves,
      expectVersion: p.basedOn,
      audit: {
        action: 'capacity.apply',
        subject: `plan/${p.planId}`,
        detail: { planId: p.planId, mode: 'auto', inputs: p.inputs },
      },
    });
    if ('stale' in r) {
      this.metrics.cycles.inc({ result: 'stale' });
      this.deps.logger.info(
        { planId: p.planId, details: r.stale },
        'routing table changed meanwhile; plan again next cycle',
      );
      return undefined;
    }
    this.metrics.changed(r);
    return r.version;
  }
}
