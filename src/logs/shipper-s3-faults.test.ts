import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { PutObjectCommand } from '@aws-sdk/client-s3';
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
import type { LogShipperOptions } from './shipper.js';

/**
 * The fault list against s3rver as the store: a corrupt .gz is caught before it is uploaded, the
 * disk backlog bound raises both alarms and deletes nothing, retention (local .gz after the upload,
 * remote objects by the date in their key), and a custom key template.
 */

const DAY = 86_400_000;
const HOUR = 3_600_000;
const T0 = Date.UTC(2025, 0, 2, 13);
const logger = pino({ level: 'silent' });

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
  s3 = await startS3rver({ bucket: 'faults' });
  raw = rawS3Client(s3);
});
afterAll(async () => {
  raw?.destroy();
  await s3?.stop();
});
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'overseer-s3-faults-'));
  logs = join(root, 'logs');
  dataDir = join(root, 'data');
  await mkdir(logs);
  clock = new ManualClock(T0 + HOUR);
  prefix = `f${++n}/`;
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await rm(root, { recursive: true, force: true });
});

function make(over: Partial<LogShipperOptions> = {}) {
  const store = s3TestStore(s3, prefix, { idleTimeoutMs: 2000 });
  const t = testShipper(
    { dirs: [logs], dataDir, host: 'web-1', localRetentionMs: DAY, prefix, ...over },
    { store, clock, logger, random: () => 0.5 },
  );
  cleanups.push(() => store.stop());
  cleanups.push(() => t.shipper.stop({ deadlineMs: 1000 }));
  return t;
}

const rotated = (seq: number, data: Buffer | string) => writeRotated(logs, T0, seq, data);
const listKeys = () => bucketKeys(raw, s3, prefix);
const object = (key: string) => gunzippedObject(raw, s3, key);

const outbox = () => join(dataDir, 'logs', 'outbox');
const outboxFiles = async () => (existsSync(outbox()) ? (await readdir(outbox())).sort() : []);
const base = (f: string) => f.slice(f.lastIndexOf('/') + 1);

describe('LogShipper faults with S3 (s3rver)', () => {
  it('catches a corrupt .gz before upload: re-gzips it from its source, or keeps it out of the bucket', async () => {
    const { shipper, errorCount } = make({ backoff: { baseMs: 1000, maxMs: 1000 } });
    const kept = Buffer.from('{"msg":"still on disk"}\n'.repeat(500));
    await rotated(0, kept);
    await rotated(1, '{"msg":"only in the outbox"}\n'.repeat(500));
    await s3.crash();
    try {
      expect(await shipper.shipOnce()).toMatchObject({ compressed: 2, sourcesDeleted: 2, uploaded: 0 });
    } finally {
      await s3.restart();
    }
    // Both .gz files rot on disk; the source of the first is back (a crash before its deletion).
    const gz = await outboxFiles();
    for (const f of gz) await writeFile(join(outbox(), f), 'not gzip at all');
    await rotated(0, kept);
    clock.advance(1000);

    const r = await shipper.shipOnce();

    expect(r).toMatchObject({ uploaded: 1, failed: 1 });
    const keys = await listKeys();
    expect(keys).toEqual([expect.stringContaining('.000000.log.gz')]);
    expect((await object(keys[0]!)).equals(kept)).toBe(true);
    expect(await errorCount(ErrorCodes.LOG_SHIP_GZ_UNRECOVERABLE)).toBe(1);
    expect((await shipper.status()).map((s) => s.state)).toEqual(['uploaded', 'failed']);
  });

  it('keeps the whole backlog on disk past maxBacklogBytes, with both alarms, while S3 is down', async () => {
    const { shipper } = make({ maxBacklogBytes: 30_000, backoff: { baseMs: 1000, maxMs: 1000 } });
    await s3.crash();
    try {
      for (let i = 0; i < 4; i++) await rotated(i, randomBytes(10_000));
      const r = await shipper.shipOnce();
      expect(r.backlog).toMatchObject({ files: 4, high: true, overLimit: true });
      expect(shipper.alarms().map((a) => [a.alertname, a.labels.severity])).toEqual([
        ['OverseerLogBacklogHigh', 'warning'],
        ['OverseerLogBacklogFull', 'critical'],
      ]);
      expect(await outboxFiles()).toHaveLength(4); // over the bound, yet nothing un-uploaded is deleted
    } finally {
      await s3.restart();
    }
    clock.advance(1000);
    expect(await shipper.shipOnce({ retryNow: true })).toMatchObject({ uploaded: 4 });
    expect(shipper.alarms()).toEqual([]);
    expect(await listKeys()).toHaveLength(4);
  });

  it('deletes a local .gz only localRetention after its confirmed upload, and expires old remote objects', async () => {
    const { shipper } = make({ remoteRetentionMs: 30 * DAY, remoteExpiryIntervalMs: 1000 });
    const f = await rotated(0, 'kept a day\n');
    expect(await shipper.shipOnce()).toMatchObject({ uploaded: 1, gzDeleted: 0 });
    clock.advance(DAY - 1);
    expect(await shipper.shipOnce()).toMatchObject({ gzDeleted: 0 });
    expect(await outboxFiles()).toHaveLength(1);
    clock.advance(1);
    expect(await shipper.shipOnce()).toMatchObject({ gzDeleted: 1 });
    expect(await outboxFiles()).toEqual([]);

    // Objects some other run put: one from 2020 under the template, one that is not a template key.
    for (const key of [`${prefix}api/web-1/2020/01/01/00/api.old.log.gz`, `${prefix}README`])
      await raw.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: 'x' }));
    clock.advance(1000);
    expect(await shipper.shipOnce()).toMatchObject({ expired: 1 });
    expect(await listKeys()).toEqual([`${prefix}README`, `${prefix}api/web-1/2025/01/02/13/${base(f)}.gz`]);
    clock.set(T0 + 31 * DAY);
    expect(await shipper.shipOnce()).toMatchObject({ expired: 1 });
    expect(await listKeys()).toEqual([`${prefix}README`]);
  });

  it('names objects by a custom key template', async () => {
    const { shipper } = make({ keyTemplate: '{prefix}by-host/{host}/{YYYY}{MM}{DD}/{service}-{file}.gz' });
    const f = await rotated(0, 'templated\n');
    expect(await shipper.shipOnce()).toMatchObject({ uploaded: 1 });
    expect(await listKeys()).toEqual([`${prefix}by-host/web-1/20250102/api-${base(f)}.gz`]);
    expect((await shipper.status())[0]?.key).toBe(`${prefix}by-host/web-1/20250102/api-${base(f)}.gz`);
  });
});
