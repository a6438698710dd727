import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../test/helpers/pg-cluster.js';
import { startS3rver, type S3rverInstance, rawS3Client } from '../../test/helpers/s3rver.js';
import { ErrorCodes, OverseerError } from '../errors/index.js';
import type { StoredObject } from './object-store.js';
import { S3ObjectStore, type S3StoreOptions } from './s3-store.js';

const MiB = 1024 * 1024;
const logger = pino({ level: 'silent' });

let s3: S3rverInstance;
let tmp: string;
let raw: S3Client;

function options(over: Partial<S3StoreOptions> = {}): S3StoreOptions {
  return {
    bucket: s3.bucket,
    prefix: 'logs/',
    region: s3.region,
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: s3.credentials,
    // s3rver stores an aws-chunked body (the SDK's default checksum framing) with its framing.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    ...over,
  };
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function source(name: string, data: Buffer): { file: string; opts: { sha256: string; size: number } } {
  const file = path.join(tmp, name);
  writeFileSync(file, data);
  return { file, opts: { sha256: sha256(data), size: data.length } };
}

/** The stored bytes' sha256, read back with a plain GetObject. */
async function storedSha256(key: string): Promise<string> {
  const out = await raw.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
  return sha256(Buffer.from(await out.Body!.transformToByteArray()));
}

async function all(it: AsyncIterable<StoredObject>): Promise<StoredObject[]> {
  const out: StoredObject[] = [];
  for await (const o of it) out.push(o);
  return out;
}

async function failure(p: Promise<unknown>): Promise<OverseerError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof OverseerError) return e;
    throw e;
  }
  throw new Error('expected a failure');
}

beforeAll(async () => {
  s3 = await startS3rver();
  tmp = mkdtempSync(path.join(tmpdir(), 'overseer-s3-store-'));
  raw = rawS3Client(s3);
});

afterAll(async () => {
  raw?.destroy();
  await s3?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('S3ObjectStore against s3rver', () => {
  it('describes itself as an s3 URL', () => {
    expect(new S3ObjectStore(options(), { logger }).describe).toBe(`s3://${s3.bucket}/logs/`);
  });

  it('puts a small file in one PutObject; head and the stored bytes match', async () => {
    const store = new S3ObjectStore(options(), { logger });
    const data = randomBytes(300 * 1024);
    const { file, opts } = source('small', data);
    const progress: number[] = [];
    await store.put('logs/api/h1/2024/03/05/07/small.gz', file, {
      ...opts,
      onProgress: (n) => progress.push(n),
    });
    expect(await store.head('logs/api/h1/2024/03/05/07/small.gz')).toEqual({
      key: 'logs/api/h1/2024/03/05/07/small.gz',
      ...opts,
    });
    expect(await storedSha256('logs/api/h1/2024/03/05/07/small.gz')).toBe(opts.sha256);
    expect(progress.at(-1)).toBe(data.length);
    store.stop();
  });

  it('puts a 20 MiB file in 5 MiB parts; head and the stored bytes match', async () => {
    const store = new S3ObjectStore(options({ multipartThreshold: 8 * MiB, partSize: 5 * MiB }), { logger });
    const data = randomBytes(20 * MiB + 123);
    const { file, opts } = source('big', data);
    const progress: number[] = [];
    await store.put('logs/big.gz', file, { ...opts, onProgress: (n) => progress.push(n) });
    expect(await store.head('logs/big.gz')).toEqual({ key: 'logs/big.gz', ...opts });
    expect(await storedSha256('logs/big.gz')).toBe(opts.sha256);
    // One report per part (5 parts), the last one the whole file.
    expect(progress.length).toBeGreaterThanOrEqual(5);
    expect(progress.at(-1)).toBe(data.length);
    store.stop();
  });

  it('re-puts the same key idempotently', async () => {
    const store = new S3ObjectStore(options(), { logger });
    const { file, opts } = source('again', randomBytes(1000));
    await store.put('logs/again.gz', file, opts);
    await store.put('logs/again.gz', file, opts);
    expect(await store.head('logs/again.gz')).toEqual({ key: 'logs/again.gz', ...opts });
    expect(await storedSha256('logs/again.gz')).toBe(opts.sha256);
    expect((await all(store.list('logs/again'))).map((o) => o.key)).toEqual(['logs/again.gz']);
    store.stop();
  });

  it('puts an empty file', async () => {
    const store = new S3ObjectStore(options(), { logger });
    const { file, opts } = source('empty', Buffer.alloc(0));
    await store.put('logs/empty.gz', file, opts);
    expect(await store.head('logs/empty.gz')).toEqual({ key: 'logs/empty.gz', ...opts });
    store.stop();
  });

  it('refuses an unsafe key before any request', async () => {
    const store = new S3ObjectStore(options(), { logger });
    const { file, opts } = source('unsafe', Buffer.from('x'));
    expect((await failure(store.put('logs/../x.gz', file, opts))).code).toBe(ErrorCodes.LOG_KEY_UNSAFE);
    store.stop();
  });

  it('heads a missing key as undefined', async () => {
    const store = new S3ObjectStore(options(), { logger });
    expect(await store.head('logs/nothing-here.gz')).toBeUndefined();
    store.stop();
  });

  it('lists every page of a prefix', async () => {
    const store = new S3ObjectStore(options({ listPageSize: 4 }), { logger });
    const { file, opts } = source('one', Buffer.from('x'));
    const keys = Array.from({ length: 25 }, (_, i) => `logs/paged/${String(i).padStart(2, '0')}.gz`);
    await Promise.all(keys.map((k) => store.put(k, file, opts)));
    await store.put('logs/paged-not/0.gz', file, opts);
    const listed = await all(store.list('logs/paged/'));
    expect(listed.map((o) => o.key)).toEqual(keys);
    expect(listed[0]).toEqual({ key: keys[0], size: 1, sha256: undefined });
    store.stop();
  });

  it('deletes a key, and a missing key without error', async () => {
    const store = new S3ObjectStore(options(), { logger });
    const { file, opts } = source('del', Buffer.from('bye'));
    await store.put('logs/del.gz', file, opts);
    await store.delete('logs/del.gz');
    expect(await store.head('logs/del.gz')).toBeUndefined();
    await store.delete('logs/del.gz');
    store.stop();
  });

  it('fails a put with a coded error on a missing bucket, naming bucket and key', async () => {
    const store = new S3ObjectStore(options({ bucket: 'no-such-bucket' }), { logger });
    const { file, opts } = source('nb', Buffer.from('x'));
    const err = await failure(store.put('logs/x.gz', file, opts));
    expect(err.code).toBe(ErrorCodes.LOG_STORE_BUCKET_MISSING);
    expect(err.message).toContain('s3://no-such-bucket/logs/x.gz');
    expect(err.message).toContain('NoSuchBucket');
    store.stop();
  });

  it('fails with a coded error on an unknown access key', async () => {
    // s3rver checks the key id but not V4 signatures, so a wrong secret would pass.
    const store = new S3ObjectStore(
      options({ credentials: { accessKeyId: 'NOBODY', secretAccessKey: 'x' } }),
      {
        logger,
      },
    );
    const { file, opts } = source('denied', Buffer.from('x'));
    const errors = [
      await failure(store.head('logs/x.gz')),
      await failure(store.put('logs/x.gz', file, opts)),
    ];
    for (const err of errors) {
      expect(err.code).toBe(ErrorCodes.LOG_STORE_ACCESS_DENIED);
      expect(err.hint).toContain('credentials');
    }
    expect(errors[1]!.message).toContain('InvalidAccessKeyId');
    store.stop();
  });

  it('refuses a source file that is missing or not the size given, before any request', async () => {
    const store = new S3ObjectStore(options(), { logger });
    const { file, opts } = source('sz', Buffer.from('abc'));
    expect((await failure(store.put('logs/sz.gz', file, { ...opts, size: 4 }))).code).toBe(
      ErrorCodes.LOG_UPLOAD_SOURCE_UNREADABLE,
    );
    expect((await failure(store.put('logs/sz.gz', `${file}.missing`, opts))).code).toBe(
      ErrorCodes.LOG_UPLOAD_SOURCE_UNREADABLE,
    );
    expect(await store.head('logs/sz.gz')).toBeUndefined();
    store.stop();
  });

  it('rejects with the abort reason when aborted mid-upload; a later put of the key starts over', async () => {
    const warnings: unknown[] = [];
    const spy = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line)) });
    const store = new S3ObjectStore(
      options({ multipartThreshold: 5 * MiB, partSize: 5 * MiB, queueSize: 1 }),
      {
        logger: spy,
      },
    );
    const data = randomBytes(16 * MiB);
    const { file, opts } = source('aborted', data);
    const ac = new AbortController();
    const put = store.put('logs/aborted.gz', file, {
      ...opts,
      signal: ac.signal,
      onProgress: () => ac.abort(new Error('shutting down')),
    });
    await expect(put).rejects.toThrow('shutting down');
    expect(await store.head('logs/aborted.gz')).toBeUndefined();
    // s3rver cannot abort a multipart upload (405): logged, not thrown.
    expect(warnings).toEqual([expect.objectContaining({ key: 'logs/aborted.gz', unsupported: true })]);
    await store.put('logs/aborted.gz', file, opts);
    expect(await storedSha256('logs/aborted.gz')).toBe(opts.sha256);
    store.stop();
  });

  it('reports abortIncompleteUploads as unsupported on s3rver', async () => {
    const store = new S3ObjectStore(options(), { logger });
    expect(await store.abortIncompleteUploads(new Date())).toEqual({ aborted: 0, supported: false });
    store.stop();
  });

  it('fails every operation with LOG_STORE_UNREACHABLE when nothing listens', async () => {
    const port = await freePort();
    const store = new S3ObjectStore(options({ endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1 }), {
      logger,
    });
    const { file, opts } = source('down', Buffer.from('x'));
    const errors = [
      await failure(store.put('logs/down.gz', file, opts)),
      await failure(store.head('logs/down.gz')),
      await failure(all(store.list('logs/'))),
      await failure(store.delete('logs/down.gz')),
    ];
    for (const err of errors) {
      expect(err.code).toBe(ErrorCodes.LOG_STORE_UNREACHABLE);
      expect(err.message).toContain(`s3://${s3.bucket}/logs/`);
      expect(err.message).toContain('ECONNREFUSED');
    }
    store.stop();
  });

  it('recovers after s3rver was down: crash, unreachable, restart, the object is still there', async () => {
    const store = new S3ObjectStore(options({ maxAttempts: 1 }), { logger });
    const { file, opts } = source('crash', randomBytes(2000));
    await store.put('logs/crash.gz', file, opts);
    await s3.crash();
    expect((await failure(store.head('logs/crash.gz'))).code).toBe(ErrorCodes.LOG_STORE_UNREACHABLE);
    await s3.restart();
    expect(await store.head('logs/crash.gz')).toEqual({ key: 'logs/crash.gz', ...opts });
    store.stop();
  });

  it('times out on a hung (paused) s3rver', async () => {
    const store = new S3ObjectStore(options({ maxAttempts: 1, idleTimeoutMs: 500 }), { logger });
    s3.pause();
    try {
      const started = Date.now();
      const err = await failure(store.head('logs/crash.gz'));
      expect(err.code).toBe(ErrorCodes.LOG_STORE_UNREACHABLE);
      expect(err.message).toContain('TimeoutError');
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      s3.resume();
    }
    expect(await store.head('logs/nothing.gz')).toBeUndefined();
    store.stop();
  });
});

function sdkError(name: string, status: number): Error {
  return Object.assign(new Error(`${name} from the fault injector`), {
    name,
    $metadata: { httpStatusCode: status },
  });
}

/** A client on s3rver whose `send` first asks `inject`: an Error is thrown, another value answers. */
function faultyClient(inject: (cmd: unknown) => unknown): { client: S3Client; sent: unknown[] } {
  const client = new S3Client({ ...options(), requestChecksumCalculation: 'WHEN_REQUIRED' });
  const realSend = client.send.bind(client) as (cmd: unknown) => Promise<unknown>;
  const sent: unknown[] = [];
  const send = (cmd: unknown): Promise<unknown> => {
    sent.push(cmd);
    const answer = inject(cmd);
    if (answer instanceof Error) return Promise.reject(answer);
    return answer === undefined ? realSend(cmd) : Promise.resolve(answer);
  };
  client.send = send as S3Client['send'];
  return { client, sent };
}

describe('S3ObjectStore with injected S3 faults', () => {
  it('fails a multipart put whose part fails with LOG_UPLOAD_FAILED, and aborts the upload', async () => {
    const { client, sent } = faultyClient((cmd) =>
      cmd instanceof UploadPartCommand && cmd.input.PartNumber === 2
        ? sdkError('ServiceUnavailable', 503)
        : undefined,
    );
    const store = new S3ObjectStore(
      options({ multipartThreshold: 5 * MiB, partSize: 5 * MiB, queueSize: 1 }),
      {
        logger,
        client,
      },
    );
    const { file, opts } = source('part-fails', randomBytes(12 * MiB));
    const err = await failure(store.put('logs/part-fails.gz', file, opts));
    expect(err.code).toBe(ErrorCodes.LOG_UPLOAD_FAILED);
    expect(err.message).toBe(
      `upload to s3://${s3.bucket}/logs/part-fails.gz failed: ServiceUnavailable (HTTP 503): ServiceUnavailable from the fault injector`,
    );
    expect(sent.filter((c) => c instanceof AbortMultipartUploadCommand)).toHaveLength(1);
    expect(await store.head('logs/part-fails.gz')).toBeUndefined();
    store.stop();
  });

  it.each([
    ['head', HeadObjectCommand, ErrorCodes.LOG_STORE_HEAD_FAILED],
    ['list', ListObjectsV2Command, ErrorCodes.LOG_STORE_LIST_FAILED],
    ['delete', DeleteObjectCommand, ErrorCodes.LOG_STORE_DELETE_FAILED],
  ] as const)('fails %s on a server error with its own code', async (op, command, code) => {
    const { client } = faultyClient((cmd) =>
      cmd instanceof command ? sdkError('InternalError', 500) : undefined,
    );
    const store = new S3ObjectStore(options(), { logger, client });
    const run = {
      head: () => store.head('logs/x.gz'),
      list: () => all(store.list('logs/')),
      delete: () => store.delete('logs/x.gz'),
    };
    const err = await failure(run[op]());
    expect(err.code).toBe(code);
    expect(err.message).toContain('InternalError (HTTP 500)');
    store.stop();
  });

  it('aborts incomplete uploads older than the cutoff, following every page', async () => {
    const old = new Date('2024-01-01T00:00:00Z');
    const cutoff = new Date('2024-01-02T00:00:00Z');
    const lists: unknown[] = [];
    const { client, sent } = faultyClient((cmd) => {
      if (cmd instanceof ListMultipartUploadsCommand) {
        lists.push(cmd.input);
        return cmd.input.KeyMarker === undefined
          ? {
              IsTruncated: true,
              NextKeyMarker: 'logs/b',
              NextUploadIdMarker: 'u2',
              Uploads: [
                { Key: 'logs/a', UploadId: 'u1', Initiated: old },
                { Key: 'logs/b', UploadId: 'u2', Initiated: cutoff },
              ],
            }
          : { IsTruncated: false, Uploads: [{ Key: 'logs/c', UploadId: 'u3', Initiated: old }] };
      }
      // u1 aborts; u3 goes to s3rver, which answers 405 and so does not count.
      if (cmd instanceof AbortMultipartUploadCommand && cmd.input.UploadId === 'u1') return {};
      return undefined;
    });
    const store = new S3ObjectStore(options(), { logger, client });
    expect(await store.abortIncompleteUploads(cutoff)).toEqual({ aborted: 1, supported: true });
    expect(lists).toEqual([
      expect.objectContaining({ Prefix: 'logs/', KeyMarker: undefined }),
      expect.objectContaining({ Prefix: 'logs/', KeyMarker: 'logs/b', UploadIdMarker: 'u2' }),
    ]);
    const abortedIds = sent.flatMap((c) =>
      c instanceof AbortMultipartUploadCommand ? [c.input.UploadId] : [],
    );
    expect(abortedIds).toEqual(['u1', 'u3']);
    store.stop();
  });

  it('fails abortIncompleteUploads on a server error with its own code', async () => {
    const { client } = faultyClient((cmd) =>
      cmd instanceof ListMultipartUploadsCommand ? sdkError('InternalError', 500) : undefined,
    );
    const store = new S3ObjectStore(options(), { logger, client });
    expect((await failure(store.abortIncompleteUploads(new Date()))).code).toBe(
      ErrorCodes.LOG_STORE_CLEANUP_FAILED,
    );
    store.stop();
  });
});

describe('s3rver and the SDK default checksums', () => {
  // With WHEN_SUPPORTED a streamed body goes aws-chunked with a CRC32 trailer; s3rver stores the framing.
  it.each([
    ['WHEN_SUPPORTED', false],
    ['WHEN_REQUIRED', true],
  ] as const)('a streamed PutObject with %s is stored intact: %s', async (mode, intact) => {
    const data = randomBytes(64 * 1024);
    const { file } = source(`pitfall-${mode}`, data);
    const client = new S3Client({ ...options(), requestChecksumCalculation: mode });
    try {
      await client.send(
        new PutObjectCommand({
          Bucket: s3.bucket,
          Key: `pitfall/${mode}`,
          Body: createReadStream(file),
          ContentLength: data.length,
        }),
      );
    } finally {
      client.destroy();
    }
    expect((await storedSha256(`pitfall/${mode}`)) === sha256(data)).toBe(intact);
  });

  it.each([
    ['one PutObject', 300 * 1024],
    ['multipart', 11 * MiB],
  ])(
    'S3ObjectStore.put (%s) stays intact even with WHEN_SUPPORTED: it sends buffered parts',
    async (_how, size) => {
      const store = new S3ObjectStore(
        options({
          requestChecksumCalculation: 'WHEN_SUPPORTED',
          multipartThreshold: 5 * MiB,
          partSize: 5 * MiB,
        }),
        { logger },
      );
      const { file, opts } = source(`supported-${size}`, randomBytes(size));
      await store.put(`supported/${size}`, file, opts);
      expect(await storedSha256(`supported/${size}`)).toBe(opts.sha256);
      expect(await store.head(`supported/${size}`)).toEqual({ key: `supported/${size}`, ...opts });
      store.stop();
    },
  );
});
