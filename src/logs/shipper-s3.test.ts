import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  bucketKeys,
  gunzippedObject,
  s3TestStore,
  testShipper,
  writeRotated,
} from '../../test/helpers/logs-shipper.js';
import { startS3rver, type S3rverInstance, rawS3Client } from '../../test/helpers/s3rver.js';
import { ManualClock } from '../clock.js';
import { ErrorCodes } from '../errors/index.js';
import type { ObjectStore, PutOptions, StoredObject } from './object-store.js';
import type { S3ObjectStore, S3StoreOptions } from './s3-store.js';
import type { LogShipperOptions, ShipEvent } from './shipper.js';

const MiB = 1024 * 1024;
const DAY = 86_400_000;
const T0 = Date.UTC(2025, 0, 2, 13);
const logger = pino({ level: 'silent' });

/** Counts the puts that completed, per key. */
class Counting implements ObjectStore {
  readonly puts = new Map<string, number>();
  constructor(readonly inner: S3ObjectStore) {}
  get describe() {
    return this.inner.describe;
  }
  async put(key: string, file: string, opts: PutOptions): Promise<void> {
    await this.inner.put(key, file, opts);
    this.puts.set(key, (this.puts.get(key) ?? 0) + 1);
  }
  head(key: string): Promise<StoredObject | undefined> {
    return this.inner.head(key);
  }
  list(prefix: string): AsyncIterable<StoredObject> {
    return this.inner.list(prefix);
  }
  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }
}

let s3: S3rverInstance;
let raw: S3Client;
let root: string;
let logs: string;
let dataDir: string;
let clock: ManualClock;
let prefix: string;
let n = 0;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  s3 = await startS3rver();
  raw = rawS3Client(s3);
});

afterAll(async () => {
  raw?.destroy();
  await s3?.stop();
});

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'overseer-shipper-s3-'));
  logs = join(root, 'logs');
  dataDir = join(root, 'data');
  await mkdir(logs);
  clock = new ManualClock(Date.now());
  prefix = `t${++n}/`; // each test its own part of the bucket
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await rm(root, { recursive: true, force: true });
});

function s3Store(over: Partial<S3StoreOptions> = {}): Counting {
  const store = s3TestStore(s3, prefix, over);
  cleanups.push(() => store.stop());
  return new Counting(store);
}

function make(store: ObjectStore, over: Partial<LogShipperOptions> = {}) {
  const t = testShipper(
    { dirs: [logs], dataDir, host: 'web-1', localRetentionMs: DAY, prefix, ...over },
    { store, clock, logger, random: () => 0.5 },
  );
  cleanups.push(() => t.shipper.stop({ deadlineMs: 1000 }));
  return t;
}

const rotated = (seq: number, data: Buffer) => writeRotated(logs, T0, seq, data);

const keyOf = (file: string) =>
  `${prefix}api/web-1/2025/01/02/13/${file.slice(file.lastIndexOf('/') + 1)}.gz`;

const listKeys = () => bucketKeys(raw, s3, prefix);
const object = (key: string) => gunzippedObject(raw, s3, key);

const outboxFiles = async () => {
  const dir = join(dataDir, 'logs', 'outbox');
  return existsSync(dir) ? readdir(dir) : [];
};

describe('LogShipper with S3 (s3rver)', () => {
  it('uploads rotated files with their sha256 in metadata, confirmed by HEAD, and deletes the sources', async () => {
    const datas = [0, 1].map((i) => Buffer.from(`{"msg":"s3 line ${i}"}\n`.repeat(3000)));
    const files = [await rotated(0, datas[0]!), await rotated(1, datas[1]!)];
    const { shipper } = make(s3Store());

    expect(await shipper.shipOnce()).toMatchObject({ uploaded: 2, sourcesDeleted: 2, failed: 0 });

    expect(await listKeys()).toEqual(files.map(keyOf));
    const rows = await shipper.status();
    for (const [i, f] of files.entries()) {
      expect(existsSync(f)).toBe(false);
      expect((await object(keyOf(f))).equals(datas[i]!)).toBe(true);
      const head = await raw.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: keyOf(f) }));
      expect(rows[i]).toMatchObject({ state: 'uploaded', key: keyOf(f), gzBytes: head.ContentLength });
      expect(head.Metadata?.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('backs off while S3 is down, alarms, deletes nothing, then uploads every object exactly once', async () => {
    const store = s3Store();
    const { shipper, errorCount } = make(store, {
      maxBacklogBytes: 50_000,
      backoff: { baseMs: 1000, maxMs: 4000 },
    });
    await s3.crash();
    try {
      const files: string[] = [];
      for (let i = 0; i < 4; i++) files.push(await rotated(i, randomBytes(10_000)));
      const r1 = await shipper.shipOnce();
      expect(r1).toMatchObject({ compressed: 4, uploaded: 0 });
      expect(r1.failed).toBeGreaterThan(0);
      expect(await errorCount(ErrorCodes.LOG_STORE_UNREACHABLE)).toBe(r1.failed);
      expect(r1.backlog).toMatchObject({ files: 4, high: true, overLimit: false });
      const alarms = shipper.alarms();
      expect(alarms.map((a) => [a.alertname, a.labels.severity])).toEqual([
        ['OverseerLogBacklogHigh', 'warning'],
      ]);
      clock.advance(4000);
      const r2 = await shipper.shipOnce();
      expect(r2.failed).toBeGreaterThan(0);
      expect(await outboxFiles()).toHaveLength(4);

      await s3.restart();
      const unshipped = async () => (await shipper.status()).some((r) => r.state !== 'uploaded');
      for (let i = 0; i < 3 && (await unshipped()); i++) {
        clock.advance(4000);
        await shipper.shipOnce();
      }
      expect((await shipper.status()).map((r) => r.state)).toEqual(Array(4).fill('uploaded'));
      expect(await listKeys()).toEqual(files.map(keyOf).sort());
      expect([...store.puts.values()]).toEqual([1, 1, 1, 1]);
      expect(shipper.alarms()).toEqual([]);
      expect(await outboxFiles()).toHaveLength(4);
    } finally {
      await s3.restart().catch(() => undefined);
    }
  });

  it('gives up on a hung S3 within its timeouts and ships once it answers again', async () => {
    await rotated(0, Buffer.from('hung\n'.repeat(100)));
    const { shipper } = make(s3Store(), { backoff: { baseMs: 1000, maxMs: 1000 } });
    s3.pause();
    try {
      const t = Date.now();
      expect(await shipper.shipOnce()).toMatchObject({ compressed: 1, failed: 1, uploaded: 0 });
      expect(Date.now() - t).toBeLessThan(10_000);
    } finally {
      s3.resume();
    }
    clock.advance(1000);
    expect(await shipper.shipOnce()).toMatchObject({ uploaded: 1 });
  });

  it('puts a multipart upload cut short by shutdown again after a restart', async () => {
    const data = randomBytes(16 * MiB); // does not compress: the .gz takes several parts
    const f = await rotated(0, data);
    const opts = { multipartThreshold: 5 * MiB, partSize: 5 * MiB, queueSize: 1 };
    const { shipper } = make(s3Store(opts));
    let stopping: Promise<void> | undefined;
    const r = await shipper.shipOnce({
      onProgress: (e: ShipEvent) => {
        if (e.type === 'uploading' && e.sentBytes > 0) stopping ??= shipper.stop({ deadlineMs: 0 });
      },
    });
    await stopping;
    expect(r).toMatchObject({ compressed: 1, uploaded: 0, failed: 0 });
    expect((await shipper.status())[0]).toMatchObject({ state: 'compressed', attempts: 0 });
    expect(await listKeys()).toEqual([]);

    const store = s3Store(opts);
    const { shipper: next } = make(store);
    expect(await next.shipOnce()).toMatchObject({ uploaded: 1, compressed: 0 });
    expect(store.puts.get(keyOf(f))).toBe(1);
    expect((await object(keyOf(f))).equals(data)).toBe(true);
  });
});
