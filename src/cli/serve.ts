import type { Command } from 'commander';
import { createOverseerLogger } from '../logs/logger.js';
import { startOverseer } from '../main.js';
import { version } from '../version.js';
import { configFor, type CliContext, type GlobalOptions } from './context.js';

export function serveCommand(program: Command, ctx: CliContext, setExit: (code: number) => void): void {
  program
    .command('serve')
    .description('run the service (HTTP API, collector, alarms, log shipping, billing, capacity)')
    .action(async (_opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      const loaded = configFor(ctx, opts);
      const { config } = loaded;
      // stdout and <logs.dirs[0]>/overseer.log (rotated, shipped); a crash ends in a flushed `fatal` line.
      const root = createOverseerLogger(config);
      const logger = root.logger;
      const uninstallFatal = root.installFatalHandlers();
      for (const w of loaded.warnings) logger.warn(w);
      logger.info({ source: loaded.source, env: loaded.envApplied }, 'config loaded');
      const stopRequested = ctx.stopSignal();
      try {
        const running = await startOverseer(config, { logger, ownLog: root.file });
        const db =
          running.database.kind === 'pglite'
            ? `embedded PGlite in ${running.database.where}`
            : running.database.where;
        ctx.output.err(
          [
            `overseer ${version()} listening on ${running.url}`,
            `  database:    ${db}`,
            `  admin token: ${running.adminTokenFile} (the CLI reads it; or: curl -H "Authorization: Bearer $(cat ${running.adminTokenFile})" ${running.url}/api/v1/whoami)`,
            `  stop with Ctrl-C or SIGTERM`,
          ].join('\n'),
        );
        const signal = await stopRequested;
        logger.info({ signal }, 'stopping');
        const report = await running.stop();
        logger.info({ stopped: report.stopped, failed: report.failed.map((f) => f.name) }, 'stopped');
        setExit(report.failed.length > 0 ? 1 : 0);
      } finally {
        uninstallFatal();
        root.close();
      }
    });
}
