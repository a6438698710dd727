/**
 * Grafana unit ids for a metric family, from the unit its name (or its OpenMetrics UNIT) declares and how a
 * panel shows it: a value as it is, or the per-second rate of a counter.
 */

/** How a panel shows the family: its value (gauge, quantile, mean), or a counter's rate. */
export type Shown = 'value' | 'rate';

/** Base units Prometheus naming puts at the end of a name, and their Grafana ids when shown as values. */
const VALUE_UNITS = new Map([
  ['seconds', 's'],
  ['milliseconds', 'ms'],
  ['bytes', 'bytes'],
  ['ratio', 'percentunit'],
  ['celsius', 'celsius'],
  ['percent', 'percent'],
]);

/**
 * A rate divides by seconds: seconds per second is still shown in seconds (busy time, e.g. CPU seconds),
 * milliseconds alike, bytes per second is throughput; any other counter counts events.
 */
const RATE_UNITS = new Map([
  ['seconds', 's'],
  ['milliseconds', 'ms'],
  ['bytes', 'Bps'],
]);

/** The family's base unit: its OpenMetrics UNIT when it has one, else the name's last token before `_total`. */
export function baseUnit(name: string, unit?: string): string | undefined {
  if (unit !== undefined && unit !== '') return unit;
  const stem = name.endsWith('_total') ? name.slice(0, -'_total'.length) : name;
  return [...VALUE_UNITS.keys()].find((u) => stem.endsWith(`_${u}`));
}

/** The Grafana unit id of a family shown as `shown`; `short` (plain numbers) when the unit is unknown. */
export function unitFor(family: { name: string; unit?: string | undefined }, shown: Shown): string {
  const base = baseUnit(family.name, family.unit);
  // Maps, not object literals: an OpenMetrics UNIT is exporter text and `constructor` is no unit.
  if (shown === 'rate') return RATE_UNITS.get(base ?? '') ?? 'ops';
  return VALUE_UNITS.get(base ?? '') ?? 'short';
}
