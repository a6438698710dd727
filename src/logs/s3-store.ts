import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Logger } from 'pino';
import { ErrorCodes, OverseerError } from '../errors/index.js';
import { assertSafeKey } from './object-keys.js';
import type { ObjectStore, PutOptions, StoredObject } from './object-store.js';

const MiB = 1024 * 1024;
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);
/** S3's smallest part (except the last) and its largest part count. */
const MIN_PART_SIZE = 5 * MiB;
const MAX_PARTS = 10_000;

export interface S3StoreOptions {
  bucket: string;
  /**
   * The part of the bucket this store owns: shown in `describe` and the scope of `abortIncompleteUploads`.
   * Keys given to put/head/list/delete are whole keys; the key template puts the prefix in (`{prefix}`).
   */
  prefix?: string;
  region: string;
  endpoint?: string;
  forcePathStyle?: boolean;
  /**
   * `WHEN_SUPPORTED` (the SDK default) adds CRC32 checksums; `WHEN_REQUIRED` sends them only where S3
   * demands one. s3rver and some other S3-compatible servers store an aws-chunked (checksum-trailer)
   * body as is, framing included: use `WHEN_REQUIRED` for them.
   */
  requestChecksumCalculation: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED';
  /** Absent: the SDK's default chain (AWS_* env, profile, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Files up to this size go in one PutObject (read into memory first); larger ones in parts. 16 MiB. */
  multipartThreshold?: number;
  /** Bytes per part, at least 5 MiB (raised as needed to stay within 10,000 parts). 8 MiB. */
  partSize?: number;
  /** Parts in flight at once; memory is about queueSize × partSize. 2. */
  queueSize?: number;
  /** Keys per ListObjectsV2 page (S3's maximum is 1000). */
  listPageSize?: number;
  /** Attempts per request, retries included (SDK default 3). */
  maxAttempts?: number;
  /** Give up connecting after this long. 5 s. */
  connectTimeoutMs?: number;
  /** Give up on a request whose socket has been silent this long (a hung server). 30 s. */
  idleTimeoutMs?: number;
}

export interface S3StoreDeps {
  logger: Logger;
  /** Tests may pass their own; otherwise one is built from the options. */
  client?: S3Client;
}

/**
 * Log objects in S3 (or an S3-compatible server). Uploads stream from disk through lib-storage: one
 * PutObject up to `multipartThreshold`, a multipart upload beyond it; the sha256 goes in the object's
 * metadata (`x-amz-meta-sha256`) for `head` to report.
 *
 * A multipart upload cut short by a crash is not resumed: the next put of the key starts a new one. Its
 * parts stay billed until something aborts them: `abortIncompleteUploads`, or (better) a bucket lifecycle
 * rule `AbortIncompleteMultipartUpload`.
 */
export class S3ObjectStore implements ObjectStore {
  readonly describe: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly threshold: number;
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly pageSize: number;
  private readonly log: Logger;

  constructor(opts: S3StoreOptions, deps: S3StoreDeps) {
    this.bucket = opts.bucket;
    this.prefix = opts.prefix ?? '';
    this.describe = `s3://${opts.bucket}/${this.prefix}`;
    this.threshold = Math.max(opts.multipartThreshold ?? 16 * MiB, 0);
    this.partSize = Math.max(opts.partSize ?? 8 * MiB, MIN_PART_SIZE);
    this.queueSize = Math.max(Math.floor(opts.queueSize ?? 2), 1);
    this.pageSize = Math.min(Math.max(Math.floor(opts.listPageSize ?? 1000), 1), 1000);
    this.log = deps.logger;
    this.client =
      deps.client ??
      new S3Client({
        region: opts.region,
        forcePathStyle: opts.forcePathStyle ?? false,
        requestChecksumCalculation: opts.requestChecksumCalculation,
        // Absent, not undefined: an explicit undefined can shadow the SDK's defaults.
        ...(opts.endpoint === undefined ? {} : { endpoint: opts.endpoint }),
        ...(opts.credentials === undefined ? {} : { credentials: opts.credentials }),
        ...(opts.maxAttempts === undefined ? {} : { maxAttempts: opts.maxAttempts }),
        requestHandler: {
          connectionTimeout: opts.connectTimeoutMs ?? 5000,
          socketTimeout: opts.idleTimeoutMs ?? 30_000,
        },
      });
  }

  private fail(op: S3Op, key: string, cause: unknown): OverseerError {
    return s3Failure(op, `s3://${this.bucket}/${key}`, cause);
  }

  async put(key: string, file: string, opts: PutOptions): Promise<void> {
    assertSafeKey(key);
    opts.signal?.throwIfAborted();
    const fh = await openSource(file, opts.size);
    const body = fh.createReadStream({ autoClose: false });
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentLength: opts.size,
        Metadata: { sha256: opts.sha256 },
      },
      // One part as large as the file makes lib-storage send a single PutObject.
      partSize:
        opts.size <= this.threshold
          ? Math.max(opts.size, MIN_PART_SIZE)
          : Math.max(this.partSize, Math.ceil(opts.size / MAX_PARTS)),
      queueSize: this.queueSize,
      // lib-storage would abort by itself, but a failed abort (s3rver answers 405) would then replace
      // the error that matters; we abort ourselves below.
      leavePartsOnError: true,
    });
    if (opts.onProgress) {
      const report = opts.onProgress;
      upload.on('httpUploadProgress', (p) => p.loaded !== undefined && report(p.loaded));
    }
    const onAbort = (): void => void upload.abort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await upload.done();
    } catch (cause) {
      if (upload.uploadId !== undefined) await this.abortUpload(key, upload.uploadId);
      if (opts.signal?.aborted) throw opts.signal.reason;
      throw this.fail('put', key, cause);
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      body.destroy();
      await fh.close();
    }
  }

  /**
   * Best effort: S3 keeps (and bills) the parts of an unfinished upload until it is aborted. Some servers
   * cannot abort (s3rver: 405); the parts then wait for a lifecycle rule. Parts still in flight when
   * lib-storage gives up can land after the abort; a lifecycle rule catches those too.
   */
  private async abortUpload(key: string, uploadId: string): Promise<boolean> {
    try {
      await this.client.send(
        new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }),
      );
      return true;
    } catch (e) {
      this.log.warn(
        { bucket: this.bucket, key, uploadId, err: describeSdkError(e), unsupported: isUnsupported(e) },
        'could not abort a multipart upload; its parts stay until a lifecycle rule removes them',
      );
      return false;
    }
  }

  async head(key: string): Promise<StoredObject | undefined> {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { key, size: out.ContentLength ?? 0, sha256: out.Metadata?.sha256 };
    } catch (cause) {
      if (isMissing(cause)) return undefined;
      throw this.fail('head', key, cause);
    }
  }

  /** ListObjectsV2 returns no metadata: `sha256` is undefined here; `head` a key for it. */
  async *list(prefix: string): AsyncIterable<StoredObject> {
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            ContinuationToken: token,
            MaxKeys: this.pageSize,
          }),
        );
      } catch (cause) {
        throw this.fail('list', prefix, cause);
      }
      for (const o of page.Contents ?? []) {
        if (o.Key !== undefined) yield { key: o.Key, size: o.Size ?? 0, sha256: undefined };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (cause) {
      throw this.fail('delete', key, cause);
    }
  }

  /**
   * Aborts multipart uploads under the store's prefix started before `before` (pick a time no live upload
   * can be that old, e.g. a day ago; other replicas may be uploading). Servers without
   * ListMultipartUploads (s3rver) report `supported: false`.
   */
  async abortIncompleteUploads(before: Date): Promise<{ aborted: number; supported: boolean }> {
    let aborted = 0;
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new ListMultipartUploadsCommand({
            Bucket: this.bucket,
            Prefix: this.prefix,
            KeyMarker: keyMarker,
            UploadIdMarker: uploadIdMarker,
          }),
        );
      } catch (cause) {
        if (isUnsupported(cause)) return { aborted, supported: false };
        throw this.fail('cleanup', this.prefix, cause);
      }
      for (const u of page.Uploads ?? []) {
        if (u.Key === undefined || u.UploadId === undefined || u.Initiated === undefined) continue;
        if (u.Initiated.getTime() >= before.getTime()) continue;
        if (await this.abortUpload(u.Key, u.UploadId)) aborted++;
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (keyMarker);
    return { aborted, supported: true };
  }

  /** Closes the client's sockets. */
  stop(): void {
    this.client.destroy();
  }
}

/** Opens the file to upload, failing early (not mid-request) when it is missing or not the size vouched for. */
async function openSource(file: string, size: number): Promise<FileHandle> {
  let fh: FileHandle | undefined;
  let problem: string;
  let cause: unknown;
  try {
    fh = await open(file, 'r');
    const actual = (await fh.stat()).size;
    if (actual === size) return fh;
    problem = `has ${actual} bytes, not the ${size} given`;
  } catch (e) {
    problem = `cannot be read: ${(e as Error).message}`;
    cause = e;
  }
  await fh?.close();
  throw new OverseerError(ErrorCodes.LOG_UPLOAD_SOURCE_UNREADABLE, `the file to upload ${file} ${problem}`, {
    hint: 'files are uploaded once rotated and compressed; something changed or removed this one',
    cause,
  });
}

type S3Op = 'put' | 'head' | 'list' | 'delete' | 'cleanup';

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  errors?: unknown[];
  $metadata?: { httpStatusCode?: number };
}

function status(e: unknown): number | undefined {
  return (e as SdkError | undefined)?.$metadata?.httpStatusCode;
}

/** `Name (HTTP 503): message`, for messages and logs. */
function describeSdkError(e: unknown): string {
  const err = (e ?? {}) as SdkError;
  const code = status(e) === undefined ? (err.code ?? '') : `HTTP ${status(e)}`;
  return `${err.name ?? 'Error'}${code ? ` (${code})` : ''}: ${err.message ?? String(e)}`;
}

function isMissing(e: unknown): boolean {
  const name = (e as SdkError | undefined)?.name;
  return name === 'NotFound' || name === 'NoSuchKey' || (status(e) === 404 && name !== 'NoSuchBucket');
}

/** The server does not implement the call (s3rver: ListMultipartUploads 501, AbortMultipartUpload 405). */
function isUnsupported(e: unknown): boolean {
  const name = (e as SdkError | undefined)?.name;
  return name === 'NotImplemented' || name === 'MethodNotAllowed' || status(e) === 405 || status(e) === 501;
}

/** No HTTP answer at all: refused, reset, timed out, name not resolved. */
function isUnreachable(e: unknown): boolean {
  const err = (e ?? {}) as SdkError;
  if (status(e) !== undefined) return false;
  if (err.name === 'TimeoutError' || (err.code !== undefined && NETWORK_CODES.has(err.code))) return true;
  // Node's happy-eyeballs connect wraps one error per address tried.
  return Array.isArray(err.errors) && err.errors.some(isUnreachable);
}

const OP_WORDS: Record<S3Op, string> = {
  put: 'upload to',
  head: 'HEAD of',
  list: 'listing of',
  delete: 'delete of',
  cleanup: 'listing of incomplete uploads under',
};

/** The coded error for a failed S3 call on `where` (`s3://bucket/key`). */
function s3Failure(op: S3Op, where: string, cause: unknown): OverseerError {
  const message = `${OP_WORDS[op]} ${where} failed: ${describeSdkError(cause)}`;
  const name = (cause as SdkError | undefined)?.name;
  const opts = { cause, details: [`S3 error: ${name ?? 'unknown'}`] };
  if (isUnreachable(cause)) {
    return new OverseerError(ErrorCodes.LOG_STORE_UNREACHABLE, message, {
      ...opts,
      hint: 'check logs.s3.endpoint / region and that the S3 endpoint answers from this host; uploads are retried later',
    });
  }
  if (name === 'NoSuchBucket') {
    return new OverseerError(ErrorCodes.LOG_STORE_BUCKET_MISSING, message, {
      ...opts,
      hint: 'create the bucket or fix logs.s3.bucket (and region)',
    });
  }
  if (
    status(cause) === 403 ||
    name === 'AccessDenied' ||
    name === 'InvalidAccessKeyId' ||
    name === 'SignatureDoesNotMatch'
  ) {
    return new OverseerError(ErrorCodes.LOG_STORE_ACCESS_DENIED, message, {
      ...opts,
      hint: 'check the AWS credentials (env AWS_ACCESS_KEY_ID / AWS_PROFILE) and that their policy allows s3:PutObject, GetObject, ListBucket and DeleteObject on the prefix',
    });
  }
  const retry = 'the operation is retried later; if it keeps failing, look at the S3 error named above';
  switch (op) {
    case 'put':
      return new OverseerError(ErrorCodes.LOG_UPLOAD_FAILED, message, { ...opts, hint: retry });
    case 'head':
      return new OverseerError(ErrorCodes.LOG_STORE_HEAD_FAILED, message, { ...opts, hint: retry });
    case 'list':
      return new OverseerError(ErrorCodes.LOG_STORE_LIST_FAILED, message, { ...opts, hint: retry });
    case 'delete':
      return new OverseerError(ErrorCodes.LOG_STORE_DELETE_FAILED, message, { ...opts, hint: retry });
    case 'cleanup':
      return new OverseerError(ErrorCodes.LOG_STORE_CLEANUP_FAILED, message, {
        ...opts,
        hint: 'a bucket lifecycle rule AbortIncompleteMultipartUpload does the same without this call',
      });
  }
}
