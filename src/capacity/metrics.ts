import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { CapacityModel, Move } from './model.js';

export const HOST_STATES = ['up', 'down', 'cordoned', 'draining', 'unknown_load'] as const;

/** The capacity loop's own metrics (routing version, moves, cycle time, hosts by state). */
export class CapacityMetrics {
  readonly routingVersion: Gauge;
  readonly proposed: Counter<'reason'>;
  readonly applied: Counter<'reason'>;
  readonly cycles: Counter<'result'>;
  readonly planDuration: Histogram;
  readonly cycleDuration: Histogram;
  readonly hosts: Gauge<'state'>;
  private version = -1;

  constructor(registry: Registry, isLeader: () => boolean) {
    const registers = [registry];
    this.routingVersion = new Gauge({
      name: 'overseer_capacity_routing_version',
      help: 'Version of the capacity routing table this process last read or wrote (only grows).',
      registers,
    });
    this.proposed = new Counter({
      name: 'overseer_capacity_moves_proposed_total',
      help: 'Moves the planner proposed, by reason (host-hot, host-down, drain, min-hosts, …); counted once per cycle.',
      labelNames: ['reason'],
      registers,
    });
    this.applied = new Counter({
      name: 'overseer_capacity_moves_applied_total',
      help: 'Moves written to the routing table, by reason (admin moves and pins included).',
      labelNames: ['reason'],
      registers,
    });
    this.cycles = new Counter({
      name: 'overseer_capacity_cycles_total',
      help: 'Capacity loop cycles by result: planned, applied (auto mode wrote a version), failed, stale (the table changed meanwhile).',
      labelNames: ['result'],
      registers,
    });
    this.planDuration = new Histogram({
      name: 'overseer_capacity_plan_duration_seconds',
      help: 'Time the planner itself took per cycle (the pure function, no I/O).',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    });
    this.cycleDuration = new Histogram({
      name: 'overseer_capacity_cycle_duration_seconds',
      help: 'Time a whole capacity cycle took: reading the model, planning, publishing, applying.',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.hosts = new Gauge({
      name: 'overseer_capacity_hosts',
      help: 'Hosts in the capacity model by state (a host can be in several: cordoned and draining).',
      labelNames: ['state'],
      registers,
    });
    new Gauge({
      name: 'overseer_capacity_leader',
      help: '1 while this process runs the capacity loop (holds its leader lock), else 0.',
      registers,
      collect() {
        this.set(isLeader() ? 1 : 0);
      },
    });
  }

  observeModel(model: CapacityModel): void {
    const counts = Object.fromEntries(HOST_STATES.map((s) => [s, 0])) as Record<
      (typeof HOST_STATES)[number],
      number
    >;
    for (const h of model.hosts) {
      counts[h.up ? 'up' : 'down']++;
      if (h.cordoned) counts.cordoned++;
      if (h.draining) counts.draining++;
      if (h.cpu === null || h.memory === null) counts.unknown_load++;
    }
    for (const s of HOST_STATES) this.hosts.set({ state: s }, counts[s]);
  }

  /** A change written to the routing table (by the loop or an operator). */
  changed(r: { version: number; moves: readonly Move[] }): void {
    for (const m of r.moves) this.applied.inc({ reason: m.reason });
    this.seenVersion(r.version);
  }

  /** The routing version gauge follows the newest version seen: an older read never sets it back. */
  seenVersion(version: number): void {
    if (version <= this.version) return;
    this.version = version;
    this.routingVersion.set(version);
  }
}
