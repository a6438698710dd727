import { describe, expect, it } from 'vitest';
import { baseUnit, unitFor, type Shown } from './units.js';

describe('unitFor', () => {
  it.each<[string, string | undefined, Shown, string]>([
    // Values: the name's unit suffix.
    ['http_request_duration_seconds', undefined, 'value', 's'],
    ['db_query_milliseconds', undefined, 'value', 'ms'],
    ['process_resident_memory_bytes', undefined, 'value', 'bytes'],
    ['cache_hit_ratio', undefined, 'value', 'percentunit'],
    ['node_hwmon_temp_celsius', undefined, 'value', 'celsius'],
    ['disk_used_percent', undefined, 'value', 'percent'],
    ['queue_depth', undefined, 'value', 'short'],
    ['seconds', undefined, 'value', 'short'],
    ['process_cpu_seconds_total', undefined, 'value', 's'],
    // Rates of counters.
    ['process_cpu_seconds_total', undefined, 'rate', 's'],
    ['gc_pause_milliseconds_total', undefined, 'rate', 'ms'],
    ['node_network_receive_bytes_total', undefined, 'rate', 'Bps'],
    ['http_requests_total', undefined, 'rate', 'ops'],
    ['rpc_seconds_count', undefined, 'rate', 'ops'],
    ['cache_hit_ratio_total', undefined, 'rate', 'ops'],
    // OpenMetrics: family names without `_total`; a UNIT wins over the name.
    ['process_cpu_seconds', 'seconds', 'rate', 's'],
    ['net_received_bytes', 'bytes', 'rate', 'Bps'],
    ['requests', undefined, 'rate', 'ops'],
    ['request_latency', 'seconds', 'value', 's'],
    ['weird', 'constructor', 'value', 'short'],
    ['weird', 'constructor', 'rate', 'ops'],
    ['weird_bytes', '', 'value', 'bytes'],
  ])('%s (UNIT %s) as %s → %s', (name, unit, shown, want) => {
    expect(unitFor({ name, unit }, shown)).toBe(want);
  });
});

describe('baseUnit', () => {
  it.each<[string, string | undefined, string | undefined]>([
    ['a_seconds', undefined, 'seconds'],
    ['a_seconds_total', undefined, 'seconds'],
    ['a_total', undefined, undefined],
    ['a_seconds_bucket', undefined, undefined],
    ['a', 'joules', 'joules'],
  ])('%s (UNIT %s) → %s', (name, unit, want) => {
    expect(baseUnit(name, unit)).toBe(want);
  });
});
