import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, open, readFile, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../test/helpers/poll.js';
import { testShipper } from '../../test/helpers/logs-shipper.js';
import { ManualClock } from '../clock.js';
import { ErrorCodes } from '../errors/index.js';
import { gzipFile } from './compress.js';
import { Journal, journalPath } from './journal.js';
import { LocalObjectStore } from './local-store.js';
import { rotatedName } from './log-names.js';
import type { ObjectStore, PutOptions, StoredObject } from './object-store.js';
import { outboxPath } from './ship-plan.js';
import type { LogShipper } from './shipper.js';
import { type LogShipperOptions, type ShipEvent } from './shipper.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2025, 0, 2, 13);
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** A store that can be down, or lose the answer to a put that did land; counts puts that landed. */
class FlakyStore implements ObjectStore {
  mode: 'up' | 'down' | 'lose-put-answer' = 'up';
  readonly landed = new Map<string, number>();
  constructor(private readonly inner: ObjectStore) {}
  get describe() {
    return this.inner.describe;
  }
  private check(): void {
    if (this.mode === 'down') throw new Error('connect ECONNREFUSED (test store down)');
  }
  async put(key: string, file: string, opts: PutOptions): Promise<void> {
    this.check();
    await this.inner.put(key, file, opts);
    this.landed.set(key, (this.landed.get(key) ?? 0) + 1);
    if (this.mode === 'lose-put-answer') throw new Error('socket hang up (test: the put landed)');
  }
  async head(key: string): Promise<StoredObject | undefined> {
    this.check();
    return this.inner.head(key);
  }
  list(prefix: string): AsyncIterable<StoredObject> {
    this.check();
    return this.inner.list(prefix);
  }
  async delete(key: string): Promise<void> {
    this.check();
    return this.inner.delete(key);
  }
}

let root: string;
let logs: string;
let dataDir: string;
let outbox: string;
let archive: LocalObjectStore;
let store: FlakyStore;
let clock: ManualClock;
const shippers: LogShipper[] = [];

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'overseer-shipper-'));
  logs = join(root, 'logs');
  dataDir = join(root, 'data');
  outbox = join(dataDir, 'logs', 'outbox');
  await mkdir(logs);
  archive = new LocalObjectStore(join(root, 'archive'));
  store = new FlakyStore(archive);
  // Near real time: quiet periods compare file mtimes with this clock.
  clock = new ManualClock(Date.now());
});

afterEach(async () => {
  for (const s of shippers.splice(0)) await s.stop({ deadlineMs: 1000 });
  await rm(root, { recursive: true, force: true });
});

function make(over: Partial<LogShipperOptions> = {}, deps: { onOverLimit?: (o: boolean) => void } = {}) {
  const t = testShipper(
    {
      dirs: [logs],
      dataDir,
      host: 'web-1',
      localRetentionMs: DAY,
      prefix: 'logs/',
      intervalMs: 60_000,
      ...over,
    },
    { store, clock, random: () => 0.5, ...deps },
  );
  shippers.push(t.shipper);
  return t;
}

async function rotated(seq: number, data: Buffer | string, dir = logs, service = 'api'): Promise<string> {
  const file = join(dir, rotatedName({ service, startMs: T0, host: 'web-1', seq }));
  await writeFile(file, data);
  return file;
}

const keyOf = (file: string) => `logs/api/web-1/2025/01/02/13/${file.slice(file.lastIndexOf('/') + 1)}.gz`;

async function stored(key: string): Promise<Buffer> {
  return gunzipSync(await readFile(join(root, 'archive', ...key.split('/'))));
}

async function keys(): Promise<string[]> {
  const out: string[] = [];
  for await (const o of archive.list('')) out.push(o.key);
  return out.sort();
}

const outboxFiles = async () => (existsSync(outbox) ? (await readdir(outbox)).sort() : []);

async function metric(registry: Registry, name: string, labels: Record<string, string> = {}) {
  const m = await registry.getSingleMetric(name)!.get();
  return m.values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))?.value;
}

describe('LogShipper with a local archive', () => {
  it('compresses, uploads, verifies and journals rotated files, deletes sources, keeps .gz for localRetention', async () => {
    const datas = [0, 1, 2].map((i) => Buffer.from(`{"msg":"line ${i}"}\n`.repeat(500 + i)));
    const files = await Promise.all(datas.map((d, i) => rotated(i, d)));
    await writeFile(join(logs, 'api.log'), 'active, never shipped\n');
    const { shipper, registry } = make();
    const events: ShipEvent[] = [];

    const r = await shipper.shipOnce({ onProgress: (e) => events.push(e) });

    expect(r).toMatchObject({ discovered: 3, compressed: 3, sourcesDeleted: 3, uploaded: 3, failed: 0 });
    expect(r.error).toBeUndefined();
    for (const [i, f] of files.entries()) {
      expect(existsSync(f)).toBe(false);
      expect((await stored(keyOf(f))).equals(datas[i]!)).toBe(true);
    }
    expect(await readFile(join(logs, 'api.log'), 'utf8')).toBe('active, never shipped\n');
    expect(await keys()).toEqual(files.map(keyOf).sort());
    expect(await outboxFiles()).toHaveLength(3);
    const rows = await shipper.status();
    expect(rows.map((x) => [x.path, x.state, x.key])).toEqual(files.map((f) => [f, 'uploaded', keyOf(f)]));
    // The journal says it too, durably: a fresh reader sees every file uploaded with its sha256.
    const j = await Journal.open(journalPath(dataDir), { clock });
    const st = [...j.states().values()];
    await j.close();
    expect(st.map((s) => s.phase)).toEqual(['uploaded', 'uploaded', 'uploaded']);
    for (const s of st) expect((await archive.head(s.uploaded!.key))?.sha256).toBe(s.compressed!.sha256);
    expect(await metric(registry, 'overseer_log_files', { state: 'uploaded' })).toBe(3);
    expect(await metric(registry, 'overseer_log_bytes_pending')).toBe(0);
    const gzBytes = st.reduce((n, s) => n + s.compressed!.size, 0);
    expect(await metric(registry, 'overseer_log_uploaded_bytes_total')).toBe(gzBytes);
    expect(events.filter((e) => e.type === 'uploaded')).toHaveLength(3);

    clock.advance(DAY - 1);
    expect((await shipper.shipOnce()).gzDeleted).toBe(0);
    expect(await outboxFiles()).toHaveLength(3);
    clock.advance(1);
    expect((await shipper.shipOnce()).gzDeleted).toBe(3);
    expect(await outboxFiles()).toEqual([]);
    expect(await shipper.status()).toEqual([]);
    expect((await shipper.status({ includeDeleted: true })).map((x) => x.state)).toEqual([
      'deleted',
      'deleted',
      'deleted',
    ]);
    expect(await keys()).toHaveLength(3); // the archive keeps them
    expect(await metric(registry, 'overseer_log_files', { state: 'uploaded' })).toBe(0);
  });

  it('honours the key template', async () => {
    const f = await rotated(0, 'x\n');
    const { shipper } = make({
      keyTemplate: 'archive/{prefix}{host}/{service}/{YYYY}-{MM}-{DD}/{file}.gz',
      prefix: 'p/',
    });
    await shipper.shipOnce();
    const name = f.slice(f.lastIndexOf('/') + 1);
    expect(await keys()).toEqual([`archive/p/web-1/api/2025-01-02/${name}.gz`]);
  });

  it('re-gzips a damaged .gz from its source when the source is still there (a crash before its deletion)', async () => {
    const data = Buffer.from('{"msg":"hello"}\n'.repeat(2000));
    const f = await rotated(0, data);
    // State after a SIGKILL between journaling `compressed` and deleting the source; then bit rot.
    await mkdir(outbox, { recursive: true });
    const gz = outboxPath(outbox, f, f);
    const j = await Journal.open(journalPath(dataDir), { clock });
    await j.append({
      type: 'rotated',
      fileId: f,
      path: f,
      service: 'api',
      host: 'web-1',
      bytes: data.length,
      startMs: T0,
    });
    await j.append({ type: 'compressed', fileId: f, gzPath: gz, ...(await gzipFile(f, gz)) });
    await j.close();
    const h = await open(gz, 'r+');
    await h.write(Buffer.from('garbage!'), 0, 8, 20);
    await h.close();

    const { shipper } = make();
    const r = await shipper.shipOnce();

    expect(r).toMatchObject({ discovered: 0, compressed: 1, uploaded: 1, sourcesDeleted: 1, failed: 0 });
    expect((await stored(keyOf(f))).equals(data)).toBe(true);
    expect(existsSync(f)).toBe(false);
  });

  it('re-gzips when a foreign writer appended to the source after it was compressed', async () => {
    const f = await rotated(0, 'first\n');
    await mkdir(outbox, { recursive: true });
    const gz = outboxPath(outbox, f, f);
    const j = await Journal.open(journalPath(dataDir), { clock });
    await j.append({
      type: 'rotated',
      fileId: f,
      path: f,
      service: 'api',
      host: 'web-1',
      bytes: 6,
      startMs: T0,
    });
    await j.append({ type: 'compressed', fileId: f, gzPath: gz, ...(await gzipFile(f, gz)) });
    await j.close();
    await appendFile(f, 'second\n');

    const { shipper } = make();
    expect(await shipper.shipOnce()).toMatchObject({ compressed: 1, uploaded: 1, sourcesDeleted: 1 });
    expect((await stored(keyOf(f))).toString()).toBe('first\nsecond\n');
  });

  it('reports a damaged .gz whose source is gone and never uploads it', async () => {
    const f = await rotated(0, 'precious\n'.repeat(1000));
    const { shipper, errorCount } = make({ backoff: { baseMs: 1000, maxMs: 10_000 } });
    store.mode = 'down';
    expect(await shipper.shipOnce()).toMatchObject({
      compressed: 1,
      sourcesDeleted: 1,
      uploaded: 0,
      failed: 1,
    });
    const [gz] = await outboxFiles();
    await writeFile(join(outbox, gz!), 'not gzip at all');
    store.mode = 'up';
    clock.advance(10_000);

    expect(await shipper.shipOnce()).toMatchObject({ uploaded: 0, failed: 1 });

    const [row] = await shipper.status();
    expect(row).toMatchObject({ path: f, state: 'failed', attempts: 2 });
    expect(row!.lastError).toContain(String(ErrorCodes.LOG_SHIP_GZ_UNRECOVERABLE));
    expect(await errorCount(ErrorCodes.LOG_SHIP_GZ_UNRECOVERABLE)).toBe(1);
    expect(await keys()).toEqual([]);
    expect(await outboxFiles()).toEqual([gz]); // kept as evidence, never deleted
  });

  it('backs off while the store is down, alarms on the backlog, deletes nothing; then ships each object once', async () => {
    const overLimit: boolean[] = [];
    const { shipper, registry, errorCount } = make(
      { maxBacklogBytes: 45_000, backoff: { baseMs: 1000, maxMs: 8000 } },
      { onOverLimit: (o) => overLimit.push(o) },
    );
    store.mode = 'down';
    // Random bytes do not compress: each file is ~10 kB in the outbox too.
    const files = [await rotated(0, randomBytes(10_000)), await rotated(1, randomBytes(10_000))];

    const r1 = await shipper.shipOnce();
    expect(r1).toMatchObject({ compressed: 2, uploaded: 0, failed: 2 });
    const rows = await shipper.status();
    // random 0.5 → three quarters of the base delay
    expect(rows.map((x) => [x.state, x.attempts, x.nextAttemptAt])).toEqual([
      ['failed', 1, clock.nowMs() + 750],
      ['failed', 1, clock.nowMs() + 750],
    ]);
    expect(shipper.alarms()).toEqual([]);
    expect(await metric(registry, 'overseer_log_upload_failures_total')).toBe(2);

    // Not due yet: no attempt at all.
    clock.advance(700);
    expect(await shipper.shipOnce()).toMatchObject({ uploaded: 0, failed: 0 });
    clock.advance(100);
    expect(await shipper.shipOnce()).toMatchObject({ failed: 2 });
    expect((await shipper.status()).map((x) => x.attempts)).toEqual([2, 2]);

    files.push(await rotated(2, randomBytes(10_000)), await rotated(3, randomBytes(10_000)));
    const r3 = await shipper.shipOnce();
    expect(r3.backlog!.ratio).toBeGreaterThanOrEqual(0.8);
    expect(shipper.alarms().map((a) => a.alertname)).toContain('OverseerLogBacklogHigh');
    expect(await errorCount(ErrorCodes.LOG_SHIP_BACKLOG_HIGH)).toBeGreaterThan(0);

    files.push(await rotated(4, randomBytes(10_000)));
    const r4 = await shipper.shipOnce();
    expect(r4.backlog).toMatchObject({ files: 5, overLimit: true });
    expect(shipper.alarms().map((a) => a.alertname)).toEqual([
      'OverseerLogBacklogHigh',
      'OverseerLogBacklogFull',
    ]);
    expect(overLimit).toEqual([true]);
    expect(await metric(registry, 'overseer_log_bytes_pending')).toBe(r4.backlog!.bytes);
    expect(await metric(registry, 'overseer_log_oldest_pending_seconds')).toBe((clock.nowMs() - T0) / 1000);
    // Nothing un-uploaded is gone: every source lives on as a verified .gz.
    expect(await outboxFiles()).toHaveLength(5);

    // The store comes back but the first put's answer is lost: the retry must find it, not put again.
    store.mode = 'lose-put-answer';
    clock.advance(8000);
    await shipper.shipOnce();
    store.mode = 'up';
    clock.advance(8000);
    const r5 = await shipper.shipOnce();
    expect(r5.error).toBeUndefined();
    expect(r5.alreadyStored).toBeGreaterThan(0);
    expect((await shipper.status()).map((x) => x.state)).toEqual(Array(5).fill('uploaded'));
    expect(await keys()).toEqual(files.map(keyOf).sort());
    expect([...store.landed.values()]).toEqual(Array(5).fill(1));
    expect(shipper.alarms()).toEqual([]);
    expect(overLimit).toEqual([true, false]);
    expect(await outboxFiles()).toHaveLength(5); // still within localRetention
  });

  it('resumes after a restart on the same journal and folders without duplicates', async () => {
    const files = [await rotated(0, 'a\n'), await rotated(1, 'b\n')];
    const first = make().shipper;
    store.mode = 'down';
    await first.shipOnce();
    await first.stop();
    // A SIGKILL mid-gzip leaves a temp file; the next start removes it.
    await writeFile(join(outbox, 'x.log.gz.tmp'), 'half');
    store.mode = 'up';

    const second = make().shipper;
    await second.start();
    expect(await outboxFiles()).not.toContain('x.log.gz.tmp');
    // Backoff of the failed attempts is in the journal: the files wait for it.
    clock.advance(60_000);
    await second.shipOnce();
    expect(await keys()).toEqual(files.map(keyOf).sort());
    await second.stop();

    const third = make().shipper;
    // Read-only without opening: what a status command sees while a server owns the journal.
    expect((await third.status()).map((r) => [r.path, r.state])).toEqual(files.map((f) => [f, 'uploaded']));
    expect(await third.shipOnce()).toMatchObject({ discovered: 0, uploaded: 0, compressed: 0 });
    expect([...store.landed.values()]).toEqual([1, 1]);
  });

  it('ships a quiet foreign file as a snapshot, never touches it, and ships a changed one as a new version', async () => {
    const foreign = join(root, 'nginx');
    await mkdir(foreign);
    const access = join(foreign, 'access.log');
    // mtimes in the clock's frame: "written now" by the ManualClock.
    const touch = () => utimes(access, new Date(clock.nowMs()), new Date(clock.nowMs()));
    await writeFile(access, 'GET /a\n');
    await touch();
    await writeFile(join(foreign, 'notes.txt'), 'not a log\n');
    const rotatedForeign = await rotated(0, 'rotated by nginx\n', foreign, 'nginx');
    const { shipper } = make({ dirs: [], foreignDirs: [foreign], quietMs: 60_000 });

    const r1 = await shipper.shipOnce();
    expect(r1).toMatchObject({ discovered: 1, uploaded: 1 }); // only the rotated name: access.log is not quiet
    expect(existsSync(rotatedForeign)).toBe(false);

    clock.advance(59_999);
    expect(await shipper.shipOnce()).toMatchObject({ discovered: 0 });
    clock.advance(1);
    expect(await shipper.shipOnce()).toMatchObject({ discovered: 1, uploaded: 1, sourcesDeleted: 0 });
    const snaps = (await keys()).filter((k) => k.includes('access.log.'));
    expect(snaps).toEqual([
      expect.stringMatching(/^logs\/access\/web-1\/\d{4}(\/\d\d){3}\/access\.log\.7-[0-9a-f]{12}\.gz$/),
    ]);
    expect(snaps[0]).toContain(
      new Date(clock.nowMs() - 60_000).toISOString().slice(0, 10).replace(/-/g, '/'),
    );
    expect(await readFile(access, 'utf8')).toBe('GET /a\n');

    clock.advance(60_000);
    expect(await shipper.shipOnce()).toMatchObject({ discovered: 0, uploaded: 0 }); // same version: shipped

    await appendFile(access, 'GET /b\n');
    await touch();
    expect(await shipper.shipOnce()).toMatchObject({ discovered: 0 }); // changed just now: not quiet
    clock.advance(60_000);
    expect(await shipper.shipOnce()).toMatchObject({ discovered: 1, uploaded: 1 });
    const versions = (await keys()).filter((k) => k.includes('access.log.'));
    expect(versions).toHaveLength(2);
    const contents = await Promise.all(versions.map(async (k) => (await stored(k)).toString()));
    expect(contents.sort()).toEqual(['GET /a\n', 'GET /a\nGET /b\n']);
    expect(await readFile(access, 'utf8')).toBe('GET /a\nGET /b\n');
    expect((await keys()).some((k) => k.includes('notes'))).toBe(false);
  });

  it('refuses to let two folders overwrite each other under one key', async () => {
    const other = join(root, 'logs2');
    await mkdir(other);
    await rotated(0, 'from logs\n');
    await rotated(0, 'from logs2\n', other);
    const { shipper, errorCount } = make({ dirs: [logs, other] });
    const r = await shipper.shipOnce();
    expect(r).toMatchObject({ uploaded: 1, failed: 1 });
    expect(await errorCount(ErrorCodes.LOG_SHIP_KEY_COLLISION)).toBe(1);
    expect(await keys()).toHaveLength(1);
  });

  it('expires remote objects older than remoteRetention by the date in their key', async () => {
    await rotated(0, 'x\n');
    clock.set(T0 + DAY);
    const { shipper } = make({ remoteRetentionMs: 30 * DAY });
    expect(await shipper.shipOnce()).toMatchObject({ uploaded: 1, expired: 0 });
    const tmp = join(root, 'tmp.gz');
    await writeFile(tmp, 'y');
    await archive.put('logs/api/web-1/2020/01/01/00/api.old.log.gz', tmp, { sha256: sha('y'), size: 1 });
    await archive.put('logs/readme.txt', tmp, { sha256: sha('y'), size: 1 });
    clock.set(T0 + 31 * DAY);
    expect(await shipper.shipOnce()).toMatchObject({ expired: 2 });
    expect(await keys()).toEqual(['logs/readme.txt']); // not a key the template makes: left alone
  });

  it('runs passes on its own once started; stop is safe twice', async () => {
    const { shipper } = make({ intervalMs: 20 });
    await shipper.start();
    const f = await rotated(0, 'scheduled\n');
    await waitFor(
      'the scheduled pass to ship the file',
      async () => ((await keys()).length === 1 ? true : undefined),
      {
        timeoutMs: 10_000,
      },
    );
    expect(await keys()).toEqual([keyOf(f)]);
    await Promise.all([shipper.stop(), shipper.stop()]);
    expect(await shipper.shipOnce()).toMatchObject({ skipped: true });
  });
});
