import { describe, expect, it } from 'vitest';
import { ErrorCodes, OverseerError } from '../errors/index.js';
import { DEFAULT_POLICY, policyFrom, policyOverridesSchema, type CapacityPolicy } from './policy.js';

describe('policyFrom', () => {
  it('is the default policy with the given fields replaced', () => {
    expect(policyFrom()).toEqual(DEFAULT_POLICY);
    expect(policyFrom({ minHostsPerTenant: 2, dedicateCpuCores: null })).toEqual({
      ...DEFAULT_POLICY,
      minHostsPerTenant: 2,
      dedicateCpuCores: null,
    });
  });

  it.each<[string, Partial<CapacityPolicy>, string]>([
    ['cpu low ≥ high', { cpuLowWatermark: 0.9 }, 'cpuLowWatermark must be below cpuHighWatermark'],
    [
      'memory low = high',
      { memoryLowWatermark: 0.9 },
      'memoryLowWatermark must be below memoryHighWatermark',
    ],
    ['shrink ≥ grow', { shrinkShare: 0.5 }, 'shrinkShare must be below growShare'],
    ['N > M', { hotSamples: 4 }, 'hotSamples must be at most windowSamples'],
    ['down N > M', { windowSamples: 1, hotSamples: 1 }, 'downSamples must be at most windowSamples'],
    ['min > max hosts', { minHostsPerTenant: 40 }, 'minHostsPerTenant must be at most maxHostsPerTenant'],
    ['negative', { settleMs: -1 }, 'settleMs must be a finite number ≥ 0'],
    ['NaN', { growShare: Number.NaN }, 'growShare must be a finite number ≥ 0'],
  ])('refuses an inconsistent policy: %s', (_name, overrides, problem) => {
    let err: unknown;
    try {
      policyFrom(overrides);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OverseerError);
    const e = err as OverseerError;
    expect(e.code).toBe(ErrorCodes.CAPACITY_POLICY_INVALID);
    expect(e.details).toContain(problem);
    expect(e.hint).toBeTruthy();
    expect(e.exitCode).toBe(2);
  });
});

describe('policyOverridesSchema', () => {
  it('reads durations and sizes with units', () => {
    expect(
      policyOverridesSchema.parse({
        settle: '1m',
        tenantCooldown: '10m',
        dedicateMemory: '64GiB',
        cpuHighWatermark: 0.8,
        dedicateCpuCores: null,
      }),
    ).toEqual({
      settleMs: 60_000,
      tenantCooldownMs: 600_000,
      dedicateMemoryBytes: 64 * 2 ** 30,
      cpuHighWatermark: 0.8,
      dedicateCpuCores: null,
    });
    expect(policyOverridesSchema.parse({})).toEqual({});
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['an unknown key', { cpuHigh: 0.8 }, 'cpuHigh'],
    ['a ratio above 1', { cpuHighWatermark: 1.5 }, 'cpuHighWatermark'],
    ['a zero ratio', { growShare: 0 }, 'growShare'],
    ['zero samples', { hotSamples: 0 }, 'hotSamples'],
    ['a fractional count', { maxMovesPerCycle: 2.5 }, 'maxMovesPerCycle'],
    ['a duration without a unit', { settle: 60 }, 'settle'],
    ['a bad size', { dedicateMemory: 'lots' }, 'dedicateMemory'],
  ])('refuses %s', (_name, input, path) => {
    const r = policyOverridesSchema.safeParse(input);
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain(path);
  });
});
