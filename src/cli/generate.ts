import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Command } from 'commander';
import { loadCodeCatalog } from '../alarms/load-catalog.js';
import { errorCodeRuleTestsYaml } from '../dashboards/error-code-rule-tests.js';
import { errorCodeRulesYaml } from '../dashboards/error-code-rules.js';
import { configFor, type CliContext, type GlobalOptions } from './context.js';

/** `overseer generate`: rule files (and, with the dashboards issue, Grafana dashboards) from the catalogs. */
export function generateCommand(program: Command, ctx: CliContext): void {
  program
    .command('generate')
    .description('write Prometheus rules and their promtool tests (and dashboards) under --out')
    .option('--out <dir>', 'output folder', 'dashboards')
    .action(async (o: { out: string }, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      const { config } = configFor(ctx, opts);
      const { codes, file } = await loadCodeCatalog(config.alarms);
      const ruleOpts = { scrapeIntervalMs: config.collector.scrapeInterval, classes: file?.classes };
      const rulesDir = path.join(o.out, 'rules');
      await mkdir(rulesDir, { recursive: true });
      const rulesFile = path.join(rulesDir, 'error-codes.yml');
      const testsFile = path.join(rulesDir, 'error-codes.test.yml');
      await writeFile(rulesFile, errorCodeRulesYaml(codes, ruleOpts));
      // promtool resolves rule_files relative to the test file.
      await writeFile(testsFile, errorCodeRuleTestsYaml(codes, 'error-codes.yml', ruleOpts));
      const alerting = codes.filter((c) => c.alert);
      const broken = codes.filter((c) => c.problems.length > 0);
      if (opts.json) {
        ctx.output.out(
          JSON.stringify({ rules: rulesFile, tests: testsFile, alerts: alerting.length, codes }, null, 2),
        );
      } else {
        ctx.output.out(`${rulesFile}: ${alerting.length} alert(s) for ${codes.length} code(s)\n${testsFile}`);
      }
      for (const c of broken)
        ctx.output.err(`no alert for ${c.service} ${c.code} ${c.name}: ${c.problems.join('; ')}`);
    });
}
