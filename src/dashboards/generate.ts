import type { AlarmCode } from '../alarms/code-catalog.js';
import type { CatalogEntry } from '../collector/catalog.js';
import { errorCodeRuleTestsYaml } from './error-code-rule-tests.js';
import { errorCodeRulesYaml, type ErrorCodeRuleOptions } from './error-code-rules.js';
import { errorCodesDashboard } from './error-codes-dashboard.js';
import { fleetDashboard } from './fleet-dashboard.js';
import { hostDashboard } from './host-dashboard.js';
import { jobDashboard } from './job-dashboard.js';
import { nodeRuleTests } from './node-rule-tests.js';
import { nodeRules } from './node-rules.js';
import { overseerDashboard } from './overseer-dashboard.js';
import { dashboardJson } from './render.js';
import type { DashboardSpec } from './spec.js';

/** The family whose jobs are node_exporter jobs (host dashboards and host alerts cover them). */
const NODE_MARKER = 'node_cpu_seconds_total';

export interface GenerateInput {
  /** The metric catalog (what the fleet exposes); empty gives the dashboards that need none. */
  families: readonly CatalogEntry[];
  codes: readonly AlarmCode[];
  ruleOptions: ErrorCodeRuleOptions;
}

export interface GeneratedFile {
  /** Relative to the output folder, `/`-separated. */
  path: string;
  content: string;
}

export interface Generated {
  /** Sorted by path. */
  files: GeneratedFile[];
  dashboards: Array<{ uid: string; title: string; tags: string[]; file: string; spec: DashboardSpec }>;
  /** Rule files (path → YAML), the alert tests excluded. */
  rules: GeneratedFile[];
  warnings: string[];
}

/**
 * Everything `overseer generate` writes, as a pure function of the catalogs: same input, same bytes (so
 * the output can be committed and checked for drift). Dashboards: fleet, host, error codes, Overseer, and
 * one per job that is not a node_exporter job; rules: node recording rules and host alerts, and one alert
 * per single-use error code; each alert file with its promtool test.
 */
export function generate(input: GenerateInput): Generated {
  const families = [...input.families].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const warnings: string[] = [];
  const nodeJobs = families.find((f) => f.name === NODE_MARKER)?.jobs ?? [];
  const specs: DashboardSpec[] = [
    fleetDashboard(families),
    hostDashboard(families),
    errorCodesDashboard(input.ruleOptions.metric),
    overseerDashboard(),
  ];
  const jobs = [...new Set(families.flatMap((f) => f.jobs))].filter((j) => !nodeJobs.includes(j)).sort();
  for (const job of jobs) {
    const { spec, warnings: w } = jobDashboard(job, families);
    specs.push(spec);
    warnings.push(...w.map((x) => `job ${job}: ${x}`));
  }
  const uids = new Set<string>();
  for (const s of specs) {
    // Two jobs whose names slug the same would overwrite each other's file: refuse rather than lose one.
    if (uids.has(s.uid)) throw new Error(`two dashboards share the uid ${s.uid}`);
    uids.add(s.uid);
  }
  const dashboards = specs.map((spec) => ({
    uid: spec.uid,
    title: spec.title,
    tags: spec.tags,
    file: `${spec.uid}.json`,
    spec,
  }));
  const rules: GeneratedFile[] = [
    { path: 'rules/error-codes.yml', content: errorCodeRulesYaml(input.codes, input.ruleOptions) },
    { path: 'rules/node.yml', content: nodeRules({ nodeJobs }) },
  ];
  const files: GeneratedFile[] = [
    ...dashboards.map((d) => ({ path: d.file, content: dashboardJson(d.spec) })),
    ...rules,
    // promtool resolves rule_files relative to the test file.
    {
      path: 'rules/error-codes.test.yml',
      content: errorCodeRuleTestsYaml(input.codes, 'error-codes.yml', input.ruleOptions),
    },
    { path: 'rules/node.test.yml', content: nodeRuleTests('node.yml', { nodeJobs }) },
  ].sort((a, b) => (a.path < b.path ? -1 : 1));
  for (const c of input.codes)
    if (c.problems.length > 0)
      warnings.push(`no alert for ${c.service} ${c.code} ${c.name}: ${c.problems.join('; ')}`);
  return { files, dashboards, rules, warnings };
}
