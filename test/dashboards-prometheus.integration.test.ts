import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { CatalogEntry } from '../src/collector/catalog.js';
import { generate } from '../src/dashboards/generate.js';
import { expressions } from '../src/dashboards/spec.js';
import { runOverseer } from './helpers/cli-process.js';
import { describeWithBinaries } from './helpers/integration.js';
import { startTestOverseer, type TestOverseer } from './helpers/overseer-instance.js';
import { freePort } from './helpers/pg-cluster.js';
import { waitFor } from './helpers/poll.js';
import {
  startNodeExporter,
  startPrometheus,
  type RealPrometheus,
  type RealServer,
} from './helpers/real-servers.js';
import { createTestDatabase, type TestDatabase } from './helpers/test-db.js';

const fixtures = path.join(import.meta.dirname, 'fixtures/alarms');
/** The same alarm config for the service and the CLI: both must generate the same error-code rules. */
const ALARMS = {
  catalog: `${fixtures}/codes.yml`,
  codeSources: [
    { dir: `${fixtures}/billing/src`, language: 'ts' },
    { dir: `${fixtures}/ledger/src`, language: 'java' },
  ],
};
const DASHBOARD_FILES = [
  'overseer-error-codes.json',
  'overseer-fleet.json',
  'overseer-host.json',
  'overseer-job-overseer.json',
  'overseer-self.json',
];
const RULE_FILES = ['rules/error-codes.yml', 'rules/node.yml'];
const TEST_FILES = ['rules/error-codes.test.yml', 'rules/node.test.yml'];

interface GrafanaPanel {
  type?: string;
  title?: string;
  targets?: Array<{ expr?: string }>;
  panels?: GrafanaPanel[];
}
interface Located {
  where: string;
  expr: string;
}
interface LoadedGroup {
  name: string;
  file: string;
  rules: Array<{ name: string; query: string }>;
}
type RunResult = Awaited<ReturnType<typeof runOverseer>>;
interface QueryAnswer {
  status: string;
  error?: string;
  data?: { result: unknown[] };
}

/** Every target expression of a dashboard file, panels nested in (collapsed) rows included. */
function dashboardExprs(dir: string, file: string): Located[] {
  const dashboard = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { panels?: GrafanaPanel[] };
  const found: Located[] = [];
  let row = '';
  const walk = (panels: GrafanaPanel[] | undefined): void => {
    for (const p of panels ?? []) {
      if (p.type === 'row') row = p.title ?? '';
      for (const t of p.targets ?? [])
        if (t.expr !== undefined) found.push({ where: `${file} / ${row} / ${p.title ?? '?'}`, expr: t.expr });
      walk(p.panels);
    }
  };
  walk(dashboard.panels);
  return found;
}

function ruleExprs(file: string, yaml: string): Located[] {
  const doc = parse(yaml) as { groups?: Array<{ name: string; rules: Array<Record<string, string>> }> };
  return (doc.groups ?? []).flatMap((g) =>
    g.rules.map((r) => ({ where: `${file} / ${g.name} / ${r.alert ?? r.record}`, expr: r.expr! })),
  );
}

/**
 * What Grafana sends for a query: `$__rate_interval` at least four 1 s scrape intervals, a 5m range, "All"
 * (`.+`) for the multi-value variables, and the one real host for the single-value `$instance`.
 */
function asGrafanaSends(expr: string, instance: string): string {
  return expr
    .replaceAll('$__rate_interval', '10s')
    .replaceAll('$__range', '5m')
    .replaceAll('=~"$job"', '=~".+"')
    .replaceAll('=~"$instance"', '=~".+"')
    .replaceAll('="$instance"', `="${instance}"`);
}

describeWithBinaries(
  ['prometheus', 'nodeExporter', 'promtool'],
  'generated dashboards and rules against a real Prometheus and node_exporter',
  (bins) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'overseer-dash-prom-'));
    const out = path.join(dir, 'out');
    const config = path.join(dir, 'overseer.yaml');
    const catalogFile = path.join(dir, 'catalog.json');
    /** The rule files Prometheus reads: copies, so a test can change them without touching `out`. */
    const loaded = path.join(dir, 'loaded');
    const again = path.join(dir, 'again');
    let db: TestDatabase;
    let exporter: RealServer;
    let overseer: TestOverseer;
    let prometheus: RealPrometheus;
    let runs: readonly [RunResult, RunResult];

    const generateLive = (to: string) =>
      runOverseer(
        [
          '--config',
          config,
          'generate',
          '--live',
          '--out',
          to,
          '--server',
          overseer.url,
          '--token',
          overseer.token,
        ],
        {},
      );

    /** Prometheus's answer to an instant query, errors included. */
    async function instant(promql: string): Promise<QueryAnswer> {
      const res = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(promql)}`);
      return (await res.json()) as QueryAnswer;
    }

    /** The rule groups Prometheus has loaded, as GET /api/v1/rules reports them. */
    async function loadedGroups(): Promise<LoadedGroup[]> {
      const body = (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as {
        data: { groups: LoadedGroup[] };
      };
      return body.data.groups;
    }

    beforeAll(async () => {
      db = await createTestDatabase();
      exporter = await startNodeExporter(bins.nodeExporter);
      // Overseer scrapes its own /metrics as job overseer, so its listen address is chosen here.
      const listen = `127.0.0.1:${await freePort()}`;
      overseer = await startTestOverseer(
        db,
        {
          scrapeInterval: '1s',
          scrapeTimeout: '900ms',
          targets: [
            { url: `${exporter.url}/metrics`, labels: { job: 'node' } },
            { url: `http://${listen}/metrics`, labels: { job: 'overseer' } },
          ],
        },
        { server: { listen }, alarms: ALARMS },
      );
      await waitFor(
        "Overseer's catalog to have node_cpu_seconds_total and overseer_scrapes_total",
        async () => {
          const { families } = await overseer.get<{ families: CatalogEntry[] }>('/api/v1/catalog');
          const names = new Set(families.map((f) => f.name));
          return names.has('node_cpu_seconds_total') && names.has('overseer_scrapes_total')
            ? true
            : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 250 },
      );
      writeFileSync(
        config,
        [
          `dataDir: ${JSON.stringify(path.join(dir, 'data'))}`,
          'collector: { scrapeInterval: 1s }',
          `alarms: ${JSON.stringify(ALARMS)}`,
          '',
        ].join('\n'),
      );
      // Overseer's own families keep appearing for a while (first GC, first alarm cycle, a second API
      // route), each a change to its job dashboard: the two runs compared must read the same catalog.
      runs = await waitFor(
        'two generate --live runs on an unchanged catalog',
        async () => {
          const before = JSON.stringify(await overseer.get('/api/v1/catalog'));
          rmSync(out, { recursive: true, force: true });
          rmSync(again, { recursive: true, force: true });
          const first = await generateLive(out);
          if (first.code !== 0) throw new Error(`generate --live: exit ${first.code}: ${first.stderr}`);
          const second = await generateLive(again);
          if (JSON.stringify(await overseer.get('/api/v1/catalog')) !== before) return undefined;
          // What these rules came from: --check --catalog then generates exactly what Prometheus loads.
          writeFileSync(catalogFile, before);
          return [first, second] as const;
        },
        { timeoutMs: 60_000 },
      );
      cpSync(path.join(out, 'rules'), loaded, { recursive: true });
      prometheus = await startPrometheus(
        bins.prometheus,
        [
          `  - job_name: node\n    static_configs: [{ targets: ["${exporter.hostPort}"] }]`,
          `  - job_name: overseer\n    static_configs: [{ targets: ["${listen}"] }]`,
        ].join('\n'),
        { ruleFiles: RULE_FILES.map((f) => path.join(loaded, path.basename(f))) },
      );
    });
    afterAll(async () => {
      await prometheus?.stop();
      await overseer?.stop();
      await exporter?.stop();
      await db?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('generate --live writes every dashboard, rule file and rule test, and the same bytes twice', () => {
      const [first, second] = runs;
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toContain('5 dashboard(s), 2 rule file(s) with tests, 4 error-code alert(s)');
      const written = (sub: string) => readdirSync(path.join(out, sub)).sort();
      expect(written('.').filter((f) => f.endsWith('.json'))).toEqual(DASHBOARD_FILES);
      expect(written('rules').map((f) => `rules/${f}`)).toEqual([...RULE_FILES, ...TEST_FILES].sort());

      expect(second.code, second.stderr).toBe(0);
      expect(readdirSync(again).sort()).toEqual(written('.'));
      for (const f of [...DASHBOARD_FILES, ...RULE_FILES, ...TEST_FILES])
        expect(readFileSync(path.join(again, f), 'utf8'), f).toBe(readFileSync(path.join(out, f), 'utf8'));
    });

    it('the generated rule files pass promtool check rules and their own promtool tests', () => {
      const promtool = (...args: string[]) => spawnSync(bins.promtool, args, { encoding: 'utf8' });
      const check = promtool(
        'check',
        'rules',
        '--lint=all',
        '--lint-fatal',
        ...RULE_FILES.map((f) => path.join(out, f)),
      );
      expect(check.status, check.stdout + check.stderr).toBe(0);
      for (const t of TEST_FILES) {
        const r = promtool('test', 'rules', path.join(out, t));
        expect(r.status, `${t}: ${r.stdout}${r.stderr}`).toBe(0);
      }
    });

    it('the dashboard files hold every expression of the dashboards generate() builds from the catalog', () => {
      const { families } = JSON.parse(readFileSync(catalogFile, 'utf8')) as { families: CatalogEntry[] };
      const built = generate({ families, codes: [], ruleOptions: { scrapeIntervalMs: 1000 } });
      expect(built.dashboards.map((d) => d.file).sort()).toEqual(DASHBOARD_FILES);
      for (const d of built.dashboards) {
        const inFile = dashboardExprs(out, d.file);
        expect(inFile.length, d.file).toBeGreaterThan(0);
        expect(inFile.map((e) => e.expr).sort(), d.file).toEqual(
          expressions(d.spec)
            .map((e) => e.expr)
            .sort(),
        );
      }
    });

    it('Prometheus 2.42 accepts every panel expression (variables as Grafana fills them) and every rule', async () => {
      await waitFor('Prometheus to load both rule files', async () => {
        const files = new Set((await loadedGroups()).map((g) => path.basename(g.file)));
        return files.size === 2 ? true : undefined;
      });
      const all: Located[] = [
        ...DASHBOARD_FILES.flatMap((f) => dashboardExprs(out, f)),
        ...RULE_FILES.flatMap((f) => ruleExprs(f, readFileSync(path.join(out, f), 'utf8'))),
      ];
      // 10 node rules and the fixture catalog's 4 error-code alerts, and a few dozen panel queries.
      expect(all.filter((e) => e.where.startsWith('rules/')).length).toBe(14);
      expect(all.length).toBeGreaterThan(40);
      const failures: string[] = [];
      for (const { where, expr } of all) {
        const sent = asGrafanaSends(expr, exporter.hostPort);
        if (/\$\{?\w/.test(sent)) {
          failures.push(`${where}\n  ${expr}\n  a Grafana variable this test does not fill`);
          continue;
        }
        const answer = await instant(sent);
        if (answer.status !== 'success')
          failures.push(`${where}\n  ${sent}\n  ${answer.error ?? JSON.stringify(answer)}`);
      }
      expect(failures, failures.join('\n')).toEqual([]);
    });

    it('every node_ panel of the fleet and host dashboards has data once the recording rules ran', async () => {
      await waitFor(
        'instance:node_cpu_utilisation:rate5m from the loaded recording rules',
        async () =>
          (await prometheus.query('instance:node_cpu_utilisation:rate5m')).length > 0 ? true : undefined,
        { timeoutMs: 60_000, intervalMs: 500 },
      );
      const node = ['overseer-fleet.json', 'overseer-host.json']
        .flatMap((f) => dashboardExprs(out, f))
        .filter((e) => e.expr.includes('node_'));
      expect(node.length).toBeGreaterThan(15);
      let empty: string[] = [];
      await waitFor(
        'every node_ panel expression to return series',
        async () => {
          empty = [];
          for (const { where, expr } of node) {
            const sent = asGrafanaSends(expr, exporter.hostPort);
            const answer = await instant(sent);
            if (answer.status !== 'success' || (answer.data?.result.length ?? 0) === 0)
              empty.push(`${where}\n  ${sent}\n  ${answer.error ?? 'no series'}`);
          }
          return empty.length === 0 ? true : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 1000 },
      ).catch(() => undefined);
      expect(empty, empty.join('\n')).toEqual([]);
    });

    it('generate --check --against the Prometheus: no drift for the rules it loaded', async () => {
      const r = await runOverseer(
        ['--config', config, 'generate', '--check', '--catalog', catalogFile, '--against', prometheus.url],
        {},
      );
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain(`no drift: ${prometheus.url} matches what would be generated`);
    });

    it('generate --check --against the Prometheus: a changed threshold, once reloaded, is drift with a diff', async () => {
      const file = path.join(loaded, 'node.yml');
      const text = readFileSync(file, 'utf8');
      expect(text).toContain('expr: instance:node_cpu_utilisation:rate5m > 0.9\n');
      writeFileSync(file, text.replace('rate5m > 0.9\n', 'rate5m > 0.95\n'));
      const reload = await fetch(`${prometheus.url}/-/reload`, { method: 'POST' });
      expect(reload.status, await reload.text()).toBe(200);
      await waitFor('Prometheus to serve the raised threshold', async () => {
        const rules = (await loadedGroups()).flatMap((g) => g.rules);
        return rules.find((x) => x.name === 'HostCpuHigh')?.query.endsWith('> 0.95') === true
          ? true
          : undefined;
      });

      const r = await runOverseer(
        ['--config', config, 'generate', '--check', '--catalog', catalogFile, '--against', prometheus.url],
        {},
      );
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stdout).toContain('changed group node.alerts alert HostCpuHigh');
      expect(r.stdout).toContain('- expr: "instance:node_cpu_utilisation:rate5m>0.95"');
      expect(r.stdout).toContain('+ expr: "instance:node_cpu_utilisation:rate5m>0.9"');
      expect(r.stdout).not.toMatch(/HostMemoryHigh|HostDown|ErrorCode/);
    });

    it('the HTTP API serves the dashboards and rules that were written', async () => {
      const list = await overseer.get<{ dashboards: Array<{ uid: string; file: string }> }>(
        '/api/v1/dashboards',
      );
      expect(list.dashboards.map((d) => d.file).sort()).toEqual(DASHBOARD_FILES);
      expect(list.dashboards.map((d) => `${d.uid}.json`).sort()).toEqual(DASHBOARD_FILES);

      const host = await overseer.get<unknown>('/api/v1/dashboards/overseer-host');
      expect(host).toEqual(JSON.parse(readFileSync(path.join(out, 'overseer-host.json'), 'utf8')));

      const auth = { authorization: `Bearer ${overseer.token}` };
      const missing = await fetch(`${overseer.url}/api/v1/dashboards/overseer-nope`, { headers: auth });
      expect(missing.status).toBe(404);
      expect(missing.headers.get('content-type')).toBe('application/problem+json');
      expect(((await missing.json()) as { code: number }).code).toBe(101105);

      const rules = await fetch(`${overseer.url}/api/v1/rules`, { headers: auth });
      expect(rules.status).toBe(200);
      expect(rules.headers.get('content-type')).toMatch(/^application\/yaml/);
      const yaml = await rules.text();
      expect(yaml).toContain('record: instance:node_cpu_utilisation:rate5m');
      expect(yaml).toContain('alert: HostDown');
    });
  },
);
