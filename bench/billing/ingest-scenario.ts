import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sql } from 'kysely';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pino } from 'pino';
import { scanSpools } from '../../src/billing/spool.js';
import { systemClock } from '../../src/clock.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { openDatabase } from '../../src/db/open.js';
import { startPgCluster } from '../../test/helpers/pg-cluster.js';
import { makeTempDir, onCleanup } from '../lib/cleanup.js';
import { progress } from '../lib/progress.js';
import { judge, type Goal, type Result } from '../lib/results.js';
import type { Scenario } from '../lib/scenario.js';

const RECORDS = Number(process.env.BENCH_BILLING_RECORDS ?? 1_000_000);
const PER_FILE = 20_000;
const GOAL: Goal = {
  minValue: 150_000,
  minRatio: 0.3,
  text: '≥ 150,000 records/s and ≥ 0.3× a raw COPY of the same rows',
};
const BASE = Date.parse('2026-11-25T00:00:00Z');

/**
 * Record i of a fleet where each of 10 hosts reports every tenant and space every 5 minutes: 1,000
 * tenants × 2 spaces, so an hourly row sums 10 × 12 = 120 records (1M records ≈ 8,300 rows over ~4 h,
 * hour boundaries included). `sparse`: 2,000 tenants × 3 spaces over two days, ~3.5 records a row, the
 * worst case for the hourly upsert (informational).
 */
function record(i: number, sparse: boolean): Record<string, unknown> {
  const slot = Math.floor(i / 20_000); // 10 hosts × 2,000 tenant-spaces per 5-minute slot
  const within = i % 20_000;
  const ts = sparse ? BASE + ((i * 7919) % (2 * 86_400_000)) : BASE + slot * 300_000 + (within % 997) * 17;
  return {
    id: `r${i}`,
    tenant: sparse ? `t${i % 2000}` : `t${Math.floor(within / 2) % 1000}`,
    space: sparse ? `s${i % 3}` : `s${within % 2}`,
    host: `host-${sparse ? i % 10 : Math.floor(within / 2000)}`,
    ts: new Date(ts).toISOString(),
    cpu_ms: 100 + (i % 50),
    memory_byte_seconds: 2.1e9 + i,
    messages: i % 20,
    bytes_in: 5120,
    bytes_out: 900,
  };
}

async function measure(sparse: boolean): Promise<Result> {
  const dir = makeTempDir('overseer-bench-billing-');
  const shape = sparse ? 'sparse' : 'fleet';
  const spool = path.join(dir, 'spool');
  mkdirSync(spool);
  progress(
    `billing-ingest (${shape}): writing ${RECORDS} records into ${Math.ceil(RECORDS / PER_FILE)} spool files`,
  );
  let tsv = '';
  for (let f = 0; f * PER_FILE < RECORDS; f++) {
    const lines: string[] = [];
    for (let i = f * PER_FILE; i < Math.min(RECORDS, (f + 1) * PER_FILE); i++) {
      const r = record(i, sparse);
      lines.push(JSON.stringify(r));
      tsv += `${String(r.host)}\t${String(r.id)}\t${String(r.tenant)}\t${String(r.space)}\t${String(r.ts)}\t${String(r.cpu_ms)}\t${String(r.memory_byte_seconds)}\t${String(r.messages)}\t${String(r.bytes_in)}\t${String(r.bytes_out)}\n`;
    }
    writeFileSync(path.join(spool, `host-${f % 10}.${1_764_000_000 + f}.ndjson`), `${lines.join('\n')}\n`);
  }
  progress('billing-ingest: starting Postgres with its default durability (fsync on)');
  const cluster = await startPgCluster({ durable: true });
  onCleanup(() => cluster.stop());
  const logger = pino({ level: 'warn' });
  const opened = await openDatabase({ url: cluster.url, dataDir: dir, logger });
  try {
    await migrateToLatest(opened.db, logger);
    // Baseline: the same rows, already as COPY text, into an unlogged table with no index.
    await sql`create unlogged table copy_baseline (host text, id text, tenant text, space text,
      ts timestamptz, cpu_ms bigint, mem float8, messages bigint, bytes_in bigint, bytes_out bigint)`.execute(
      opened.db,
    );
    const client = new pg.Client({ connectionString: cluster.url });
    await client.connect();
    progress('billing-ingest: baseline COPY');
    const c0 = performance.now();
    await pipeline(Readable.from([tsv]), client.query(copyFrom('copy copy_baseline from stdin')));
    const copySeconds = (performance.now() - c0) / 1000;
    await client.end();
    progress('billing-ingest: Overseer spool scan (files → hourly rows, exactly once)');
    let done = 0;
    const t0 = performance.now();
    const reports = await scanSpools({
      db: opened.db,
      dirs: [spool],
      clock: systemClock,
      logger,
      onFile: (r) => {
        done += r.accepted;
        if (done % 200_000 < PER_FILE) progress(`billing-ingest: ${done}/${RECORDS}`);
      },
    });
    const seconds = (performance.now() - t0) / 1000;
    const accepted = reports.reduce((a, r) => a + r.accepted, 0);
    const totals = await sql<{ records: string; cpu: string }>`
      select sum(records) as records, sum(cpu_ms) as cpu from billing_hourly`.execute(opened.db);
    let cpu = 0;
    for (let i = 0; i < RECORDS; i++) cpu += 100 + (i % 50);
    if (
      accepted !== RECORDS ||
      Number(totals.rows[0]!.records) !== RECORDS ||
      Number(totals.rows[0]!.cpu) !== cpu
    )
      throw new Error(`not exactly once: accepted ${accepted}, hourly records ${totals.rows[0]!.records}`);
    const value = RECORDS / seconds;
    const baseline = RECORDS / copySeconds;
    const hours = await sql<{ n: string }>`select count(*) as n from billing_hourly`.execute(opened.db);
    return {
      name: sparse ? 'files-to-hourly-rows-sparse' : 'files-to-hourly-rows',
      unit: 'records/s',
      value,
      baseline: { name: 'raw COPY into an unlogged table', value: baseline },
      ratioOf: 'ours/baseline',
      ratio: value / baseline,
      goal: sparse ? null : GOAL,
      pass: sparse ? null : judge(value, value / baseline, GOAL),
      notes: [
        `${RECORDS} records in ${reports.length} files of ${PER_FILE}; ${hours.rows[0]!.n} hourly rows; checked: every record counted once, cpu_ms total exact`,
        `ours ${seconds.toFixed(2)} s (read, sha256, parse, COPY to a temp table, keys, raw rows, hourly upsert, ledger, move to done/; 2 workers); COPY ${copySeconds.toFixed(2)} s`,
        'Postgres 15 with fsync, synchronous_commit and full_page_writes on (its defaults), same machine',
      ],
    };
  } finally {
    await opened.close();
    await cluster.stop();
  }
}

async function run(): Promise<Result[]> {
  return [await measure(false), await measure(true)];
}

export const billingIngestScenario: Scenario = {
  name: 'billing-ingest',
  description: '1,000,000 billing records in spool files → hourly rows, exactly once, vs raw COPY',
  run,
};
