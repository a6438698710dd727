import type { Command } from 'commander';
import { codePattern } from '../alarms/code-patterns.js';
import { scanPaths } from '../alarms/scan-files.js';
import type { GlobalOptions, CliContext } from './context.js';
import { table } from './output.js';

interface ScanOptions {
  language: 'ts' | 'java';
  container?: string;
  entry?: string;
  use?: string;
  includeTests?: boolean;
}

export function codesCommand(program: Command, ctx: CliContext, setExit: (code: number) => void): void {
  const codes = program
    .command('codes')
    .description('audit error codes: each defined once and raised at exactly one place');
  codes
    .command('scan')
    .description(
      'list error codes with their single place of use; exit 1 naming every code defined twice, used twice or never used',
    )
    .argument('<paths...>', 'folders or files to scan')
    .option('--language <lang>', 'ts (const object or enum) or java (class of static final int)', 'ts')
    .option('--container <name>', 'name of the const/enum/class that holds the codes', 'ErrorCodes')
    .option(
      '--entry <regex>',
      'pattern of one definition inside the container, with (?<name>…) and (?<code>…)',
    )
    .option('--use <regex>', 'pattern of one use, with (?<name>…)')
    .option('--include-tests', 'count uses in test files too (*.test.ts, src/test/…)')
    .action(async (paths: string[], opts: ScanOptions, cmd: Command) => {
      const { json } = cmd.optsWithGlobals<GlobalOptions>();
      const pattern = codePattern({
        language: opts.language === 'java' ? 'java' : 'ts',
        ...(opts.container ? { containerName: opts.container } : {}),
        ...(opts.entry ? { entry: opts.entry } : {}),
        ...(opts.use ? { use: opts.use } : {}),
        includeTests: opts.includeTests === true,
      });
      const report = await scanPaths(paths, pattern);
      const ok = report.problems.length === 0 && report.codes.length > 0;
      if (json) {
        ctx.output.out(JSON.stringify({ ok, ...report }, null, 2));
      } else {
        if (report.codes.length > 0) {
          ctx.output.out(
            table(
              ['CODE', 'NAME', 'USED AT'],
              report.codes.map((c) => [
                c.code,
                c.name,
                c.uses.length === 0 ? '(never)' : c.uses.map((u) => `${u.file}:${u.line}`).join(', '),
              ]),
            ),
          );
        }
        for (const p of report.problems) ctx.output.err(`${p.kind}: ${p.message}`);
        if (report.codes.length === 0)
          ctx.output.err(`no error codes found in ${report.files} file(s) under ${paths.join(' ')}`);
        ctx.output.err(
          `${report.codes.length} code(s) in ${report.files} file(s): ${report.problems.length === 0 ? 'all single-use' : `${report.problems.length} problem(s)`}`,
        );
      }
      setExit(ok ? 0 : 1);
    });
}
