import { Command, CommanderError } from 'commander';
import { alarmCommands } from './cli/alarms.js';
import { billingCommands } from './cli/billing.js';
import { capacityCommands } from './cli/capacity.js';
import { logsCommands } from './cli/logs.js';
import { codesCommand } from './cli/codes.js';
import { collectorCommands } from './cli/collector.js';
import { configCommand } from './cli/config-check.js';
import type { CliContext } from './cli/context.js';
import { generateCommand } from './cli/generate.js';
import { metricsCommands } from './cli/metrics.js';
import { processOutput } from './cli/output.js';
import { serveCommand } from './cli/serve.js';
import { tokenCommands } from './cli/tokens.js';
import { ErrorCodes, OverseerError, isOverseerError } from './errors/index.js';
import { version } from './version.js';

/**
 * Exit codes scripts can rely on: 0 success · 1 a check found problems (codes scan, metrics parse) ·
 * 2 usage or configuration error · 3 runtime failure (database, network, server answered an error).
 */
export async function runCli(argv: readonly string[], ctx: CliContext): Promise<number> {
  let exitCode = 0;
  const setExit = (code: number): void => {
    exitCode = code;
  };
  const program = new Command('overseer')
    .description('Overseer: the ops control plane for a multi-tenant fleet')
    .version(version(), '-V, --version')
    .option('-c, --config <file>', 'overseer.yaml (optional; defaults are embedded mode)')
    .option('--server <url>', 'service URL for API commands (env OVERSEER_URL; default from server.listen)')
    .option('--token <token>', 'API token (env OVERSEER_TOKEN; default <dataDir>/admin-token)')
    .option('--json', 'machine-readable output')
    .exitOverride()
    .showSuggestionAfterError(true)
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ writeOut: (s) => ctx.output.out(s), writeErr: (s) => ctx.output.err(s) });
  serveCommand(program, ctx, setExit);
  codesCommand(program, ctx, setExit);
  metricsCommands(program, ctx, setExit);
  collectorCommands(program, ctx);
  generateCommand(program, ctx);
  alarmCommands(program, ctx);
  billingCommands(program, ctx);
  capacityCommands(program, ctx, setExit);
  logsCommands(program, ctx);
  tokenCommands(program, ctx);
  configCommand(program, ctx);
  // Subcommands inherit exit/usage behaviour so `overseer codes scan --bogus` fails like `overseer --bogus`.
  const inherit = (cmd: Command): void => {
    for (const sub of cmd.commands) {
      sub.exitOverride().showSuggestionAfterError(true).configureOutput(program.configureOutput());
      inherit(sub);
    }
  };
  inherit(program);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (
        e.code === 'commander.helpDisplayed' ||
        e.code === 'commander.version' ||
        e.code === 'commander.help'
      )
        return 0;
      // Commander already printed its message (with a suggestion); add our code and hint.
      const usage = new OverseerError(ErrorCodes.CLI_USAGE, e.message.replace(/^error: /, ''), {
        hint: 'see overseer --help, or overseer <command> --help',
        exitCode: 2,
      });
      ctx.output.err(`error ${usage.code}: usage error\nhint: ${usage.hint}`);
      return usage.exitCode;
    }
    if (isOverseerError(e)) {
      ctx.output.err(e.format());
      return e.exitCode;
    }
    ctx.output.err(`unexpected failure: ${(e as Error).stack ?? String(e)}`);
    return 3;
  }
}

/** Entry point of the `overseer` binary. */
export async function main(): Promise<void> {
  // Only `serve` takes over SIGTERM/SIGINT; every other command keeps Node's default (exit at once).
  const stopSignal = (): Promise<string> =>
    new Promise<string>((resolve) => {
      let signalled = false;
      for (const sig of ['SIGTERM', 'SIGINT'] as const) {
        process.on(sig, () => {
          // A second signal while stopping means "now": skip the graceful path.
          if (signalled) process.exit(130);
          signalled = true;
          resolve(sig);
        });
      }
    });
  const code = await runCli(process.argv.slice(2), { env: process.env, output: processOutput, stopSignal });
  process.exitCode = code;
  // Every component is stopped by now; a socket or timer a library left behind must not keep the
  // process alive (unref'd: it fires only if something else still holds the event loop).
  setTimeout(() => process.exit(code), 2000).unref();
}
