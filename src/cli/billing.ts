import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import type { Command } from 'commander';
import type { Kysely } from 'kysely';
import pino from 'pino';
import { FileLock, LEADER_LOCK_FILE } from '../billing/leader.js';
import { ingestSpoolFile, spoolFiles } from '../billing/spool.js';
import { verifyHours } from '../billing/verify.js';
import { systemClock } from '../clock.js';
import type { Config } from '../config.js';
import { migrateToLatest } from '../db/migrate.js';
import { openDatabase } from '../db/open.js';
import type { Database } from '../db/schema.js';
import { ErrorCodes, OverseerError } from '../errors/index.js';
import { clientFor, configFor, type CliContext, type GlobalOptions } from './context.js';
import { Progress } from './billing-progress.js';
import { table } from './output.js';

/** A file to ingest: from a directory argument (a spool: moved to done/ after) or named on its own (left in place). */
interface Target {
  dir: string;
  name: string;
  spool: boolean;
}

interface FileLine {
  file: string;
  result: 'ingested' | 'replay' | 'skipped' | 'failed';
  records: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  error?: string;
}

const ZERO = { records: 0, accepted: 0, duplicates: 0, rejected: 0 };

export function billingCommands(program: Command, ctx: CliContext): void {
  const billing = program.command('billing').description('usage records: ingest, usage, verify');
  billing
    .command('ingest')
    .description(
      'ingest NDJSON usage files into the configured database, offline (no service needed). A folder is ' +
        'read like a spool: its *.ndjson files move to done/ once counted. A file named on its own stays ' +
        'where it is. Bad lines go to rejected/ next to them, with the reason',
    )
    .argument('<path...>', 'files and folders')
    .action((paths: string[], _o: unknown, cmd: Command) => ingest(ctx, cmd.optsWithGlobals(), paths));
  billing
    .command('usage')
    .description('hourly usage of a tenant from the running service (GET /api/v1/billing/usage)')
    .requiredOption('--tenant <tenant>', 'tenant id')
    .option('--from <time>', 'first hour (RFC 3339 or YYYY-MM-DD; default: this UTC month)')
    .option('--to <time>', 'end, exclusive (default: the start of next month)')
    .option('--space <space>', 'only this space')
    .option('--granularity <g>', 'hour, day or month (as the service supports)')
    .option('--csv', 'CSV as the service renders it')
    .action((o: UsageOptions, cmd: Command) => usage(ctx, cmd.optsWithGlobals(), o));
  billing
    .command('verify')
    .description(
      'recompute hourly rows from the raw records still kept, offline; exit 1 when any differ ' +
        '(hours older than billing.rawRetention are reported as not verifiable)',
    )
    .option('--tenant <tenant>', 'only this tenant')
    .option('--from <time>', 'first hour (RFC 3339 or YYYY-MM-DD)')
    .option('--to <time>', 'end, exclusive')
    .action((o: { tenant?: string; from?: string; to?: string }, cmd: Command) =>
      verify(ctx, cmd.optsWithGlobals(), o),
    );
}

/**
 * Opens the configured database for an offline command. The embedded one is used by one process at a
 * time: a service running on it holds the billing leader lock file, and this command refuses to open it
 * under that service (and holds the lock itself meanwhile, so a service starting now leaves billing alone).
 */
async function withDatabase<T>(
  ctx: CliContext,
  g: GlobalOptions,
  fn: (db: Kysely<Database>, config: Config) => Promise<T>,
): Promise<T> {
  const { config } = configFor(ctx, g);
  const logger = pino({ level: 'warn' }, pino.destination({ fd: 2, sync: true }));
  const lock =
    config.database.url === undefined ? new FileLock(path.join(config.dataDir, LEADER_LOCK_FILE)) : undefined;
  if (lock !== undefined && !(await lock.tryAcquire())) {
    const pid = await lock.holder();
    throw new OverseerError(
      ErrorCodes.BILLING_EMBEDDED_DB_IN_USE,
      `the embedded database in ${config.dataDir} is in use by another overseer${pid ? ` (pid ${pid})` : ''}`,
      {
        exitCode: 2,
        hint: 'let that service ingest (copy the files into one of its billing.spoolDirs, or POST them to /api/v1/billing/records), or stop it first',
      },
    );
  }
  try {
    const opened = await openDatabase({ url: config.database.url, dataDir: config.dataDir, logger });
    try {
      await migrateToLatest(opened.db, logger);
      return await fn(opened.db, config);
    } finally {
      await opened.close();
    }
  } finally {
    await lock?.release();
  }
}

async function targetsOf(paths: readonly string[]): Promise<Target[]> {
  const targets = new Map<string, Target>();
  const problems: string[] = [];
  for (const p of paths) {
    const abs = path.resolve(p);
    const st = await stat(abs).catch((e: NodeJS.ErrnoException) => e.code ?? 'unreadable');
    if (typeof st === 'string') problems.push(`${p}: ${st === 'ENOENT' ? 'no such file or folder' : st}`);
    else if (st.isDirectory())
      for (const name of await spoolFiles(abs))
        targets.set(path.join(abs, name), { dir: abs, name, spool: true });
    else if (st.isFile())
      targets.set(abs, { dir: path.dirname(abs), name: path.basename(abs), spool: false });
    else problems.push(`${p}: not a file or folder`);
  }
  if (problems.length > 0) {
    throw new OverseerError(ErrorCodes.BILLING_INGEST_PATH_INVALID, 'cannot ingest these paths', {
      exitCode: 2,
      details: problems,
      hint: 'pass NDJSON files, or folders holding *.ndjson files',
    });
  }
  return [...targets.values()];
}

async function ingest(ctx: CliContext, g: GlobalOptions, paths: string[]): Promise<void> {
  const targets = await targetsOf(paths);
  const lines = await withDatabase(ctx, g, async (db) => {
    const progress = new Progress(ctx, targets.length);
    const out: FileLine[] = [];
    for (const t of targets) {
      const onChunk = (done: number): void => {
        progress.current = done;
        progress.show();
      };
      try {
        const r = await ingestSpoolFile(db, t.dir, t.name, systemClock.nowMs(), onChunk, {
          inPlace: !t.spool,
        });
        if (r === undefined) {
          // Gone between listing and reading: a service scanning the same folder took it.
          const error = 'gone before it was read: another ingester has it';
          out.push({ file: path.join(t.dir, t.name), result: 'skipped', ...ZERO, error });
          progress.fileDone(undefined);
          continue;
        }
        const { records, accepted, duplicates, rejected } = r;
        out.push({
          file: r.file,
          result: r.replay ? 'replay' : 'ingested',
          records,
          accepted,
          duplicates,
          rejected,
        });
        progress.fileDone(r);
      } catch (e) {
        const error = String((e as Error).message || e);
        const file = path.join(t.dir, t.name);
        out.push({ file, result: 'failed', ...ZERO, error });
        progress.fileDone(undefined);
      }
    }
    if (targets.length > 0) progress.show(true);
    return out;
  });
  const sum = (k: 'records' | 'accepted' | 'duplicates' | 'rejected'): number =>
    lines.reduce((a, l) => a + l[k], 0);
  const count = (r: FileLine['result']): number => lines.filter((l) => l.result === r).length;
  const totals = {
    files: lines.length,
    ingested: count('ingested'),
    replays: count('replay'),
    skipped: count('skipped'),
    failed: count('failed'),
    records: sum('records'),
    accepted: sum('accepted'),
    duplicates: sum('duplicates'),
    rejected: sum('rejected'),
  };
  if (g.json === true) ctx.output.out(JSON.stringify({ files: lines, totals }, null, 2));
  else {
    const errors = lines.some((l) => l.error !== undefined);
    if (lines.length > 0)
      ctx.output.out(
        table(
          ['FILE', 'RESULT', 'RECORDS', 'ACCEPTED', 'DUPLICATES', 'REJECTED', ...(errors ? ['ERROR'] : [])],
          lines.map((l) => [
            l.file,
            l.result,
            l.records,
            l.accepted,
            l.duplicates,
            l.rejected,
            ...(errors ? [l.error] : []),
          ]),
        ),
      );
    ctx.output.out(
      `${totals.files} file(s): ${totals.ingested} ingested, ${totals.replays} replayed, ` +
        `${totals.skipped > 0 ? `${totals.skipped} skipped, ` : ''}${totals.failed} failed; ` +
        `records: ${totals.accepted} accepted, ${totals.duplicates} duplicates, ${totals.rejected} rejected`,
    );
  }
  if (totals.failed > 0) {
    throw new OverseerError(ErrorCodes.BILLING_INGEST_FAILED, `${totals.failed} file(s) were not ingested`, {
      details: lines.filter((l) => l.result === 'failed').map((l) => `${l.file}: ${l.error}`),
      hint: 'fix the cause and run the same command again: what was counted is not counted twice',
    });
  }
}

interface UsageOptions {
  tenant: string;
  from?: string;
  to?: string;
  space?: string;
  granularity?: string;
  csv?: boolean;
}

/** The rows of a usage page (`{ granularity, rows, nextCursor }`). */
function rowsOf(page: unknown): Array<Record<string, unknown>> {
  const rows = (page as { rows?: unknown } | null)?.rows;
  return Array.isArray(rows) ? (rows as Array<Record<string, unknown>>) : [];
}

/** The current UTC month, the default range of `usage`. */
function thisMonth(nowMs: number): { from: string; to: string } {
  const d = new Date(nowMs);
  const day = (m: number): string => new Date(Date.UTC(d.getUTCFullYear(), m, 1)).toISOString().slice(0, 10);
  return { from: day(d.getUTCMonth()), to: day(d.getUTCMonth() + 1) };
}

async function usage(ctx: CliContext, g: GlobalOptions, o: UsageOptions): Promise<void> {
  const client = await clientFor(ctx, g);
  const month = thisMonth(systemClock.nowMs());
  const query = new URLSearchParams({ tenant: o.tenant, from: o.from ?? month.from, to: o.to ?? month.to });
  for (const k of ['space', 'granularity'] as const) if (o[k] !== undefined) query.set(k, o[k]);
  if (o.csv === true) {
    query.set('format', 'csv');
    ctx.output.out(await client.requestText(`/api/v1/billing/usage?${query.toString()}`, 'text/csv'));
    return;
  }
  const rows: Array<Record<string, unknown>> = [];
  const seen = new Set<string>();
  // Pages are followed to the end; a cursor seen twice would be a server bug, not a reason to loop forever.
  for (let cursor: string | undefined; ;) {
    if (cursor !== undefined) query.set('cursor', cursor);
    const page = await client.request<unknown>('GET', `/api/v1/billing/usage?${query.toString()}`);
    rows.push(...rowsOf(page));
    cursor = (page as { nextCursor?: string | null } | null)?.nextCursor ?? undefined;
    if (cursor === undefined || seen.has(cursor)) break;
    seen.add(cursor);
  }
  if (g.json === true) return ctx.output.out(JSON.stringify(rows, null, 2));
  if (rows.length === 0) return ctx.output.out(`no usage for tenant ${o.tenant} in that range`);
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown): string | null =>
    v === null || v === undefined ? null : typeof v === 'string' ? v : JSON.stringify(v);
  ctx.output.out(
    table(
      keys.map((k) => k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()),
      rows.map((r) => keys.map((k) => cell(r[k]))),
    ),
  );
}

/** RFC 3339, or a UTC date (YYYY-MM-DD); a time without a zone is UTC. */
function parseTime(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const m = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/.exec(value);
  const ms = m === null ? NaN : Date.parse(m[1] !== undefined && m[4] === undefined ? `${value}Z` : value);
  if (Number.isNaN(ms)) {
    throw new OverseerError(
      ErrorCodes.BILLING_TIME_ARG_INVALID,
      `${flag} ${JSON.stringify(value)} is not a time`,
      {
        exitCode: 2,
        hint: 'use RFC 3339 (2026-11-25T10:00:00Z) or a UTC date (2026-11-25)',
      },
    );
  }
  return ms;
}

async function verify(
  ctx: CliContext,
  g: GlobalOptions,
  o: { tenant?: string; from?: string; to?: string },
): Promise<void> {
  const fromMs = parseTime(o.from, '--from');
  const toMs = parseTime(o.to, '--to');
  const r = await withDatabase(ctx, g, (db, config) =>
    verifyHours(db, {
      ...(o.tenant !== undefined ? { tenant: o.tenant } : {}),
      ...(fromMs !== undefined ? { fromMs } : {}),
      ...(toMs !== undefined ? { toMs } : {}),
      retainedFromMs: systemClock.nowMs() - config.billing.rawRetention,
    }),
  );
  if (g.json === true) ctx.output.out(JSON.stringify(r, null, 2));
  else {
    ctx.output.out(`checked ${r.checked} hourly row(s) against their raw records`);
    if (r.notVerifiableHours !== undefined)
      ctx.output.out(
        `not verifiable: ${r.notVerifiable} row(s) from ${r.notVerifiableHours.from} to ${r.notVerifiableHours.to} (raw records past billing.rawRetention)`,
      );
    ctx.output.out(
      r.differences.length === 0
        ? 'no differences'
        : table(
            ['TENANT', 'SPACE', 'HOUR', 'FIELD', 'HOURLY', 'RAW'],
            r.differences.map((d) => [d.tenant, d.space, d.hour, d.field, d.hourly, d.raw]),
          ),
    );
  }
  if (r.differences.length > 0) {
    throw new OverseerError(
      ErrorCodes.BILLING_VERIFY_DIFFERENCES,
      `${r.differences.length} difference(s) between hourly rows and their raw records`,
      {
        exitCode: 1,
        hint: 'hourly rows are what is billed: find out how they diverged (a manual edit, one table restored) before changing either',
      },
    );
  }
}
