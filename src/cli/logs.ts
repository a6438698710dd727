import { hostname } from 'node:os';
import * as path from 'node:path';
import type { Command } from 'commander';
import pino from 'pino';
import { Registry } from 'prom-client';
import { systemClock } from '../clock.js';
import { LocalObjectStore } from '../logs/local-store.js';
import { LogShipper } from '../logs/shipper.js';
import { configFor, type CliContext, type GlobalOptions } from './context.js';
import { table } from './output.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** `overseer logs status`: the ship journal of this data dir, read without writing (a service may own it). */
export function logsCommands(program: Command, ctx: CliContext): void {
  const logs = program.command('logs').description('log shipping: what is waiting, shipped and failing');
  logs
    .command('status')
    .description('every journaled log file with its state, size, object key and last error (offline)')
    .option('--all', 'include files already shipped and deleted locally')
    .action(async (o: { all?: boolean }, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      const { config } = configFor(ctx, opts);
      // status() only reads the journal; the store is never touched here.
      const shipper = new LogShipper(
        {
          dirs: config.logs.dirs,
          dataDir: config.dataDir,
          host: hostname(),
          localRetentionMs: config.logs.localRetention,
        },
        {
          store: new LocalObjectStore(path.join(config.dataDir, 'archive')),
          clock: systemClock,
          logger: pino({ level: 'silent' }),
          registry: new Registry(),
        },
      );
      const rows = await shipper.status({ includeDeleted: o.all === true });
      if (opts.json) {
        ctx.output.out(JSON.stringify(rows, null, 2));
        return;
      }
      ctx.output.out(
        table(
          ['FILE', 'STATE', 'BYTES', 'GZ', 'KEY', 'UPLOADED', 'ATTEMPTS', 'LAST ERROR'],
          rows.map((r) => [
            path.basename(r.path),
            r.state,
            r.bytes,
            r.gzBytes,
            r.key,
            iso(r.uploadedAt),
            r.attempts || null,
            r.lastError,
          ]),
        ),
      );
      const waiting = rows.filter((r) => r.state !== 'uploaded' && r.state !== 'deleted');
      ctx.output.err(
        `${rows.length} file(s); ${waiting.length} waiting, ${waiting.reduce((n, r) => n + r.bytes, 0)} bytes`,
      );
    });
}
