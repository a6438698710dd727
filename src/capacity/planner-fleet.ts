import type { CapacityModel, Move, TenantModel } from './model.js';
import { goneHost, hostViews, type HostView } from './planner-hosts.js';
import type { PendingMove, PlannerState } from './planner-state.js';
import type { CapacityPolicy } from './policy.js';

/**
 * `exempt`: outside the move budgets — an operator's pin, and the first placement of a new tenant (it
 * disturbs nothing that runs). `safety`: keeps tenants served (down hosts, drains, min hosts, explicit
 * dedication), within the budgets. `load`: balances (hot hosts, grow, shrink, auto dedication), within
 * the budgets, and it starts the tenant's cooldown.
 */
export type { HostView } from './planner-hosts.js';

export type MoveKind = 'exempt' | 'safety' | 'load';

export interface TargetOptions {
  pool: 'shared' | 'dedicated';
  /** The tenant would otherwise run nowhere: take the least loaded eligible host, watermarks or not. */
  fallback?: boolean;
  /** The target replaces one of its hosts (a move), rather than adding one. */
  replacing?: boolean;
  /** Hosts its demand is split over afterwards, when that is neither of the above. */
  hostsAfter?: number;
  /** Outside the budgets (a first placement): a host's per-cycle limit does not apply either. */
  exempt?: boolean;
}

/** Something the planner wanted but could not do; shown by `plan` and kept with it. */
export interface Unmet {
  tenant: string | null;
  host: string | null;
  reason: string;
  detail: string;
}

export const MAX_UNMET = 1000;

const pct = (r: number): string => `${Math.round(r * 100)}%`;

/** The working copy one plan() call mutates: assignments, projected loads, budgets, moves. */
export class Fleet {
  readonly hosts = new Map<string, HostView>();
  readonly tenants = new Map<string, TenantModel>();
  readonly assignment = new Map<string, string[]>();
  readonly onHost = new Map<string, Set<string>>();
  readonly moves: Move[] = [];
  readonly unmet: Unmet[] = [];
  unmetTotal = 0;
  deferred = 0;
  /** This cycle's moves with the load each shifted, for the next cycle to confirm. */
  readonly pending: PendingMove[] = [];
  /** Tenants moved for load this cycle: no second load move before their cooldown is even recorded. */
  readonly loadMoved = new Set<string>();
  /** Load moves per tenant this cycle, against maxMovesPerTenantPerCycle. */
  private readonly loadMoves = new Map<string, number>();
  /** Host count of each tenant before this cycle's moves. */
  private readonly initialHosts = new Map<string, number>();
  private used = 0;
  /** The two pools sorted by name: scanned for every target chosen, ties go to the first. */
  private readonly sharedHosts: HostView[] = [];
  private readonly dedicatedHosts: HostView[] = [];

  constructor(
    model: CapacityModel,
    readonly policy: CapacityPolicy,
    readonly state: PlannerState,
    readonly nowMs: number,
  ) {
    for (const view of hostViews(model, policy, state)) {
      this.hosts.set(view.name, view);
      (view.model!.pool === 'shared' ? this.sharedHosts : this.dedicatedHosts).push(view);
    }
    const byName = (a: HostView, b: HostView): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    this.sharedHosts.sort(byName);
    this.dedicatedHosts.sort(byName);
    for (const t of model.tenants) this.tenants.set(t.name, t);
    for (const [tenant, list] of Object.entries(model.assignments)) {
      const hosts = [...new Set(list)];
      this.assignment.set(tenant, hosts);
      this.initialHosts.set(tenant, hosts.length);
      if (!this.tenants.has(tenant))
        this.tenants.set(tenant, { name: tenant, demand: null, pinned: [], dedicated: 0, frozen: false });
      for (const h of hosts) this.hostSet(h).add(tenant);
    }
    for (const t of this.tenants.keys()) if (!this.assignment.has(t)) this.assignment.set(t, []);
    for (const h of this.onHost.keys()) if (!this.hosts.has(h)) this.hosts.set(h, goneHost(h));
  }

  hostSet(host: string): Set<string> {
    let s = this.onHost.get(host);
    if (!s) this.onHost.set(host, (s = new Set()));
    return s;
  }

  hostsOf(tenant: string): string[] {
    return this.assignment.get(tenant) ?? [];
  }

  healthy(host: string): boolean {
    const h = this.hosts.get(host);
    return h !== undefined && h.model !== null && !h.down;
  }

  private sorted: TenantModel[] | undefined;

  /** Tenants sorted by name, for a deterministic plan (the set is fixed once constructed). */
  sortedTenants(): TenantModel[] {
    this.sorted ??= [...this.tenants.values()].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    return this.sorted;
  }

  /** Share of `host` the tenant takes when it runs on `k` hosts: its demand split evenly. */
  share(tenant: TenantModel, host: HostView, k: number): { cpu: number; memory: number } {
    const d = tenant.demand;
    const m = host.model;
    if (m === null) return { cpu: 0, memory: 0 };
    if (d === null) return { cpu: this.policy.unknownDemandShare, memory: this.policy.unknownDemandShare };
    const per = Math.max(1, k);
    return {
      cpu: m.cpuCores > 0 ? d.cpu / per / m.cpuCores : 1,
      memory: m.memoryBytes > 0 ? d.memoryBytes / per / m.memoryBytes : 1,
    };
  }

  private readonly means = new Map<'shared' | 'dedicated', { cores: number; memory: number }>();

  /** Mean host size of a pool (0 without hosts): sizes a tenant's host count before it has hosts. */
  poolMeans(pool: 'shared' | 'dedicated'): { cores: number; memory: number } {
    let m = this.means.get(pool);
    if (m === undefined) {
      const views = pool === 'shared' ? this.sharedHosts : this.dedicatedHosts;
      const n = Math.max(1, views.length);
      m = {
        cores: views.reduce((a, h) => a + h.model!.cpuCores, 0) / n,
        memory: views.reduce((a, h) => a + h.model!.memoryBytes, 0) / n,
      };
      this.means.set(pool, m);
    }
    return m;
  }

  coolingDown(tenant: string): boolean {
    return this.loadMoved.has(tenant) || Object.hasOwn(this.state.cooldowns, tenant);
  }

  note(u: Unmet): void {
    this.unmetTotal++;
    if (this.unmet.length < MAX_UNMET) this.unmet.push(u);
  }

  /** `tenant` null: not held to the per-tenant budget. */
  hasBudget(kind: MoveKind, to: string | null, tenant: string | null): boolean {
    if (kind === 'exempt') return true;
    if (this.used >= this.policy.maxMovesPerCycle) return false;
    const moved = tenant === null ? 0 : (this.loadMoves.get(tenant) ?? 0);
    if (kind === 'load' && moved >= this.policy.maxMovesPerTenantPerCycle) return false;
    return to === null || (this.hosts.get(to)?.incoming ?? 0) < this.policy.maxMovesPerHostPerCycle;
  }

  budgetLeft(): boolean {
    return this.used < this.policy.maxMovesPerCycle;
  }

  /**
   * The best host for one more copy of `tenant`: eligible, not hosting it, and below both low watermarks
   * after taking its share; the least loaded after the move wins, ties by name.
   */
  target(tenant: TenantModel, opts: TargetOptions): string | null {
    const { pool, fallback = false } = opts;
    const mine = this.hostsOf(tenant.name);
    const k = opts.hostsAfter ?? (opts.replacing ? mine.length : mine.length + 1);
    const p = this.policy;
    let best: HostView | null = null;
    let bestLoad = Infinity;
    let spare: HostView | null = null;
    let spareLoad = Infinity;
    for (const h of pool === 'shared' ? this.sharedHosts : this.dedicatedHosts) {
      const m = h.model!;
      if (!h.steady || h.down || m.cordoned || m.draining || mine.includes(h.name)) continue;
      if (!opts.exempt && h.incoming >= p.maxMovesPerHostPerCycle) continue;
      if (pool === 'dedicated') {
        const others = this.onHost.get(h.name)?.size ?? 0;
        if (m.dedicatedTo === tenant.name) return h.name;
        if (m.dedicatedTo !== null || others > 0) continue;
        best ??= h;
        continue;
      }
      const s = this.share(tenant, h, k);
      const load = Math.max(h.cpu + s.cpu, h.memory + s.memory);
      if (fallback && load < spareLoad) {
        spare = h;
        spareLoad = load;
      }
      if (h.hot || h.relieved) continue;
      if (h.cpu + s.cpu > p.cpuLowWatermark || h.memory + s.memory > p.memoryLowWatermark) continue;
      if (load < bestLoad) {
        best = h;
        bestLoad = load;
      }
    }
    return (best ?? spare)?.name ?? null;
  }

  /** Records a move and its projected load; false (and counted as deferred) when over budget. */
  apply(
    tenantName: string,
    from: string | null,
    to: string | null,
    why: Pick<Move, 'reason' | 'detail'>,
    kind: MoveKind,
    hostsAfter?: number,
  ): boolean {
    // A dedication moves the whole tenant at once (its dedicated hosts in, its shared ones out): half of
    // one is worse than either end, so it is one step of the tenant's budget however many moves it takes.
    const whole = why.reason === 'dedicate' || why.reason === 'undedicate';
    if (!this.hasBudget(kind, to, whole ? null : tenantName)) {
      this.deferred++;
      return false;
    }
    const tenant = this.tenants.get(tenantName)!;
    const list = this.hostsOf(tenantName);
    const k = list.length;
    const entry: PendingMove = {
      tenant: tenantName,
      from,
      to,
      load: kind === 'load',
      atMs: this.nowMs,
      deltas: [],
    };
    this.pending.push(entry);
    const shift = (h: HostView, s: { cpu: number; memory: number }, sign: 1 | -1): void => {
      const cpu = sign * s.cpu;
      const memory = sign * s.memory;
      h.cpu += cpu;
      h.memory += memory;
      if (h.model !== null && (cpu !== 0 || memory !== 0))
        entry.deltas.push({
          host: h.name,
          cpu,
          memory,
          atMs: this.nowMs,
          baseCpu: h.model.up ? h.model.cpu : null,
          baseMemory: h.model.up ? h.model.memory : null,
        });
    };
    if (from !== null) {
      const src = this.hosts.get(from);
      // What the source's measure holds is the tenant's share as routed before this cycle.
      const measured = src ? this.share(tenant, src, this.initialHosts.get(tenantName) ?? k) : null;
      if (src && measured) shift(src, measured, -1);
      if (src && to === null) {
        // The rest of the tenant's hosts now carry its demand over one host fewer.
        for (const h of list) {
          const v = this.hosts.get(h);
          if (h === from || !v) continue;
          const before = this.share(tenant, v, k);
          const after = this.share(tenant, v, k - 1);
          shift(v, { cpu: after.cpu - before.cpu, memory: after.memory - before.memory }, 1);
        }
      }
      this.onHost.get(from)?.delete(tenantName);
    }
    if (to !== null) {
      const dst = this.hosts.get(to)!;
      shift(dst, this.share(tenant, dst, hostsAfter ?? (from === null ? k + 1 : k)), 1);
      dst.incoming++;
      this.hostSet(to).add(tenantName);
    }
    let next: string[];
    if (from !== null && to !== null) next = list.map((h) => (h === from ? to : h));
    else if (from !== null) next = list.filter((h) => h !== from);
    else next = [...list, to!];
    this.assignment.set(tenantName, next);
    this.moves.push({ tenant: tenantName, from, to, reason: why.reason, detail: why.detail });
    if (kind !== 'exempt') this.used++;
    if (kind === 'load') {
      this.loadMoved.add(tenantName);
      this.loadMoves.set(tenantName, (this.loadMoves.get(tenantName) ?? 0) + 1);
    }
    return true;
  }

  describeLoad(h: HostView): string {
    return `cpu ${pct(h.cpu)} memory ${pct(h.memory)}`;
  }
}

export { pct };
