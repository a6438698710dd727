import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Command } from 'commander';
import { loadCodeCatalog } from '../alarms/load-catalog.js';
import type { CatalogEntry } from '../collector/catalog.js';
import type { Config } from '../config.js';
import { driftAgainstDir, driftOfRules, rulesOfApi, rulesOfFiles, type Drift } from '../dashboards/drift.js';
import { generate, type Generated } from '../dashboards/generate.js';
import { parseMetricCatalog, readMetricCatalog } from '../dashboards/metric-catalog-file.js';
import { pushRulesToPrometheus, pushToGrafana } from '../dashboards/push.js';
import { ErrorCodes, OverseerError } from '../errors/index.js';
import { clientFor, configFor, type CliContext, type GlobalOptions } from './context.js';
import { fetchFailure } from '../fetch-failure.js';

interface GenerateOptions {
  out?: string;
  catalog?: string;
  live?: boolean;
  check?: boolean;
  against?: string;
  push?: boolean;
}

async function metricCatalog(ctx: CliContext, o: GenerateOptions, g: GlobalOptions): Promise<CatalogEntry[]> {
  if (o.catalog !== undefined) return readMetricCatalog(o.catalog);
  if (o.live === true) {
    const body = await (await clientFor(ctx, g)).request<unknown>('GET', '/api/v1/catalog');
    return parseMetricCatalog(JSON.stringify(body), 'GET /api/v1/catalog');
  }
  ctx.output.err('no --catalog or --live: dashboards without the metric catalog (no per-job dashboards)');
  return [];
}

/** Prometheus's loaded rules, for `--check --against http://prometheus:9090`. */
async function deployedRules(url: string): Promise<unknown> {
  const api = new URL('/api/v1/rules', url).toString();
  let failure: string;
  try {
    const res = await fetch(api, { signal: AbortSignal.timeout(15_000) });
    if (res.ok) return await res.json();
    failure = `HTTP ${res.status}`;
  } catch (e) {
    failure = fetchFailure(e);
  }
  throw new OverseerError(
    ErrorCodes.DEPLOYED_RULES_UNREADABLE,
    `cannot read the rules of ${api}: ${failure}`,
    {
      exitCode: 2,
      hint: '--against takes an output folder or the base URL of a Prometheus (http://host:9090)',
    },
  );
}

async function check(ctx: CliContext, generated: Generated, against: string, json: boolean): Promise<void> {
  const drift: Drift[] = /^https?:\/\//.test(against)
    ? driftOfRules(rulesOfFiles(generated.rules), rulesOfApi(await deployedRules(against)))
    : await driftAgainstDir(generated.files, against);
  if (json) ctx.output.out(JSON.stringify({ against, drift }, null, 2));
  else for (const d of drift) ctx.output.out(`${d.kind} ${d.where}\n${d.diff}\n`);
  if (drift.length === 0) {
    if (!json) ctx.output.out(`no drift: ${against} matches what would be generated`);
    return;
  }
  throw new OverseerError(ErrorCodes.GENERATED_OUTPUT_DRIFT, `${against} differs from the generated output`, {
    exitCode: 1,
    details: drift.map((d) => `${d.kind}: ${d.where}`),
    hint: 'run `overseer generate` (and commit, or --push) to bring it up to date',
  });
}

async function push(ctx: CliContext, generated: Generated, config: Config): Promise<void> {
  const { grafana, prometheus } = config.dashboards;
  if (grafana === undefined && prometheus === undefined)
    ctx.output.err('--push: nothing configured (dashboards.grafana, dashboards.prometheus)');
  if (grafana !== undefined) {
    await pushToGrafana(
      generated,
      { url: grafana.url, token: grafana.token, folderUid: grafana.folderUid },
      (n, t, uid) => ctx.output.err(`grafana: ${n}/${t} ${uid}`),
    );
    ctx.output.out(`pushed ${generated.dashboards.length} dashboard(s) to ${grafana.url}`);
  }
  if (prometheus !== undefined) {
    const written = await pushRulesToPrometheus(generated, prometheus);
    ctx.output.out(
      `wrote ${written.length} rule file(s) to ${prometheus.rulesDir}${prometheus.url ? `; ${prometheus.url} reloaded` : ''}`,
    );
  }
}

/** `overseer generate`: dashboards, rule files and their promtool tests from the metric and code catalogs. */
export function generateCommand(program: Command, ctx: CliContext): void {
  program
    .command('generate')
    .description(
      'write Grafana dashboards, Prometheus rules and their promtool tests (or --check them for drift)',
    )
    .option('--out <dir>', 'output folder (default: dashboards.out, "dashboards")')
    .option('--catalog <file>', 'metric catalog snapshot: the JSON of GET /api/v1/catalog')
    .option('--live', 'read the metric catalog from the running service (--server, --token)')
    .option(
      '--check',
      'write nothing; exit 1 with a diff when --against differs from what would be generated',
    )
    .option(
      '--against <dir|url>',
      'with --check: an output folder, or a Prometheus base URL (its /api/v1/rules)',
    )
    .option(
      '--push',
      'after writing, push to the configured Grafana and Prometheus (dashboards.grafana, dashboards.prometheus)',
    )
    .action(async (o: GenerateOptions, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const { config } = configFor(ctx, g);
      const out = o.out ?? config.dashboards.out;
      const families = await metricCatalog(ctx, o, g);
      const { codes, file } = await loadCodeCatalog(config.alarms);
      const generated = generate({
        families,
        codes,
        ruleOptions: { scrapeIntervalMs: config.collector.scrapeInterval, classes: file?.classes },
      });
      for (const w of generated.warnings) ctx.output.err(`warning: ${w}`);
      if (o.check === true) return check(ctx, generated, o.against ?? out, g.json === true);
      for (const f of generated.files) {
        const target = path.join(out, f.path);
        await mkdir(path.dirname(target), { recursive: true });
        await writeFile(target, f.content);
      }
      if (g.json === true) {
        ctx.output.out(
          JSON.stringify(
            {
              out,
              files: generated.files.map((f) => f.path),
              dashboards: generated.dashboards.map(({ uid, title, file: f }) => ({ uid, title, file: f })),
              alerts: codes.filter((c) => c.alert).length,
              warnings: generated.warnings,
            },
            null,
            2,
          ),
        );
      } else {
        ctx.output.out(
          `${out}: ${generated.dashboards.length} dashboard(s), ${generated.rules.length} rule file(s) with tests, ${codes.filter((c) => c.alert).length} error-code alert(s) for ${codes.length} code(s)`,
        );
        for (const f of generated.files) ctx.output.out(`  ${path.join(out, f.path)}`);
      }
      if (o.push === true) await push(ctx, generated, config);
    });
}
