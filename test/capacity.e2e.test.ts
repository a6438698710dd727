import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublishedPlan } from '../src/capacity/plan-store.js';
import { demandWindowStart } from '../src/capacity/demand.js';
import { runCli } from '../src/cli.js';
import type { AssignmentsView, PlanView } from '../src/cli/capacity-render.js';
import { ErrorCodes } from '../src/errors/index.js';
import { startTestOverseer, type TestOverseer } from './helpers/overseer-instance.js';
import { waitFor } from './helpers/poll.js';
import { createTestDatabase, type TestDatabase } from './helpers/test-db.js';

const HOSTS = ['h1', 'h2', 'h3', 'h4', 'h5'];
const CORES = 4;
const MEM_TOTAL = 16 * 1024 ** 3;

/**
 * node_exporter look-alikes on one port, /h1 … /h5: node_cpu_seconds_total counters that advance by real
 * time at the busy share the test sets, and memory gauges. The collector scrapes them like any exporter.
 */
class FakeNodes {
  readonly server: Server;
  readonly busy: Record<string, number> = Object.fromEntries(HOSTS.map((h) => [h, 0.2]));
  /** Hosts whose exporter answers 503: their scrapes fail, the collector reports them down. */
  readonly down = new Set<string>();
  private readonly counters = new Map<string, { idle: number; user: number; at: number }>();

  constructor() {
    this.server = createServer((req, res) => {
      const host = (req.url ?? '').slice(1);
      if (!HOSTS.includes(host)) return void res.writeHead(404).end();
      if (this.down.has(host)) return void res.writeHead(503).end('down');
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(this.exposition(host));
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private exposition(host: string): string {
    const now = performance.now() / 1000;
    const c = this.counters.get(host) ?? { idle: 1000, user: 1000, at: now };
    const dt = now - c.at;
    c.idle += dt * (1 - this.busy[host]!);
    c.user += dt * this.busy[host]!;
    c.at = now;
    this.counters.set(host, c);
    const lines = ['# TYPE node_cpu_seconds_total counter'];
    for (let cpu = 0; cpu < CORES; cpu++) {
      lines.push(`node_cpu_seconds_total{cpu="${cpu}",mode="idle"} ${c.idle.toFixed(3)}`);
      lines.push(`node_cpu_seconds_total{cpu="${cpu}",mode="user"} ${c.user.toFixed(3)}`);
    }
    lines.push('# TYPE node_memory_MemTotal_bytes gauge', `node_memory_MemTotal_bytes ${MEM_TOTAL}`);
    lines.push(
      '# TYPE node_memory_MemAvailable_bytes gauge',
      `node_memory_MemAvailable_bytes ${MEM_TOTAL * 0.7}`,
    );
    return `${lines.join('\n')}\n`;
  }
}

/** `overseer <args>` in this process against the running service, output captured. */
async function cli(o: TestOverseer, args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(args, {
    env: { OVERSEER_URL: o.url, OVERSEER_TOKEN: o.token },
    output: {
      out: (t) => (out += t.endsWith('\n') ? t : `${t}\n`),
      err: (t) => (err += t.endsWith('\n') ? t : `${t}\n`),
    },
    stopSignal: () => new Promise<string>(() => undefined),
  });
  return { code, out, err };
}

/** Billing records that make each tenant's demand `cores` over the default 1 h demand window. */
async function billDemand(o: TestOverseer, tenants: Record<string, number>): Promise<void> {
  const now = Date.now();
  const spanMs = now - demandWindowStart(now, 3_600_000);
  const body = Object.entries(tenants)
    .map(([tenant, cores], i) =>
      JSON.stringify({
        id: `cap-${tenant}-${now}-${i}`,
        tenant,
        space: 's1',
        host: 'gw',
        ts: new Date(now).toISOString(),
        cpu_ms: Math.round(cores * spanMs),
        memory_byte_seconds: 0.5e9 * (spanMs / 1000),
        messages: 1,
        bytes_in: 1,
        bytes_out: 1,
      }),
    )
    .join('\n');
  const res = await fetch(`${o.url}/api/v1/billing/records`, {
    method: 'POST',
    headers: { authorization: `Bearer ${o.token}`, 'content-type': 'application/x-ndjson' },
    body,
  });
  expect(res.status).toBe(200);
}

async function startWith(db: TestDatabase, base: string, mode: 'plan' | 'auto'): Promise<TestOverseer> {
  return startTestOverseer(
    db,
    {
      scrapeInterval: '1s',
      scrapeTimeout: '900ms',
      loadWindow: '3s',
      selfScrape: false,
      targets: HOSTS.map((h) => ({ url: `${base}/${h}`, labels: { host: h, job: 'node' } })),
    },
    { capacity: { interval: '1s', mode } },
  );
}

const hostsOf = (v: AssignmentsView, tenant: string): string[] =>
  v.tenants.find((t) => t.name === tenant)?.hosts ?? [];

describe('capacity end to end: real collector, test exporters, the service and the CLI', () => {
  let nodes: FakeNodes;
  let base: string;
  beforeAll(async () => {
    nodes = new FakeNodes();
    base = await nodes.listen();
  });
  afterAll(async () => {
    nodes?.server.closeAllConnections();
    await new Promise((r) => nodes?.server.close(r));
  });

  describe('plan mode (the default): the plan responds, operators apply', () => {
    let db: TestDatabase;
    let o: TestOverseer;
    beforeAll(async () => {
      db = await createTestDatabase();
      o = await startWith(db, base, 'plan');
    });
    afterAll(async () => {
      await o?.stop();
      await db?.drop();
    });

    const assignments = () => o.get<AssignmentsView>('/api/v1/capacity/assignments');
    const currentPlan = () => o.get<PlanView>('/api/v1/capacity/plan');

    it('places billed tenants, sheds a host the test makes hot, and applies through the CLI', async () => {
      // Every host scraped with its size, load known.
      await waitFor(
        'five hosts with known load',
        async () =>
          (await assignments()).hosts.filter((h) => h.cpu !== null && h.up && h.cpuCores === CORES).length ===
          5
            ? true
            : undefined,
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      await billDemand(o, { t1: 1.2, t2: 1.2 });
      // New tenants: the planner places them; plan mode waits for an operator.
      const placing = await waitFor(
        'a plan placing t1 and t2',
        async () => {
          const v = await currentPlan();
          const ts = new Set(v.plan?.moves.filter((m) => m.reason === 'place').map((m) => m.tenant));
          return ts.has('t1') && ts.has('t2') ? v : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      expect(placing.version).toBe(0);

      const refused = await cli(o, ['capacity', 'apply']);
      expect(refused.code).toBe(2);
      expect(refused.err).toContain(`error ${ErrorCodes.CAPACITY_APPLY_UNCONFIRMED}`);
      expect((await o.get<{ version: number }>('/api/v1/capacity/routes')).version).toBe(0);

      const applied = await waitFor('apply --yes to apply a current plan', async () => {
        const r = await cli(o, ['capacity', 'apply', '--yes']);
        return r.code === 0 ? r : undefined;
      });
      expect(applied.out).toMatch(/applied \d+ move\(s\): routing version 1/);
      let view = await assignments();
      expect(hostsOf(view, 't1')).toHaveLength(3);
      expect(hostsOf(view, 't2')).toHaveLength(3);

      // Make one of t1's hosts hot; the others stay cool.
      const hot = hostsOf(view, 't1')[0]!;
      nodes.busy[hot] = 0.95;
      const t0 = performance.now();
      const shed = await waitFor(
        `a plan moving a tenant off ${hot}`,
        async () => {
          const v = await currentPlan();
          return v.plan?.moves.some((m) => m.from === hot && m.reason === 'host-hot') ? v.plan : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      const seconds = (performance.now() - t0) / 1000;
      // The CPU ratio covers a 3 s window and the planner wants 2 of 3 hot samples, 1 s apart.
      expect(seconds).toBeLessThan(15);
      const move = shed.moves.find((m) => m.from === hot)!;
      expect(shed.inputs.hosts[hot]!.cpu).toBeGreaterThan(0.85);
      const shown = await cli(o, ['capacity', 'plan']);
      expect(shown.out).toContain(`${hot} → ${move.to}`);
      expect(shown.out).toMatch(/host-hot/);

      await waitFor('the shed to be applied', async () =>
        (await cli(o, ['capacity', 'apply', '-y'])).code === 0 ? true : undefined,
      );
      view = await assignments();
      expect(hostsOf(view, move.tenant)).not.toContain(hot);
      expect(hostsOf(view, move.tenant)).toContain(move.to);
      nodes.busy[hot] = 0.2;

      const audit = await o.get<{
        entries: Array<{
          actor: string;
          action: string;
          detail: { mode?: string; inputs?: PublishedPlan['inputs'] };
        }>;
      }>('/api/v1/audit?limit=20');
      const applies = audit.entries.filter((e) => e.action === 'capacity.apply');
      expect(applies.length).toBeGreaterThanOrEqual(2);
      expect(applies[0]!.detail.inputs!.hosts[hot]!.cpu).toBeGreaterThan(0.85);
    });

    it('runs every admin command through the service', async () => {
      const ok = async (args: string[]) => {
        const r = await cli(o, args);
        expect(r.err, args.join(' ')).not.toMatch(/error/);
        expect(r.code, `${args.join(' ')}: ${r.err}`).toBe(0);
        return r.out;
      };
      const show = await ok(['capacity', 'show']);
      for (const h of HOSTS) expect(show).toMatch(new RegExp(`^${h}\\s+up\\s+shared\\s+4c/16G\\s+\\[`, 'm'));
      const json = JSON.parse(await ok(['--json', 'capacity', 'show'])) as AssignmentsView;
      const t1Hosts = hostsOf(json, 't1');
      const free = HOSTS.filter((h) => !t1Hosts.includes(h));

      expect(await ok(['capacity', 'cordon', free[0]!])).toContain('cordoned');
      const cordoned = await cli(o, ['capacity', 'move', 't1', '--to', free[0]!]);
      expect(cordoned.code).toBe(3);
      expect(cordoned.err).toMatch(new RegExp(`server error ${ErrorCodes.CAPACITY_MOVE_INVALID}`));
      expect(cordoned.err).toContain(`${free[0]} is cordoned`);
      await ok(['capacity', 'uncordon', free[0]!]);

      expect(await ok(['capacity', 'move', 't1', '--from', t1Hosts[0]!, '--to', free[0]!])).toContain(
        `t1: ${t1Hosts[0]} → ${free[0]}`,
      );
      const pinned = await ok(['capacity', 'pin', 't2', 'h1', 'h2', 'h3']);
      expect(pinned).toContain('t2 pinned to h1 h2 h3');
      expect(hostsOf(await assignments(), 't2')).toEqual(['h1', 'h2', 'h3']);
      const pinnedMove = await cli(o, ['capacity', 'move', 't2', '--to', 'h4']);
      expect(pinnedMove.err).toContain(`server error ${ErrorCodes.CAPACITY_TENANT_PINNED}`);
      await ok(['capacity', 'unpin', 't2']);
      await ok(['capacity', 'dedicate', 't2', '0']);
      const badCount = await cli(o, ['capacity', 'dedicate', 't2', 'many']);
      expect(badCount.code).toBe(2);
      expect(badCount.err).toContain(`error ${ErrorCodes.CAPACITY_CLI_ARG_INVALID}`);
      await ok(['capacity', 'freeze', '--tenant', 't1']);
      expect((await assignments()).tenants.find((t) => t.name === 't1')?.frozen).toBe(true);
      await ok(['capacity', 'unfreeze', '--tenant', 't1']);
      await ok(['capacity', 'freeze']);
      expect((await assignments()).frozen).toBe(true);
      await ok(['capacity', 'unfreeze']);
      expect((await assignments()).frozen).toBe(false);

      // Drain: in plan mode the command applies the plan's drain moves itself, within the budgets.
      const victim = 'h2';
      const before = (await assignments()).hosts.find((h) => h.name === victim)!.tenants;
      expect(before.length).toBeGreaterThan(0);
      const drained = await cli(o, ['capacity', 'drain', victim, '--timeout', '40s', '--poll', '500ms']);
      expect(drained.err, drained.err).not.toMatch(/^error/m);
      expect(drained.code).toBe(0);
      expect(drained.out).toMatch(new RegExp(`${victim} drained: ${before.length} tenant\\(s\\) moved`));
      expect(drained.err).toMatch(
        new RegExp(`^${victim}: ${before.length} tenant\\(s\\) left, 0 moved`, 'm'),
      );
      expect(drained.err).toMatch(
        new RegExp(`^${victim}: 0 tenant\\(s\\) left, ${before.length} moved`, 'm'),
      );
      const after = await assignments();
      expect(after.hosts.find((h) => h.name === victim)).toMatchObject({
        tenants: [],
        draining: true,
        cordoned: true,
      });
      for (const t of after.tenants.filter((x) => x.hosts.length > 0))
        expect(t.hosts.length).toBeGreaterThanOrEqual(3);
      await ok(['capacity', 'uncordon', victim]);

      const audit = await o.get<{ entries: Array<{ actor: string; action: string }> }>(
        '/api/v1/audit?limit=100',
      );
      const actions = new Set(audit.entries.map((e) => e.action));
      for (const a of [
        'capacity.host.cordon',
        'capacity.host.uncordon',
        'capacity.host.drain',
        'capacity.move',
        'capacity.pin',
        'capacity.tenant.update',
        'capacity.freeze',
        'capacity.unfreeze',
        'capacity.apply',
      ])
        expect(actions, a).toContain(a);
    });

    it('serves the routing table to gateways with ETag and ?since=', async () => {
      const res = await fetch(`${o.url}/api/v1/capacity/routes`, {
        headers: { authorization: `Bearer ${o.token}` },
      });
      const table = (await res.json()) as { version: number; routes: Record<string, string[]> };
      expect(res.headers.get('etag')).toBe(`"routes-${table.version}"`);
      const again = await fetch(`${o.url}/api/v1/capacity/routes?since=${table.version}`, {
        headers: { authorization: `Bearer ${o.token}` },
      });
      expect(again.status).toBe(304);
      const metrics = await (await fetch(`${o.url}/metrics`)).text();
      expect(metrics).toMatch(new RegExp(`^overseer_capacity_routing_version ${table.version}$`, 'm'));
      expect(metrics).toMatch(/^overseer_capacity_moves_applied_total\{reason="host-hot"\} [1-9]/m);
      expect(metrics).toMatch(/^overseer_capacity_leader 1$/m);
    });
  });

  describe('auto mode: the routing version grows by itself', () => {
    let db: TestDatabase;
    let o: TestOverseer;
    beforeAll(async () => {
      for (const h of HOSTS) nodes.busy[h] = 0.2;
      db = await createTestDatabase();
      o = await startWith(db, base, 'auto');
    });
    afterAll(async () => {
      await o?.stop();
      await db?.drop();
    });

    it('places billed tenants, then moves one off a host that turns hot', async () => {
      await waitFor(
        'five hosts with known load',
        async () => {
          const v = await o.get<AssignmentsView>('/api/v1/capacity/assignments');
          return v.hosts.filter((h) => h.cpu !== null && h.up).length === 5 ? true : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      await billDemand(o, { a1: 1.2, a2: 1.2 });
      const placed = await waitFor(
        'a1 and a2 placed on 3 hosts each',
        async () => {
          const t = await o.get<{ version: number; routes: Record<string, string[]> }>(
            '/api/v1/capacity/routes',
          );
          return t.routes.a1?.length === 3 && t.routes.a2?.length === 3 ? t : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      expect(placed.version).toBeGreaterThanOrEqual(1);
      const hot = placed.routes.a1![0]!;
      nodes.busy[hot] = 0.95;
      const moved = await waitFor(
        `a tenant off ${hot} in a new routing version`,
        async () => {
          const t = await o.get<{ version: number; routes: Record<string, string[]> }>(
            '/api/v1/capacity/routes',
          );
          return t.version > placed.version && (!t.routes.a1!.includes(hot) || !t.routes.a2!.includes(hot))
            ? t
            : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      for (const t of ['a1', 'a2']) expect(moved.routes[t]).toHaveLength(3);
      nodes.busy[hot] = 0.2;

      // A host going down: its tenants are re-placed on the hosts still up.
      const gone = moved.routes.a2!.find((h) => h !== hot)!;
      nodes.down.add(gone);
      const t0 = performance.now();
      const replaced = await waitFor(
        `a1 and a2 off ${gone}, which is down`,
        async () => {
          const t = await o.get<{ version: number; routes: Record<string, string[]> }>(
            '/api/v1/capacity/routes',
          );
          return ['a1', 'a2'].every((x) => t.routes[x]!.length === 3 && !t.routes[x]!.includes(gone))
            ? t
            : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      nodes.down.delete(gone);
      // Scrapes every 1 s fail at once; the planner wants 2 of 3 samples down, 1 s apart.
      expect((performance.now() - t0) / 1000).toBeLessThan(10);
      expect(replaced.version).toBeGreaterThan(moved.version);
      const audit = await o.get<{
        entries: Array<{ actor: string; action: string; detail: { moves: Array<{ reason: string }> } }>;
      }>('/api/v1/audit?limit=20');
      expect(audit.entries.find((e) => e.detail.moves?.some((m) => m.reason === 'host-hot'))).toMatchObject({
        actor: 'overseer:capacity-loop',
        action: 'capacity.apply',
      });
    });
  });
});
