import type { Command } from 'commander';
import { configFor, type CliContext, type GlobalOptions } from './context.js';

export function configCommand(program: Command, ctx: CliContext): void {
  program
    .command('config')
    .description('configuration')
    .command('check')
    .description('validate the config (file + env) and print the effective result')
    .action((_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      const loaded = configFor(ctx, opts);
      for (const w of loaded.warnings) ctx.output.err(`warning: ${w}`);
      const shown = { ...loaded.config, database: { url: loaded.config.database.url ? '(set)' : undefined } };
      ctx.output.out(JSON.stringify(opts.json ? { ...loaded, config: shown } : shown, null, 2));
      ctx.output.err(
        `config ok (${loaded.source}${loaded.envApplied.length ? ` + ${loaded.envApplied.join(', ')}` : ''})`,
      );
    });
}
