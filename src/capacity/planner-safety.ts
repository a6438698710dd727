import type { TenantModel } from './model.js';
import { dedicatedWanted, sharedHostsWanted } from './planner-sizing.js';
import type { Fleet } from './planner-fleet.js';

/**
 * A pinned tenant runs exactly on its pinned hosts: the planner converges the routing table to the pin
 * (outside the budgets: the operator asked for it) and never moves it otherwise.
 */
export function applyPins(fleet: Fleet): void {
  for (const t of fleet.sortedTenants()) {
    if (t.frozen || t.pinned.length === 0) continue;
    const pinned = [...new Set(t.pinned)];
    const mine = fleet.hostsOf(t.name);
    const missing = pinned.filter((h) => !mine.includes(h));
    const extra = mine.filter((h) => !pinned.includes(h));
    const detail = `${t.name} is pinned to ${pinned.join(', ')}`;
    const pairs = Math.min(missing.length, extra.length);
    for (let i = 0; i < pairs; i++)
      fleet.apply(t.name, extra[i]!, missing[i]!, { reason: 'pin', detail }, 'exempt');
    for (const h of missing.slice(pairs)) fleet.apply(t.name, null, h, { reason: 'pin', detail }, 'exempt');
    for (const h of extra.slice(pairs)) fleet.apply(t.name, h, null, { reason: 'pin', detail }, 'exempt');
  }
}

function movable(t: TenantModel): boolean {
  return !t.frozen && t.pinned.length === 0;
}

/**
 * Moves tenants off hosts that are gone from the model or down (N of M samples), then (`drain`) off
 * draining hosts. A tenant left with no other healthy host goes to the least loaded one even above the
 * watermarks; one that still runs elsewhere just leaves a dead host when nothing has room. A drain waits
 * for room instead.
 */
export function evacuate(fleet: Fleet, which: 'down' | 'drain'): void {
  const hosts = [...fleet.hosts.values()]
    .filter((h) => (which === 'down' ? h.down : h.model?.draining === true && !h.down))
    // Gone hosts first: nothing will ever bring them back.
    .sort((a, b) => Number(a.model !== null) - Number(b.model !== null) || (a.name < b.name ? -1 : 1));
  for (const h of hosts) {
    const reason = which === 'drain' ? 'drain' : h.model === null ? 'host-gone' : 'host-down';
    const p = fleet.policy;
    const state =
      which === 'drain'
        ? 'draining'
        : h.model === null
          ? 'no longer in the fleet'
          : `down (${p.downSamples} of the last ${p.windowSamples} samples)`;
    for (const name of [...(fleet.onHost.get(h.name) ?? [])].sort()) {
      const t = fleet.tenants.get(name)!;
      if (!movable(t)) {
        if (t.pinned.length > 0 && which === 'down')
          fleet.note({
            tenant: name,
            host: h.name,
            reason,
            detail: `${name} is pinned to ${h.name}, which is ${state}`,
          });
        continue;
      }
      if (!fleet.budgetLeft()) {
        fleet.deferred++;
        continue;
      }
      const others = fleet.hostsOf(name).filter((x) => x !== h.name && fleet.healthy(x)).length;
      const pool = dedicatedWanted(fleet, t) > 0 ? 'dedicated' : 'shared';
      const to =
        fleet.target(t, { pool, replacing: true }) ??
        (others === 0 ? fleet.target(t, { pool: 'shared', replacing: true, fallback: true }) : null);
      if (to !== null) {
        fleet.apply(
          name,
          h.name,
          to,
          {
            reason,
            detail: `${h.name} is ${state}; ${name} moves to ${to}, now at ${fleet.describeLoad(fleet.hosts.get(to)!)}`,
          },
          'safety',
        );
      } else if (which === 'down' && others > 0) {
        const detail = `${h.name} is ${state} and no host has room; ${name} runs on its ${others} other host(s)`;
        fleet.apply(name, h.name, null, { reason, detail }, 'safety');
      } else {
        fleet.note({
          tenant: name,
          host: h.name,
          reason,
          detail: `${h.name} is ${state}: no host has room for ${name}`,
        });
      }
    }
  }
}

/**
 * Places tenants that run nowhere yet (outside the budgets: nothing running is disturbed), then tops
 * up shared tenants that run on fewer healthy hosts than `minHostsPerTenant`.
 */
export function place(fleet: Fleet): void {
  for (const t of fleet.sortedTenants()) {
    if (!movable(t) || fleet.hostsOf(t.name).length > 0) continue;
    const wanted = dedicatedWanted(fleet, t);
    const count = wanted > 0 ? wanted : sharedHostsWanted(fleet, t);
    for (let i = 0; i < count; i++) {
      const pool = wanted > 0 ? 'dedicated' : 'shared';
      const first = fleet.hostsOf(t.name).length === 0;
      const to =
        fleet.target(t, { pool, hostsAfter: count, exempt: true }) ??
        (first ? fleet.target(t, { pool: 'shared', hostsAfter: count, fallback: true, exempt: true }) : null);
      if (to === null) {
        fleet.note({
          tenant: t.name,
          host: null,
          reason: 'place',
          detail: `${t.name} is new: placed on ${i} of ${count} host(s), no host has room`,
        });
        break;
      }
      fleet.apply(
        t.name,
        null,
        to,
        { reason: 'place', detail: `${t.name} is new: placed on ${count} host(s)` },
        'exempt',
        count,
      );
    }
  }
}

export function keepMinHosts(fleet: Fleet): void {
  const min = fleet.policy.minHostsPerTenant;
  for (const t of fleet.sortedTenants()) {
    if (!movable(t)) continue;
    const mine = fleet.hostsOf(t.name);
    if (mine.length === 0 || (mine.length >= min && mine.every((h) => fleet.healthy(h)))) continue;
    // Still on a down host: evacuation moves it (or has deferred it), adding one here would be twice.
    if (dedicatedWanted(fleet, t) > 0 || mine.some((h) => fleet.hosts.get(h)?.down)) continue;
    let healthy = mine.filter((h) => fleet.healthy(h)).length;
    while (healthy < min) {
      if (!fleet.budgetLeft()) {
        fleet.deferred += min - healthy;
        break;
      }
      const to = fleet.target(t, { pool: 'shared' });
      if (to === null) {
        fleet.note({
          tenant: t.name,
          host: null,
          reason: 'min-hosts',
          detail: `${t.name} runs on ${healthy} healthy host(s) of ${min}: no host has room`,
        });
        break;
      }
      const detail = `${t.name} runs on ${healthy} healthy host(s), fewer than ${min}`;
      if (!fleet.apply(t.name, null, to, { reason: 'min-hosts', detail }, 'safety')) break;
      healthy++;
    }
  }
}
