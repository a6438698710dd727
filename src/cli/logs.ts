import * as path from 'node:path';
import type { Command } from 'commander';
import pino from 'pino';
import { Registry } from 'prom-client';
import { systemClock } from '../clock.js';
import type { Config } from '../config.js';
import { ErrorCodes, OverseerError } from '../errors/index.js';
import { configuredShipperOptions, configuredStore } from '../logs/configured.js';
import { LocalObjectStore } from '../logs/local-store.js';
import type { ObjectStore } from '../logs/object-store.js';
import { LogShipper } from '../logs/shipper.js';
import { configFor, type CliContext, type GlobalOptions } from './context.js';
import { ShipProgress } from './logs-progress.js';
import { table } from './output.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const silent = pino({ level: 'silent' });

/** `overseer logs status|ship`: the ship journal of this data dir, read or worked offline. */
export function logsCommands(program: Command, ctx: CliContext): void {
  const logs = program.command('logs').description('log shipping: what is waiting, shipped and failing');
  logs
    .command('status')
    .description('every journaled log file with its state, size, object key and last error (offline)')
    .option('--all', 'include files already shipped and deleted locally')
    .action((o: { all?: boolean }, cmd: Command) => status(ctx, cmd.optsWithGlobals(), o.all === true));
  logs
    .command('ship')
    .description(
      'one shipping pass now, offline: gzip, upload (logs.s3, else <dataDir>/archive), clean up; files in ' +
        'backoff are tried too. Refused while a service ships from the same data dir',
    )
    .action((_o: unknown, cmd: Command) => ship(ctx, cmd.optsWithGlobals()));
}

/** A shipper on this config; `status()` only reads the journal, so the store is never touched there. */
function shipperFor(
  config: Config,
  owner: string,
  store: ObjectStore = new LocalObjectStore(path.join(config.dataDir, 'archive')),
) {
  return new LogShipper(configuredShipperOptions(config, { owner }), {
    store,
    clock: systemClock,
    logger: silent,
    registry: new Registry(),
  });
}

async function status(ctx: CliContext, opts: GlobalOptions, all: boolean): Promise<void> {
  const { config } = configFor(ctx, opts);
  const rows = await shipperFor(config, 'overseer logs status').status({ includeDeleted: all });
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
}

/**
 * One pass under the journal's lock (a running service holds it: then this refuses, error 101720). Exit 0
 * when every waiting file shipped; 3 (error 101721) when some failed: they stay on disk for the next try.
 */
async function ship(ctx: CliContext, opts: GlobalOptions): Promise<void> {
  const { config } = configFor(ctx, opts);
  const { store, stop } = configuredStore(config, silent);
  const shipper = shipperFor(config, 'overseer logs ship', store);
  const progress = new ShipProgress(ctx, await shipper.status());
  let report;
  try {
    report = await shipper.shipOnce({ onProgress: progress.onEvent, retryNow: true });
  } finally {
    await shipper.stop();
    stop();
  }
  if (report.error) throw report.error;
  progress.show(true);
  const summary = {
    store: store.describe,
    discovered: report.discovered,
    compressed: report.compressed,
    uploaded: report.uploaded,
    alreadyStored: report.alreadyStored,
    sourcesDeleted: report.sourcesDeleted,
    gzDeleted: report.gzDeleted,
    expired: report.expired,
    failed: report.failed,
    shippedBytes: progress.doneBytes,
    gzBytes: progress.gzBytes,
    seconds: Number(progress.seconds.toFixed(3)),
    bytesPerSecond: Math.round(progress.rate),
    backlog: report.backlog ?? null,
    failures: progress.failures,
  };
  if (opts.json) ctx.output.out(JSON.stringify(summary, null, 2));
  else {
    ctx.output.out(
      `shipped ${report.uploaded} file(s), ${progress.doneBytes} bytes (${progress.gzBytes} gzipped) to ` +
        `${store.describe} in ${summary.seconds} s; ${report.failed} failed, ` +
        `${report.backlog?.files ?? 0} file(s) still waiting`,
    );
    if (progress.failures.length > 0)
      ctx.output.out(
        table(
          ['FILE', 'STEP', 'CODE', 'ATTEMPTS', 'NEXT TRY', 'ERROR'],
          progress.failures.map((f) => [f.path, f.step, f.code, f.attempts, f.nextAttemptAt, f.message]),
        ),
      );
  }
  if (report.failed > 0) {
    throw new OverseerError(
      ErrorCodes.LOG_SHIP_RUN_INCOMPLETE,
      `${report.failed} log file(s) could not be shipped`,
      {
        details: progress.failures.map((f) => `${f.path}: error ${f.code} at ${f.step}: ${f.message}`),
        hint: 'nothing is lost: they stay on disk and are retried by the next `overseer logs ship` or by the service; `overseer logs status` shows each',
      },
    );
  }
}
