import { z } from 'zod';
import { bytes, duration } from '../config/units.js';
import { ErrorCodes, OverseerError } from '../errors/index.js';

/**
 * How the planner decides. Every hysteresis in it is here: two watermarks per resource (a host turns
 * hot above `high`, moves stop and targets stay at or below `low`), N-of-M samples before a host counts
 * as hot or down, a settle time during which moved load is projected rather than measured, a cooldown
 * per tenant, and a grow/shrink band.
 */
export interface CapacityPolicy {
  /** Hosts every shared tenant runs on at least. */
  minHostsPerTenant: number;
  /** Most hosts demand may grow a shared tenant to. */
  maxHostsPerTenant: number;
  cpuHighWatermark: number;
  cpuLowWatermark: number;
  memoryHighWatermark: number;
  memoryLowWatermark: number;
  /** M: samples (one per cycle) kept per host. */
  windowSamples: number;
  /** N: a host is hot when N of its last M samples are above a high watermark. */
  hotSamples: number;
  /** A host is down when this many of its last M samples found it down. */
  downSamples: number;
  /** How long a move's load is added to (or taken from) a host's measured load: the measure lags. */
  settleMs: number;
  /** A tenant moved for load (hot, grow, shrink, dedicate) is not moved for load again this soon. */
  tenantCooldownMs: number;
  /** Moves per cycle over all reasons (admin pins are applied whole but use it up). */
  maxMovesPerCycle: number;
  /** Tenants one host takes per cycle. */
  maxMovesPerHostPerCycle: number;
  /** Load moves (hot, grow, shrink, dedicate) of one tenant per cycle; safety moves are not counted. */
  maxMovesPerTenantPerCycle: number;
  /**
   * Absolute floors: a sample above a high watermark counts as hot only when the host also uses at least
   * this much (a 1-core host at 90 % is a quarter of a core: moving tenants for it is noise, not relief).
   */
  hotFloorCpuCores: number;
  hotFloorMemoryBytes: number;
  /**
   * Friction: a tenant leaves a hot host only for one whose load (the higher of cpu and memory) after the
   * move is at least this much below the source's now; otherwise moving it just moves the heat.
   */
  moveMargin: number;
  /** A shared tenant grows while its per-host share of a host (cpu or memory) is above this. */
  growShare: number;
  /** It shrinks by one host when its share on one host fewer would still be below this. */
  shrinkShare: number;
  /** Demand at or above this (cores) makes a tenant dedicated; null: never by cpu. */
  dedicateCpuCores: number | null;
  /** Demand at or above this (bytes) makes a tenant dedicated; null: never by memory. */
  dedicateMemoryBytes: number | null;
  /** An auto-dedicated tenant returns to shared hosts below this fraction of both thresholds. */
  undedicateRatio: number;
  /** Dedicated hosts an auto-dedicated tenant gets at least. */
  minDedicatedHosts: number;
  /** Share of a host (both resources) assumed for a tenant whose demand is unknown. */
  unknownDemandShare: number;
}

export const DEFAULT_POLICY: Readonly<CapacityPolicy> = Object.freeze({
  minHostsPerTenant: 3,
  maxHostsPerTenant: 32,
  cpuHighWatermark: 0.85,
  cpuLowWatermark: 0.75,
  memoryHighWatermark: 0.9,
  memoryLowWatermark: 0.85,
  windowSamples: 3,
  hotSamples: 2,
  downSamples: 2,
  settleMs: 120_000,
  tenantCooldownMs: 300_000,
  maxMovesPerCycle: 50,
  maxMovesPerHostPerCycle: 10,
  maxMovesPerTenantPerCycle: 1,
  hotFloorCpuCores: 0.5,
  hotFloorMemoryBytes: 512 * 1024 ** 2,
  moveMargin: 0.1,
  growShare: 0.3,
  shrinkShare: 0.1,
  dedicateCpuCores: 32,
  dedicateMemoryBytes: 128 * 1024 ** 3,
  undedicateRatio: 0.5,
  minDedicatedHosts: 2,
  unknownDemandShare: 0.05,
});

const ratio = z.number().gt(0).max(1);
const count = z.number().int().min(1);

/**
 * The policy as written in YAML/JSON (`capacity.policy`, a scenario's `policy`): every key optional,
 * durations and sizes with units. Yields the overrides for `policyFrom`.
 */
export const policyOverridesSchema = z
  .strictObject({
    minHostsPerTenant: count.max(1000).optional(),
    maxHostsPerTenant: count.max(1000).optional(),
    cpuHighWatermark: ratio.optional(),
    cpuLowWatermark: ratio.optional(),
    memoryHighWatermark: ratio.optional(),
    memoryLowWatermark: ratio.optional(),
    windowSamples: count.max(100).optional(),
    hotSamples: count.max(100).optional(),
    downSamples: count.max(100).optional(),
    settle: duration.optional(),
    tenantCooldown: duration.optional(),
    maxMovesPerCycle: count.optional(),
    maxMovesPerHostPerCycle: count.optional(),
    maxMovesPerTenantPerCycle: count.optional(),
    hotFloorCpuCores: z.number().min(0).optional(),
    hotFloorMemory: bytes.optional(),
    moveMargin: z.number().min(0).max(1).optional(),
    growShare: ratio.optional(),
    shrinkShare: ratio.optional(),
    dedicateCpuCores: z.number().positive().nullable().optional(),
    dedicateMemory: bytes.nullable().optional(),
    undedicateRatio: z.number().gt(0).lt(1).optional(),
    minDedicatedHosts: count.max(1000).optional(),
    unknownDemandShare: ratio.optional(),
  })
  .transform(
    ({ settle, tenantCooldown, dedicateMemory, hotFloorMemory, ...rest }): Partial<CapacityPolicy> => {
      const out: Partial<CapacityPolicy> = {};
      for (const [k, v] of Object.entries(rest)) if (v !== undefined) Object.assign(out, { [k]: v });
      if (settle !== undefined) out.settleMs = settle;
      if (tenantCooldown !== undefined) out.tenantCooldownMs = tenantCooldown;
      if (dedicateMemory !== undefined) out.dedicateMemoryBytes = dedicateMemory;
      if (hotFloorMemory !== undefined) out.hotFloorMemoryBytes = hotFloorMemory;
      return out;
    },
  );

/** Relations between fields a per-field schema cannot see; each entry is one broken rule. */
/** What makes a whole policy inconsistent (each field may be valid on its own); [] when nothing does. */
export function policyProblems(p: CapacityPolicy): string[] {
  const problems: string[] = [];
  const below = (low: keyof CapacityPolicy, high: keyof CapacityPolicy): void => {
    if (!((p[low] as number) < (p[high] as number))) problems.push(`${low} must be below ${high}`);
  };
  below('cpuLowWatermark', 'cpuHighWatermark');
  below('memoryLowWatermark', 'memoryHighWatermark');
  below('shrinkShare', 'growShare');
  if (p.hotSamples > p.windowSamples) problems.push('hotSamples must be at most windowSamples');
  if (p.downSamples > p.windowSamples) problems.push('downSamples must be at most windowSamples');
  if (p.minHostsPerTenant > p.maxHostsPerTenant)
    problems.push('minHostsPerTenant must be at most maxHostsPerTenant');
  for (const [k, v] of Object.entries(p)) {
    if (v !== null && (typeof v !== 'number' || !Number.isFinite(v) || v < 0))
      problems.push(`${k} must be a finite number ≥ 0`);
  }
  return problems;
}

/** The default policy with the given fields replaced, not checked. */
export function mergedPolicy(overrides: Partial<CapacityPolicy> = {}): CapacityPolicy {
  const policy: CapacityPolicy = { ...DEFAULT_POLICY };
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) Object.assign(policy, { [k]: v });
  return policy;
}

/** The default policy with the given fields replaced (config and scenarios set a subset), checked. */
export function policyFrom(overrides: Partial<CapacityPolicy> = {}): CapacityPolicy {
  const policy = mergedPolicy(overrides);
  const problems = policyProblems(policy);
  if (problems.length > 0) {
    throw new OverseerError(ErrorCodes.CAPACITY_POLICY_INVALID, 'the capacity policy is inconsistent', {
      status: 400,
      exitCode: 2,
      details: problems,
      hint: 'every low watermark must be below its high one, and N-of-M sample counts at most windowSamples',
    });
  }
  return policy;
}
