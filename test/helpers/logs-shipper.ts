import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createErrorCounter } from '../../src/instrument.js';
import { rotatedName } from '../../src/logs/log-names.js';
import { S3ObjectStore, type S3StoreOptions } from '../../src/logs/s3-store.js';
import type { LogShipperOptions } from '../../src/logs/ship-options.js';
import { LogShipper } from '../../src/logs/shipper.js';
import type { LogShipperDeps } from '../../src/logs/ship-options.js';
import type { S3rverInstance } from './s3rver.js';

/** A LogShipper with its own registry and error counter; `errorCount(code)` reads `errors_total`. */
export function testShipper(
  options: LogShipperOptions,
  deps: Omit<LogShipperDeps, 'registry' | 'countError' | 'logger'> & { logger?: LogShipperDeps['logger'] },
): { shipper: LogShipper; registry: Registry; errorCount: (code: number) => Promise<number> } {
  const registry = new Registry();
  const errors = createErrorCounter(registry);
  const shipper = new LogShipper(options, {
    logger: pino({ level: 'silent' }),
    registry,
    countError: errors.countError,
    ...deps,
  });
  const errorCount = async (code: number): Promise<number> =>
    (await errors.counter.get()).values.find((v) => v.labels.code === String(code))?.value ?? 0;
  return { shipper, registry, errorCount };
}

/** Writes `data` as rotated file `seq` of service `service` from host web-1, started at `startMs`. */
export async function writeRotated(
  dir: string,
  startMs: number,
  seq: number,
  data: Buffer | string,
  service = 'api',
): Promise<string> {
  const file = join(dir, rotatedName({ service, startMs, host: 'web-1', seq }));
  await writeFile(file, data);
  return file;
}

/** An S3ObjectStore on s3rver that fails fast: one attempt, short timeouts, no streamed checksums. */
export function s3TestStore(
  s3: S3rverInstance,
  prefix: string,
  over: Partial<S3StoreOptions> = {},
): S3ObjectStore {
  return new S3ObjectStore(
    {
      bucket: s3.bucket,
      prefix,
      region: s3.region,
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: s3.credentials,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      maxAttempts: 1,
      connectTimeoutMs: 500,
      idleTimeoutMs: 1000,
      ...over,
    },
    { logger: pino({ level: 'silent' }) },
  );
}

/** The keys under `prefix` (one page: these tests keep fewer than 1,000), sorted. */
export async function bucketKeys(raw: S3Client, s3: S3rverInstance, prefix: string): Promise<string[]> {
  const out = await raw.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key!).sort();
}

/** An object's bytes, gunzipped. */
export async function gunzippedObject(raw: S3Client, s3: S3rverInstance, key: string): Promise<Buffer> {
  const out = await raw.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
  return gunzipSync(Buffer.from(await out.Body!.transformToByteArray()));
}
