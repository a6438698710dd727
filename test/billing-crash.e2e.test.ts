import type { ChildProcess } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOverseer, spawnOverseer } from './helpers/cli-process.js';
import { waitFor } from './helpers/poll.js';
import { createTestDatabase, type TestDatabase } from './helpers/test-db.js';
import { seededRandom } from './helpers/prng.js';

/*
 * Crash safety of `overseer billing ingest <spool>`: the process is killed with SIGKILL at random points,
 * 20 times, and restarted; afterwards the hourly rows must equal a ground truth computed here from the
 * input files alone (own parser, own validity rules, own dedupe by (host, id)), not by src/billing.
 */

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const KILLS = 20;
/** Runs allowed to reach KILLS kills (a run may finish before its kill point; it then counts for nothing). */
const MAX_RUNS = 30;
const FILES = 40;
/** Files with more than one ingest chunk (20,000 distinct records each): a kill can land between chunks. */
const BIG_FILES = 3;
/** Records per ingest transaction (src/billing/ingest.ts INGEST_CHUNK), to know which files have several. */
const CHUNK = 20_000;

// Override to replay a failure: BILLING_CRASH_SEED=<seed printed in the test name>.
const SEED = process.env.BILLING_CRASH_SEED
  ? Number(process.env.BILLING_CRASH_SEED)
  : Math.floor(Math.random() * 2 ** 31);

interface SpoolFile {
  name: string;
  text: string;
  /** Lines written, valid or not. */
  lines: number;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** The same instant written with a UTC offset, e.g. `2026-11-25T01:30:00.000+02:00`. */
function withOffset(ms: number, offsetMin: number): string {
  const local = new Date(ms + offsetMin * 60_000).toISOString().slice(0, 23);
  const a = Math.abs(offsetMin);
  return `${local}${offsetMin < 0 ? '-' : '+'}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

/**
 * The spool: FILES files of ~2,500 lines (BIG_FILES of 24,000–30,000), over six UTC hours around the
 * midnight that starts `dayMs`, five tenants × three spaces, from six hosts. About 4% of lines repeat an
 * earlier record of the same host byte for byte (in the same or another file), one file is a byte copy of
 * another under a new name, ~0.2% of lines are invalid in one of several ways, one file has CRLF line ends
 * and one lacks its final newline.
 */
function generateSpool(seed: number, dayMs: number): SpoolFile[] {
  const rnd = seededRandom(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const hosts = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'];
  const history = new Map<string, string[]>(hosts.map((h) => [h, []]));
  let nextId = 0;
  let nextBad = 0;
  const big = new Set<number>();
  while (big.size < BIG_FILES) big.add(int(0, FILES - 1));
  const copyOf = int(1, 10);
  const copyAt = int(20, FILES - 1);
  // The copy takes the place of file copyAt: a big file drawn there would be small, one probe short.
  // Redrawn after the fact so that seeds printed before this line still replay the same spool.
  if (big.delete(copyAt)) {
    while (big.size < BIG_FILES) {
      const f = int(0, FILES - 1);
      if (f !== copyAt) big.add(f);
    }
  }
  const crlfAt = int(0, FILES - 1);
  const noFinalNewlineAt = int(0, FILES - 1);

  const record = (host: string): string => {
    const tsMs = dayMs - 3 * HOUR_MS + Math.floor(rnd() * 6 * HOUR_MS);
    return JSON.stringify({
      id: `${host}-${nextId++}`,
      tenant: pick(['t1', 't2', 't3', 't4', 't5']),
      space: pick(['s1', 's2', 's3']),
      host,
      ts: rnd() < 0.05 ? withOffset(tsMs, pick([120, -300, 330])) : new Date(tsMs).toISOString(),
      cpu_ms: int(0, 5_000),
      memory_byte_seconds: rnd() * 3e9,
      messages: int(0, 100),
      bytes_in: int(0, 1_000_000),
      bytes_out: int(0, 1_000_000),
    });
  };
  const bad = (host: string): string => {
    const base = JSON.parse(record(host)) as Record<string, unknown>;
    base.id = `${host}-bad-${nextBad++}`;
    const kinds: Array<() => string> = [
      () => JSON.stringify(base).slice(0, 40),
      () => JSON.stringify({ ...base, cpu_ms: -5 }),
      () => JSON.stringify({ ...base, tenant: undefined }),
      () => JSON.stringify({ ...base, ts: 'yesterday' }),
      () => JSON.stringify({ ...base, id: '' }),
      () => JSON.stringify({ ...base, messages: 1.5 }),
      () => JSON.stringify({ ...base, memory_byte_seconds: '12' }),
      () => JSON.stringify([base]),
    ];
    return pick(kinds)();
  };

  const files: SpoolFile[] = [];
  for (let f = 0; f < FILES; f++) {
    if (f === copyAt) {
      const src = files[copyOf]!;
      files.push({ ...src, name: src.name.replace(/\.\d+\./, `.${1_732_500_000 + f * 60}.`) });
      continue;
    }
    const host = pick(hosts);
    const seen = history.get(host)!;
    const n = big.has(f) ? int(24_000, 30_000) : int(2_000, 3_000);
    const lines: string[] = [];
    for (let i = 0; i < n; i++) {
      const r = rnd();
      if (r < 0.002) lines.push(bad(host));
      else if (r < 0.04 && seen.length > 0) lines.push(pick(seen));
      else {
        const line = record(host);
        seen.push(line);
        lines.push(line);
      }
    }
    const eol = f === crlfAt ? '\r\n' : '\n';
    const text = lines.join(eol) + (f === noFinalNewlineAt ? '' : eol);
    files.push({ name: `${host}.${1_732_500_000 + f * 60}.ndjson`, text, lines: n });
  }
  return files;
}

interface Sums {
  records: number;
  cpu_ms: number;
  memory_byte_seconds: number;
  messages: number;
  bytes_in: number;
  bytes_out: number;
  firstMs: number;
  lastMs: number;
}

interface Truth {
  /** By `tenant/space/hour ISO`. */
  rows: Map<string, Sums>;
  distinctKeys: number;
  rejectedByFile: Map<string, number>;
  /** Valid lines of each file, repeats included. */
  validByFile: Map<string, number>;
  /** Repeated (host, id) pairs whose line differed from the first: must be 0 for a well-defined truth. */
  conflicts: number;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const isName = (v: unknown): v is string =>
  typeof v === 'string' && v.length >= 1 && v.length <= 200 && [...v].every((c) => c >= ' ');
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

interface Valid {
  id: string;
  tenant: string;
  space: string;
  host: string;
  tsMs: number;
  cpu_ms: number;
  memory_byte_seconds: number;
  messages: number;
  bytes_in: number;
  bytes_out: number;
}

/** The record schema, as far as this generator's data needs it. */
function validRecord(line: string): Valid | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  const { id, tenant, space, host, ts, cpu_ms, memory_byte_seconds: mem, messages, bytes_in, bytes_out } = o;
  if (!isName(id) || !isName(tenant) || !isName(space) || !isName(host)) return undefined;
  if (!isCount(cpu_ms) || !isCount(messages) || !isCount(bytes_in) || !isCount(bytes_out)) return undefined;
  if (typeof mem !== 'number' || !Number.isFinite(mem) || mem < 0) return undefined;
  if (typeof ts !== 'string' || !RFC3339.test(ts) || !Number.isFinite(Date.parse(ts))) return undefined;
  const tsMs = Date.parse(ts);
  return { id, tenant, space, host, tsMs, cpu_ms, memory_byte_seconds: mem, messages, bytes_in, bytes_out };
}

function groundTruth(files: readonly SpoolFile[]): Truth {
  const first = new Map<string, string>();
  const rows = new Map<string, Sums>();
  const rejectedByFile = new Map<string, number>();
  const validByFile = new Map<string, number>();
  let conflicts = 0;
  for (const f of files) {
    let rejected = 0;
    let valid = 0;
    for (const raw of f.text.split('\n')) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line.trim() === '') continue;
      const r = validRecord(line);
      if (r === undefined) {
        rejected++;
        continue;
      }
      valid++;
      const key = `${r.host}\u0000${r.id}`;
      const prior = first.get(key);
      if (prior !== undefined) {
        if (prior !== line) conflicts++;
        continue;
      }
      first.set(key, line);
      const hour = new Date(Math.floor(r.tsMs / HOUR_MS) * HOUR_MS).toISOString();
      const k = `${r.tenant}/${r.space}/${hour}`;
      const s = rows.get(k);
      if (s === undefined) {
        rows.set(k, {
          records: 1,
          cpu_ms: r.cpu_ms,
          memory_byte_seconds: r.memory_byte_seconds,
          messages: r.messages,
          bytes_in: r.bytes_in,
          bytes_out: r.bytes_out,
          firstMs: r.tsMs,
          lastMs: r.tsMs,
        });
      } else {
        s.records++;
        s.cpu_ms += r.cpu_ms;
        s.memory_byte_seconds += r.memory_byte_seconds;
        s.messages += r.messages;
        s.bytes_in += r.bytes_in;
        s.bytes_out += r.bytes_out;
        s.firstMs = Math.min(s.firstMs, r.tsMs);
        s.lastMs = Math.max(s.lastMs, r.tsMs);
      }
    }
    rejectedByFile.set(f.name, rejected);
    validByFile.set(f.name, valid);
  }
  return { rows, distinctKeys: first.size, rejectedByFile, validByFile, conflicts };
}

/** Two record keys of a multi-chunk file, each in no file the ingest reads before it. */
interface ChunkProbe {
  host: string;
  /** In the file's first chunk. */
  first: string;
  /** In its last chunk, which commits together with the file's ledger row. */
  last: string;
}

/**
 * Probes of the files with more than one ingest chunk (20,000 distinct records, in the order they first
 * appear in the file): the first chunk committed and the last not ⇔ `first` is a record key and `last`
 * is not. Only a kill between those two commits leaves that state behind.
 */
function chunkProbes(files: readonly SpoolFile[]): Map<string, ChunkProbe> {
  const earlier = new Set<string>();
  const probes = new Map<string, ChunkProbe>();
  // The ingest reads a spool in name order, and a later run resumes where an earlier one stopped.
  for (const f of [...files].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const distinct: Array<{ host: string; id: string; key: string }> = [];
    const inFile = new Set<string>();
    for (const raw of f.text.split('\n')) {
      const r = validRecord(raw.endsWith('\r') ? raw.slice(0, -1) : raw);
      if (r === undefined) continue;
      const key = `${r.host}\u0000${r.id}`;
      if (inFile.has(key)) continue;
      inFile.add(key);
      distinct.push({ host: r.host, id: r.id, key });
    }
    if (distinct.length > CHUNK) {
      const first = distinct.slice(0, CHUNK).find((d) => !earlier.has(d.key));
      const last = distinct
        .slice(Math.floor((distinct.length - 1) / CHUNK) * CHUNK)
        .find((d) => !earlier.has(d.key));
      if (first !== undefined && last !== undefined && first.host === last.host)
        probes.set(f.name, { host: first.host, first: first.id, last: last.id });
    }
    for (const k of inFile) earlier.add(k);
  }
  return probes;
}

/** Every difference between billing_hourly and the truth, one readable line each. */
async function hourlyDifferences(client: pg.Client, truth: Truth): Promise<string[]> {
  const { rows } = await client.query<{
    tenant: string;
    space: string;
    hour: Date;
    records: number;
    cpu_ms: string;
    memory_byte_seconds: number;
    messages: string;
    bytes_in: string;
    bytes_out: string;
    first_ts: Date;
    last_ts: Date;
  }>(
    `select tenant, space, hour, records, cpu_ms, memory_byte_seconds, messages, bytes_in, bytes_out,
            first_ts, last_ts
     from billing_hourly`,
  );
  const diffs: string[] = [];
  const inDb = new Set<string>();
  for (const r of rows) {
    const k = `${r.tenant}/${r.space}/${r.hour.toISOString()}`;
    inDb.add(k);
    const t = truth.rows.get(k);
    if (t === undefined) {
      diffs.push(`${k}: in billing_hourly, not in the truth (${r.records} records)`);
      continue;
    }
    const exact: Array<[string, number, number]> = [
      ['records', r.records, t.records],
      ['cpu_ms', Number(r.cpu_ms), t.cpu_ms],
      ['messages', Number(r.messages), t.messages],
      ['bytes_in', Number(r.bytes_in), t.bytes_in],
      ['bytes_out', Number(r.bytes_out), t.bytes_out],
      ['first_ts', r.first_ts.getTime(), t.firstMs],
      ['last_ts', r.last_ts.getTime(), t.lastMs],
    ];
    for (const [field, db, want] of exact)
      if (db !== want) diffs.push(`${k} ${field}: db ${db}, truth ${want}`);
    const rel = Math.abs(r.memory_byte_seconds - t.memory_byte_seconds) / Math.max(t.memory_byte_seconds, 1);
    if (!(rel <= 1e-6))
      diffs.push(`${k} memory_byte_seconds: db ${r.memory_byte_seconds}, truth ${t.memory_byte_seconds}`);
  }
  for (const k of truth.rows.keys())
    if (!inDb.has(k)) diffs.push(`${k}: in the truth, not in billing_hourly`);
  return diffs;
}

const count = async (client: pg.Client, sql: string): Promise<number> =>
  Number((await client.query<{ n: string }>(sql)).rows[0]!.n);

const spoolNames = (dir: string): string[] =>
  readdirSync(dir)
    .filter((n) => n.endsWith('.ndjson'))
    .sort();
const doneNames = (dir: string): string[] =>
  existsSync(path.join(dir, 'done')) ? readdirSync(path.join(dir, 'done')).sort() : [];

type Kind = 'startup' | 'files' | 'chunk' | 'last file';

interface Outcome {
  kind: Kind;
  /** For `files`: how many files the run moved to done/ before the kill's random extra time started. */
  k?: number;
  killedAtMs: number | undefined;
  doneBefore: number;
  doneAfter: number;
  keysBefore: number;
  keysAfter: number;
  /** This run committed a multi-chunk file's first chunk but not its last. */
  betweenChunks: boolean;
  /** A file's ledger row committed but the file was still in the spool, not yet in done/. */
  ledgeredNotMoved: boolean;
}

const describeRun = (o: Outcome, i: number): string =>
  `  run ${i} ${o.kind}${o.k !== undefined ? ` ${o.k}` : ''}: ` +
  `${o.killedAtMs !== undefined ? `killed at ${o.killedAtMs} ms` : 'finished'}; ` +
  `done/ ${o.doneBefore}→${o.doneAfter}, keys ${o.keysBefore}→${o.keysAfter}` +
  `${o.betweenChunks ? ', between chunks' : ''}${o.ledgeredNotMoved ? ', ledgered not moved' : ''}`;

describe('overseer billing ingest survives SIGKILL at random points', () => {
  let work: string;
  let crashDb: TestDatabase | undefined;
  let baseDb: TestDatabase | undefined;
  let client: pg.Client | undefined;
  let files: SpoolFile[];
  let truth: Truth;
  let probes: Map<string, ChunkProbe>;
  /** The ingest process running now, if any: killed if the test fails while it runs. */
  let running: ChildProcess | undefined;
  const envOf = (db: TestDatabase): Record<string, string> => ({
    DATABASE_URL: db.url,
    OVERSEER_DATA_DIR: path.join(work, 'data'),
  });

  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'overseer-billing-crash-'));
    // Yesterday's midnight (UTC): every hour is in the past and within raw retention, so verify checks it.
    const dayMs = Math.floor(Date.now() / DAY_MS) * DAY_MS - DAY_MS;
    files = generateSpool(SEED, dayMs);
    truth = groundTruth(files);
    probes = chunkProbes(files);
    const spool = path.join(work, 'spool');
    mkdirSync(spool);
    for (const f of files) writeFileSync(path.join(spool, f.name), f.text);
    [crashDb, baseDb] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  });
  afterAll(async () => {
    if (running?.exitCode === null && running.signalCode === null) running.kill('SIGKILL');
    await client?.end();
    await Promise.all([crashDb?.drop(), baseDb?.drop()]);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it(`hourly totals equal the ground truth after ${KILLS} kills and a last run (seed ${SEED})`, async () => {
    const spool = path.join(work, 'spool');
    const names = files.map((f) => f.name).sort();
    const totalLines = files.reduce((a, f) => a + f.lines, 0);
    // The fixture is what the test claims it is.
    expect(Number.isSafeInteger(SEED), 'BILLING_CRASH_SEED must be an integer').toBe(true);
    expect(truth.conflicts).toBe(0);
    expect(new Set(names).size).toBe(FILES);
    expect(probes.size).toBe(BIG_FILES);
    expect(truth.distinctKeys).toBeLessThan(totalLines - 1_000);
    expect([...truth.rejectedByFile.values()].reduce((a, n) => a + n, 0)).toBeGreaterThan(50);
    expect(new Set([...truth.rows.keys()].map((k) => k.split('/')[2]!.slice(0, 10))).size).toBe(2);

    // One uninterrupted run on a copy, on its own database: how long a whole run and a bare start take
    // (to place the kill points), and proof that ingest without crashes already meets the truth.
    const copy = path.join(work, 'copy');
    cpSync(spool, copy, { recursive: true });
    const t0 = performance.now();
    const base = await runOverseer(['billing', 'ingest', copy], envOf(baseDb!), work);
    const fullMs = performance.now() - t0;
    expect(base.stderr).not.toMatch(/error/i);
    expect(base.code).toBe(0);
    const e0 = performance.now();
    expect((await runOverseer(['billing', 'ingest', copy], envOf(baseDb!), work)).code).toBe(0);
    const startupMs = performance.now() - e0;
    const baseClient = new pg.Client({ connectionString: baseDb!.url });
    await baseClient.connect();
    try {
      expect(await hourlyDifferences(baseClient, truth)).toEqual([]);
      expect(await count(baseClient, 'select sum(accepted) as n from billing_files')).toBe(
        truth.distinctKeys,
      );
    } finally {
      await baseClient.end();
    }
    await baseDb!.drop();
    baseDb = undefined;
    rmSync(copy, { recursive: true, force: true });
    const fileMs = Math.max(fullMs - startupMs, 100) / FILES;

    client = new pg.Client({ connectionString: crashDb!.url });
    await client.connect();
    const db = client;
    const env = envOf(crashDb!);
    let migrated = false;
    const isMigrated = async (): Promise<boolean> =>
      (migrated ||= (
        await db.query<{ ok: boolean }>(
          `select to_regclass('public.billing_record_keys') is not null
              and to_regclass('public.billing_files') is not null as ok`,
        )
      ).rows[0]!.ok);
    const keysCount = async (): Promise<number> =>
      (await isMigrated()) ? count(db, 'select count(*) as n from billing_record_keys') : 0;
    const partial = async (name: string): Promise<boolean> => {
      if (!(await isMigrated())) return false;
      const p = probes.get(name)!;
      const r = await db.query<{ first: number; last: number }>(
        `select count(*) filter (where id = $2)::int as first, count(*) filter (where id = $3)::int as last
         from billing_record_keys where host = $1 and id in ($2, $3)`,
        [p.host, p.first, p.last],
      );
      return r.rows[0]!.first === 1 && r.rows[0]!.last === 0;
    };
    const partials = async (): Promise<Set<string>> => {
      const out = new Set<string>();
      for (const name of probes.keys()) if (await partial(name)) out.add(name);
      return out;
    };
    const ledgered = async (candidates: string[]): Promise<string[]> =>
      (await isMigrated())
        ? (
            await db.query<{ name: string }>('select name from billing_files where name = any($1)', [
              candidates,
            ])
          ).rows.map((r) => r.name)
        : [];

    // One kill point per run, of one of these kinds:
    // - `startup`: a random time into process start (node, migrations, listing, the first read);
    // - `chunk`: when a multi-chunk file not aimed at before is among the next three of the spool: the
    //   moment its first chunk has committed and its last (which carries the ledger row) has not;
    // - `files`: once this run has moved k more files to done/ (k random, sized so that the kills still
    //   to come spread over the rest of the spool and leave some for the last run; never past a
    //   multi-chunk file not aimed at yet), plus a random time of up to two files' work, which lands in
    //   the reading, parsing, a chunk's COPY or statement, its commit or the move of the next file;
    // - `last file`: one file left: a random time around the end of startup and into that file.
    const rnd = seededRandom(SEED ^ 0x5eed);
    const aimed = new Set<string>();
    const outcomes: Outcome[] = [];
    let kills = 0;
    for (let run = 0; kills < KILLS; run++) {
      expect(
        run,
        `runs needed for ${KILLS} kills (seed ${SEED}):\n${outcomes.map(describeRun).join('\n')}`,
      ).toBeLessThan(MAX_RUNS);
      const [early, u, v] = [rnd() < 0.2, rnd(), rnd()];
      const pending = spoolNames(spool);
      const doneBefore = doneNames(spool).length;
      const keysBefore = await keysCount();
      const partialBefore = await partials();
      const bigAt = pending.findIndex((n) => probes.has(n) && !aimed.has(n) && !partialBefore.has(n));
      const kind: Kind =
        early || pending.length === 0
          ? 'startup'
          : bigAt >= 0 && bigAt < 3
            ? 'chunk'
            : pending.length === 1
              ? 'last file'
              : 'files';

      const t = performance.now();
      const s = spawnOverseer(['billing', 'ingest', spool], env, work);
      running = s.child;
      let exited = false;
      void s.exited.then(() => (exited = true));
      /** true: the run ended by itself first. */
      const until = (what: string, check: () => boolean | Promise<boolean>): Promise<boolean> =>
        waitFor(
          `run ${run}: ${what}, or the run's end`,
          async () => (exited ? true : (await check()) ? false : undefined),
          { timeoutMs: 60_000, intervalMs: 5 },
        );
      const pause = async (ms: number): Promise<boolean> => {
        const ac = new AbortController();
        try {
          return await Promise.race([s.exited.then(() => true), sleep(ms, false, { signal: ac.signal })]);
        } finally {
          ac.abort();
        }
      };
      let finished: boolean;
      let k: number | undefined;
      if (kind === 'chunk') {
        const big = pending[bigAt]!;
        aimed.add(big);
        // Should the poll miss that moment, the kill still comes right after the file is done.
        finished = await until(
          `the first chunk of ${big} committed`,
          async () => (await partial(big)) || !existsSync(path.join(spool, big)),
        );
      } else if (kind === 'files') {
        const share = pending.length / (KILLS - kills + 1);
        k = Math.max(
          1,
          Math.min(Math.round(u * 2 * share), pending.length - 1, bigAt >= 0 ? bigAt : Infinity),
        );
        const want = doneBefore + k;
        finished = await until(`${k} more file(s) in done/`, () => doneNames(spool).length >= want);
        if (!finished) finished = await pause(v * 2 * fileMs);
      } else if (kind === 'last file') {
        finished = await pause(startupMs * (0.7 + 0.5 * u) + v * 2 * fileMs);
      } else {
        finished = await pause(3 + u * startupMs * (pending.length === 0 ? 0.5 : 1));
      }
      const elapsedMs = Math.round(performance.now() - t);
      if (!finished) s.child.kill('SIGKILL');
      await waitFor(`run ${run} to exit`, () => (exited ? true : undefined), { timeoutMs: 15_000 });
      const killed = s.child.signalCode === 'SIGKILL';
      if (killed) kills++;
      else expect({ run, code: s.child.exitCode, stderr: s.stderr() }).toMatchObject({ code: 0 });

      const partialAfter = await partials();
      const inSpool = spoolNames(spool);
      outcomes.push({
        kind,
        ...(k !== undefined ? { k } : {}),
        killedAtMs: killed ? elapsedMs : undefined,
        doneBefore,
        doneAfter: doneNames(spool).length,
        keysBefore,
        keysAfter: await keysCount(),
        betweenChunks: [...partialAfter].some((n) => !partialBefore.has(n)),
        ledgeredNotMoved: (await ledgered(inSpool)).length > 0,
      });
    }

    const last = await runOverseer(['billing', 'ingest', spool], env, work);
    expect(last.stderr).not.toMatch(/error/i);
    expect(last.code).toBe(0);

    const killed = outcomes.filter((o) => o.killedAtMs !== undefined);
    const midIngest = killed.filter(
      (o) => (o.doneAfter > o.doneBefore || o.keysAfter > o.keysBefore) && o.doneAfter < FILES,
    );
    const betweenChunks = killed.filter((o) => o.betweenChunks);
    const ledgerAccepted = await count(db, 'select sum(accepted) as n from billing_files');
    const report =
      `seed ${SEED}: one whole run ${Math.round(fullMs)} ms (bare start ${Math.round(startupMs)} ms); ` +
      `${outcomes.length} runs, ${killed.length} kills, ${midIngest.length} mid-ingest, ` +
      `${betweenChunks.length} between chunks, ` +
      `${killed.filter((o) => o.ledgeredNotMoved).length} between ledger commit and move; ` +
      `billing_files.accepted sums to ${ledgerAccepted} of ${truth.distinctKeys}\n` +
      outcomes.map(describeRun).join('\n');
    process.stderr.write(`${report}\n`);

    // Exactly once: every hourly row equals the truth; every record counted once.
    expect(await hourlyDifferences(db, truth)).toEqual([]);
    expect(await count(db, 'select sum(records) as n from billing_hourly')).toBe(truth.distinctKeys);
    expect(await count(db, 'select count(*) as n from billing_record_keys')).toBe(truth.distinctKeys);
    expect(await count(db, 'select count(*) as n from billing_raw')).toBe(truth.distinctKeys);
    // The ledger: one row per file, with what the file holds. Its `accepted` counts what the run that
    // wrote the row added: records that an earlier, killed run committed in an earlier chunk count there
    // as duplicates, so after kills between chunks the sum falls short of the distinct keys.
    const ledger = await db.query<{
      name: string;
      records: number;
      accepted: number;
      duplicates: number;
      rejected: number;
    }>('select name, records, accepted, duplicates, rejected from billing_files order by name');
    expect(ledger.rows.map((r) => r.name)).toEqual(names);
    for (const r of ledger.rows) {
      expect({ ...r, sum: r.accepted + r.duplicates }).toMatchObject({
        records: truth.validByFile.get(r.name),
        rejected: truth.rejectedByFile.get(r.name),
        sum: r.records,
      });
    }
    expect(ledgerAccepted).toBeLessThanOrEqual(truth.distinctKeys);
    // Every file moved to done/ once (a second copy would carry a hash suffix), none left behind.
    expect(spoolNames(spool)).toEqual([]);
    expect(doneNames(spool)).toEqual(names);
    for (const f of files) {
      const quarantine = path.join(spool, 'rejected', `${f.name}.rejected.ndjson`);
      const got = existsSync(quarantine) ? readFileSync(quarantine, 'utf8').split('\n').length - 1 : 0;
      expect({ file: f.name, rejected: got }).toEqual({
        file: f.name,
        rejected: truth.rejectedByFile.get(f.name),
      });
    }
    const verify = await runOverseer(['billing', 'verify'], env, work);
    expect(verify.stdout).toContain(`checked ${truth.rows.size} hourly row(s)`);
    expect(verify.stdout).toContain('no differences');
    expect(verify.code).toBe(0);

    // The kills proved something: many runs were cut off with part of the spool ingested, and at least
    // one between the chunks of a file.
    expect(killed.length).toBe(KILLS);
    expect(midIngest.length, report).toBeGreaterThanOrEqual(8);
    expect(betweenChunks.length, report).toBeGreaterThanOrEqual(1);
  }, 180_000);
});
